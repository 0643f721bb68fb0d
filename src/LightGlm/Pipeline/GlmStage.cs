// A pipeline stage over a contiguous block range of the real model (embedding with the first stage,
// final norm + LM head + loss with the last), holding one activation cache per in-flight micro-batch.
using LightGlm.Model;

namespace LightGlm.Pipeline;

public sealed class GlmStage : IPipelineStage
{
    readonly GlmModel _model;
    readonly Stack<ActivationCache> _free = new();
    ActivationCache?[] _inFlight = [];
    Batch[] _micro = [];
    double[] _loss = [];
    (int B, int T) _cacheShape;

    public LayerRange Range { get; }
    /// <summary>This stage's parameters are Weights[ParameterStart, ParameterEnd) (contiguous in the arena layout).</summary>
    public int ParameterStart { get; }
    public int ParameterEnd { get; }
    public GlmModel Model => _model;
    /// <summary>The loss the last stage computes (cross-entropy unless the trainer sets another).</summary>
    public ILossObjective Objective { get; set; }
    /// <summary>Caches allocated so far: the peak number of micro-batches this stage held at once.</summary>
    public int CachesAllocated { get; private set; }

    public GlmStage(GlmModel model, StageSplit split, int stage, ILossObjective? objective = null)
    {
        var c = model.Config;
        if (split.Layers != c.L) throw new ArgumentException($"stage split covers {split.Layers} blocks, the model has {c.L}");
        if (split.Stages > 1 && c.TieWordEmbeddings)
            throw new NotSupportedException("pipeline stages with tie_word_embeddings: the embedding lives on the first stage and the LM head on the last; untie them (or use --pipeline-stages 1)");
        var (first, end) = split.Range(stage);
        Range = new LayerRange(first, end, Embedding: stage == 0, Head: stage == split.Stages - 1);
        _model = model;
        Objective = objective ?? CrossEntropyObjective.Instance;
        var lay = model.Layout;
        ParameterStart = first == 0 ? 0 : lay.Blocks[first].InputNorm;
        ParameterEnd = end == c.L ? lay.TotalLength : lay.Blocks[end].InputNorm;
        _ = model.Grads; // allocate the gradient arena before threads share the model
    }

    /// <summary>Binds the step's micro-batches (all of shape (b, T); loss scales set for the global batch).</summary>
    public void SetMicroBatches(Batch[] micro)
    {
        if (micro.Length == 0) throw new ArgumentException("no micro-batches");
        var shape = (micro[0].B, micro[0].T);
        if (micro.Any(m => (m.B, m.T) != shape)) throw new ArgumentException("all micro-batches of a step must have the same shape (B, T)");
        if (shape != _cacheShape) { _free.Clear(); CachesAllocated = 0; _cacheShape = shape; }
        _micro = micro;
        if (_inFlight.Length < micro.Length) { Array.Resize(ref _inFlight, micro.Length); Array.Resize(ref _loss, micro.Length); }
    }

    bool IsFirst => Range.Embedding;
    bool IsLast => Range.Head;
    int C => _model.Config.C;

    public int MicroBatches => _micro.Length;
    public int InputLength(int m) => IsFirst ? 0 : _micro[m].B * _micro[m].T * C;
    public int OutputLength(int m) => IsLast ? 0 : _micro[m].B * _micro[m].T * C;
    public Memory<float> Gradients => _model.Grads.AsMemory(ParameterStart, ParameterEnd - ParameterStart);
    public void ZeroGradients() => Gradients.Span.Clear();
    public double Loss(int m) => IsLast ? _loss[m] : 0;
    public long CacheBytes(int m) => 4 * (_inFlight[m]?.ArenaFloats ?? 0);

    public void Forward(int m, ReadOnlySpan<float> input, Span<float> output)
    {
        var cache = _free.Count > 0 ? _free.Pop() : NewCache();
        _inFlight[m] = cache;
        if (!IsFirst) input.CopyTo(cache.Hidden(Range.FirstBlock).Span);
        double loss = _model.Forward(cache, _micro[m], IsLast ? Objective : null, Range);
        if (IsLast) _loss[m] = loss;
        else cache.Hidden(Range.EndBlock).Span.CopyTo(output);
    }

    public void Backward(int m, ReadOnlySpan<float> dOutput, Span<float> dInput)
    {
        var cache = _inFlight[m] ?? throw new InvalidOperationException($"backward of micro-batch {m} before its forward");
        if (!IsLast) dOutput.CopyTo(cache.GradHidden.Span);
        _model.Backward(cache, _micro[m], Range);
        if (!IsFirst) cache.GradHidden.Span.CopyTo(dInput);
        _inFlight[m] = null;
        _free.Push(cache); // 1F1B reuses it for the next forward: at most K−s caches ever exist
    }

    ActivationCache NewCache()
    {
        CachesAllocated++;
        return _model.CreateCache(_cacheShape.B, _cacheShape.T, Range);
    }
}
