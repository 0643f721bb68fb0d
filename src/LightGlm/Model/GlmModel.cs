// The GLM/LLaMA-family transformer: config + parameter/gradient arenas + layers; forward/backward over a batch or a layer range.
using LightGlm.Model.Inference;
using LightGlm.Model.Layers;
using LightGlm.Model.Lora;
using LightGlm.Model.Ops;

namespace LightGlm.Model;

/// <summary>
/// Parameters live in one float[] (<see cref="Weights"/>), gradients in another of the same layout (<see cref="Grads"/>),
/// cut into named views by <see cref="ParameterLayout"/>. Activations belong to an <see cref="ActivationCache"/> per
/// micro-batch. Forward then Backward on the same cache adds this micro-batch's gradients into <see cref="Grads"/>.
/// </summary>
public sealed class GlmModel
{
    public ModelConfig Config { get; }
    public ParameterLayout Layout { get; }
    public float[] Weights { get; }
    /// <summary>Gradient arena (same layout as <see cref="Weights"/>); allocated on first use (inference needs none).</summary>
    public float[] Grads => _grads ??= new float[Layout.TotalLength];
    public bool HasGrads => _grads is not null;
    public RotaryTable Rotary { get; }
    public EmbeddingLayer Embedding { get; }
    public TransformerBlock[] Blocks { get; }
    public OutputHead Head { get; }

    float[]? _grads;

    public GlmModel(ModelConfig config)
    {
        Config = config.Validate();
        config.CheckFitsInMemory(Training.MemoryEstimate.AvailableBytes()); // before the arena, not an OutOfMemoryException inside it
        Layout = ParameterLayout.Build(config);
        Weights = new float[Layout.TotalLength];
        Rotary = new RotaryTable(config);
        Embedding = new EmbeddingLayer(this);
        Blocks = Enumerable.Range(0, config.L).Select(i => new TransformerBlock(this, i)).ToArray();
        Head = new OutputHead(this);
    }

    /// <summary>
    /// A model over a frozen weight source — an fp32 model, a memory-mapped bf16/fp16 or Hugging Face checkpoint, an
    /// int8/int4 one, of any size: the arena holds only the norm weights (copied); the embedding, every projection (with
    /// its biases) and the LM head are read from the source, projections through GEMMs over fp32 tiles of their rows.
    /// Such a model runs forward, and backward with LoRA adapters attached (<see cref="AttachLora"/>): the base takes no
    /// gradient, so a 6B teacher is fine-tuned in the memory of its 16-bit or int8 weights plus the adapters'.
    /// </summary>
    public GlmModel(InferenceWeights frozenBase)
    {
        Config = frozenBase.Config.Validate();
        Layout = ParameterLayout.BuildNormsOnly(Config);
        Weights = new float[Layout.TotalLength];
        FrozenBase = frozenBase;
        for (int l = 0; l < Config.L; l++)
        {
            frozenBase.InputNorm(l).CopyTo(Parameter(TensorNames.InputNorm(l)));
            frozenBase.PostNorm(l).CopyTo(Parameter(TensorNames.PostNorm(l)));
        }
        frozenBase.FinalNorm.CopyTo(Parameter(TensorNames.FinalNorm));
        Rotary = frozenBase.Rotary;
        Embedding = new EmbeddingLayer(this);
        Blocks = Enumerable.Range(0, Config.L).Select(i => new TransformerBlock(this, i)).ToArray();
        Head = new OutputHead(this);
    }

    /// <summary>The frozen weight source of a model made by <see cref="GlmModel(InferenceWeights)"/>; null for an ordinary model.</summary>
    public InferenceWeights? FrozenBase { get; }

    /// <summary>A model with weights ~ N(0, std²) (GPT-2/LLaMA init), norms = 1, biases = 0; deterministic in the seed.</summary>
    public static GlmModel Create(ModelConfig config, ulong seed = 1234, double std = 0.02)
    {
        var m = new GlmModel(config);
        m.Initialise(seed, std);
        return m;
    }

    public void Initialise(ulong seed, double std = 0.02)
    {
        var rng = new Rng(seed);
        foreach (var t in Layout.Tensors)
        {
            var w = Weights.AsSpan(t.Offset, t.Length);
            if (t.Name.EndsWith("norm.weight", StringComparison.Ordinal)) w.Fill(1f);
            else if (t.Name.EndsWith(".bias", StringComparison.Ordinal)) w.Clear();
            else for (int i = 0; i < w.Length; i++) w[i] = (float)(rng.NextGaussian() * std);
        }
    }

    /// <summary>View of the weight arena.</summary>
    public TensorView W(int offset, int length) => new(Weights, offset, length);
    /// <summary>View of the gradient arena.</summary>
    public TensorView G(int offset, int length) => new(Grads, offset, length);

    /// <summary>Weights of a named tensor (contract names, docs/ENGINE.md).</summary>
    public Span<float> Parameter(string name) { var t = Layout[name]; return Weights.AsSpan(t.Offset, t.Length); }
    /// <summary>Gradient of a named tensor.</summary>
    public Span<float> Gradient(string name) { var t = Layout[name]; return Grads.AsSpan(t.Offset, t.Length); }

    public void ZeroGrads() => Array.Clear(Grads);

    /// <summary>
    /// LoRA adapters in use, or null. While attached, the base weights are frozen: the blocks add the adapters' terms,
    /// the backward adds into the adapters' gradients only (no base gradient is computed, <see cref="Grads"/> is never
    /// allocated by it), and a Trainer made afterwards steps the adapters. <see cref="MergeLora"/> ends it.
    /// </summary>
    public LoraAdapters? Lora { get; private set; }

    public void AttachLora(LoraAdapters adapters)
    {
        if (Lora is not null) throw new InvalidOperationException("this model already has LoRA adapters; merge them first");
        if (adapters.Config.ModelJson() != Config.ModelJson()) throw new ArgumentException("the LoRA adapters were made for a model of another config");
        Lora = adapters;
    }

    /// <summary>Folds the adapters into the base weights (W += (α/r)·B·A) and detaches them: an ordinary model again.</summary>
    public LoraAdapters MergeLora()
    {
        var l = Lora ?? throw new InvalidOperationException("this model has no LoRA adapters to merge");
        if (FrozenBase is not null) throw new InvalidOperationException("the base of this model is a frozen weight source: export the adapters, or merge them into a copy of the base");
        l.MergeInto(this);
        Lora = null;
        return l;
    }

    /// <summary>The gradient of a base tensor for the backward, or an empty view while the base is frozen (LoRA): the
    /// backward then skips that gradient's work.</summary>
    internal TensorView BaseGrad(int offset, int length) => Lora is null ? G(offset, length) : default;

    /// <summary>A norm weight's gradient: the RMSNorm kernel always writes one, so while the base is frozen it goes to a
    /// scratch row that nothing reads (O(N·C), small beside the GEMMs).</summary>
    internal TensorView NormGrad(int offset, int length)
    {
        if (Lora is null) return G(offset, length);
        if (_discard.Length < length) _discard = new float[length];
        return new TensorView(_discard, 0, length);
    }

    float[] _discard = [];

    ProjectionScratch? _frozenScratch;

    ProjectionScratch FrozenScratch => _frozenScratch ??= new ProjectionScratch(Projection.SmallRows, FrozenBase!.MaxPaddedIn);

    /// <summary>y (N, Out) = x (N, In)·Wᵀ + b of a frozen projection (its own biases), as inference runs it (many rows:
    /// one sgemm per tile of weight rows widened to fp32).</summary>
    internal void FrozenForward(Projection p, TensorView y, TensorView x, int N) =>
        p.Forward(y.Data.AsSpan(y.Offset, N * p.Out), x.Data.AsSpan(x.Offset, N * p.In), N, FrozenScratch);

    /// <summary>dx (N, In) = dy (N, Out)·W of a frozen projection: tiles of its rows widened to fp32, one sgemm each.</summary>
    internal void FrozenBackward(Projection p, TensorView dx, TensorView dy, int N)
    {
        var tile = FrozenScratch.Tile;
        int rows = Math.Max(1, ProjectionScratch.TileFloats / p.In);
        for (int r0 = 0; r0 < p.Out; r0 += rows)
        {
            int n = Math.Min(rows, p.Out - r0);
            p.ReadRows(r0, n, tile.AsSpan(0, n * p.In));
            Kernels.Gemm.Sgemm(false, false, N, p.In, n, 1f, dy.Data.AsSpan(dy.Offset + r0, (N - 1) * p.Out + n), p.Out,
                tile.AsSpan(0, n * p.In), p.In, r0 == 0 ? 0f : 1f, dx.Data.AsSpan(dx.Offset, N * p.In), p.In);
        }
    }

    /// <summary>A cache for micro-batches of shape (B, T) over <paramref name="range"/> (default: the whole model).</summary>
    public ActivationCache CreateCache(int b, int t, LayerRange? range = null, bool? dropout = null) =>
        new(Config, b, t, range, dropout ?? Config.HiddenDropout > 0);

    /// <summary>
    /// Runs the range's forward on one micro-batch. Stage 0 (range.Embedding) reads batch.Tokens; others read
    /// cache.Hidden(FirstBlock), which the caller filled. With the head and an objective, returns the loss and leaves
    /// dLoss/dlogits in cache.Logits (ready for <see cref="Backward"/>; with an objective the head runs only on rows with a
    /// target, cache.ActiveRows says which); with no objective, cache.Logits keeps the logits of every row
    /// and NaN is returned. Without the head, the output is cache.Hidden(EndBlock) and NaN is returned.
    /// </summary>
    public double Forward(ActivationCache cache, Batch batch, ILossObjective? objective = null, LayerRange? range = null)
    {
        var r = range ?? cache.Range;
        CheckShapes(cache, batch, r);
        cache.SetPositions(batch);
        if (r.Embedding) Embedding.Forward(cache, batch);
        for (int i = r.FirstBlock; i < r.EndBlock; i++) Blocks[i].Forward(cache, batch);
        if (!r.Head) return double.NaN;
        Head.Forward(cache, objective is null || !HeadOnTargetRowsOnly ? null : batch);
        if (objective is null) return double.NaN;
        cache.GradHidden.Span.Clear();
        return objective.Compute(cache, batch);
    }

    /// <summary>
    /// With an objective, run the LM head only on rows that have a target (default): the same loss and gradients at a
    /// fraction of the head's GEMMs and softmax when half the rows are a prompt. Off: every row, as a check.
    /// </summary>
    public bool HeadOnTargetRowsOnly { get; set; } = true;

    /// <summary>Forward with hard-label cross-entropy over the whole model: the usual training call; returns the loss.</summary>
    public double ForwardLoss(ActivationCache cache, Batch batch) => Forward(cache, batch, CrossEntropyObjective.Instance);

    /// <summary>
    /// Backward of the same range after <see cref="Forward"/> (with an objective when the range has the head).
    /// Adds into <see cref="Grads"/> (call <see cref="ZeroGrads"/> at the start of an optimizer step). For a range
    /// without the head, fill cache.GradHidden with dLoss/dHidden(EndBlock) first; on return it holds
    /// dLoss/dHidden(FirstBlock).
    /// </summary>
    public void Backward(ActivationCache cache, Batch batch, LayerRange? range = null)
    {
        if (FrozenBase is not null && Lora is null)
            throw new InvalidOperationException("a model over a frozen weight source trains only LoRA adapters: attach them (AttachLora) before the backward");
        var r = range ?? cache.Range;
        CheckShapes(cache, batch, r);
        cache.SetPositions(batch); // the same batch as the forward; a pipeline stage may have run other micro-batches in between
        if (r.Head) Head.Backward(cache);
        for (int i = r.EndBlock - 1; i >= r.FirstBlock; i--) Blocks[i].Backward(cache, batch);
        if (r.Embedding) Embedding.Backward(cache, batch);
    }

    void CheckShapes(ActivationCache cache, Batch batch, LayerRange r)
    {
        var cc = cache.Config;
        if (!ReferenceEquals(cc, Config) && (cc.C, cc.L, cc.V, cc.H, cc.KV, cc.D, cc.F) != (Config.C, Config.L, Config.V, Config.H, Config.KV, Config.D, Config.F))
            throw new ArgumentException("the activation cache was made for a model of different sizes");
        if (cache.B != batch.B || cache.T != batch.T)
            throw new ArgumentException($"batch shape ({batch.B}, {batch.T}) does not match the cache's ({cache.B}, {cache.T})");
        r.Validate(Config);
        if (r.FirstBlock < cache.FirstBlock || r.EndBlock > cache.EndBlock || (r.Head && !cache.HasHead))
            throw new ArgumentException($"range [{r.FirstBlock}, {r.EndBlock}) head={r.Head} is not covered by the cache's {cache.Range}");
        if (r.Embedding || r.Head) batch.Validate(Config);
    }
}
