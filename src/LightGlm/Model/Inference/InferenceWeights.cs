// The one weight-source interface of inference: everything a forward pass reads — embedding rows, norm vectors and
// every projection — whoever holds the weights: the fp32 arena of a GlmModel (views, no copy), weight-only int8/int4
// copies of any source, named tensors in memory (a pruned student being measured) or a memory-mapped bf16/fp16
// checkpoint of any size (Interop.Inference.MappedInferenceWeights). InferenceSession is the one forward pass over it.
using LightGlm.Kernels.Quantized;
using LightGlm.Model.Ops;
using static LightGlm.Model.TensorNames;

namespace LightGlm.Model.Inference;

public enum WeightFormat { Fp32, Int8, Int4 }

public abstract class InferenceWeights
{
    RotaryTable? _rotary;
    Layer[] _layers = [];
    ReadOnlyMemory<float> _finalNorm;
    Projection _head = null!;

    protected InferenceWeights(ModelConfig config, WeightFormat format, int groupSize)
    {
        Config = config;
        Format = format;
        GroupSize = groupSize;
    }

    /// <summary>What one block reads: its two norm vectors and its four projections, however the source holds them.</summary>
    internal readonly record struct Layer(ReadOnlyMemory<float> InputNorm, ReadOnlyMemory<float> PostNorm,
        Projection Qkv, Projection O, Projection GateUp, Projection Down);

    /// <summary>
    /// Called once by each source's constructor: the per-layer tensors, the final norm and the head. The accessors below
    /// read them from plain arrays (no virtual call per layer and token), whoever made them.
    /// </summary>
    private protected void Hold(Layer[] layers, ReadOnlyMemory<float> finalNorm, Projection head)
    {
        if (layers.Length != Config.L) throw new ArgumentException($"{layers.Length} layers of weights for a config of {Config.L}");
        _layers = layers;
        _finalNorm = finalNorm;
        _head = head;
    }

    /// <summary>The per-layer tensors and final norm as held (another source built from this one reuses them).</summary>
    internal ReadOnlySpan<Layer> Layers => _layers;
    internal ReadOnlyMemory<float> FinalNormMemory => _finalNorm;

    public ModelConfig Config { get; }
    /// <summary>How the projections are stored (fp32 here also covers bf16/fp16 widened on the fly).</summary>
    public WeightFormat Format { get; }
    /// <summary>Weights per scale (quantized formats only).</summary>
    public int GroupSize { get; }

    /// <summary>The rotary table of <see cref="Config"/> (made once per weight source).</summary>
    public virtual RotaryTable Rotary => _rotary ??= new RotaryTable(Config);

    /// <summary>x (n, C) = the embedding rows of tokens (ids already checked against V).</summary>
    public abstract void Embed(ReadOnlySpan<int> tokens, Span<float> x);
    public ReadOnlySpan<float> InputNorm(int layer) => _layers[layer].InputNorm.Span;
    public ReadOnlySpan<float> PostNorm(int layer) => _layers[layer].PostNorm.Span;
    public ReadOnlySpan<float> FinalNorm => _finalNorm.Span;
    /// <summary>q; k; v stacked (QkvDim, C), the q/k/v biases (if any) as its bias.</summary>
    public Projection Qkv(int layer) => _layers[layer].Qkv;
    public Projection O(int layer) => _layers[layer].O;
    /// <summary>gate; up stacked (2F, C).</summary>
    public Projection GateUp(int layer) => _layers[layer].GateUp;
    public Projection Down(int layer) => _layers[layer].Down;
    public Projection Head => _head;

    /// <summary>Every projection and the head, in layer order.</summary>
    public IEnumerable<Projection> Projections =>
        Enumerable.Range(0, Config.L).SelectMany(l => new[] { Qkv(l), O(l), GateUp(l), Down(l) }).Append(Head);

    /// <summary>Bytes of all projection weights and the LM head as stored for inference (what decode streams per token).</summary>
    public long ProjectionBytes => Projections.Sum(p => p.Bytes);

    /// <summary>Bytes of every weight inference holds: projections and head in this set's format, embeddings, norms and
    /// biases as stored.</summary>
    public abstract long HeldBytes { get; }

    /// <summary>Bytes of the norm vectors and the q/k/v biases (fp32), part of <see cref="HeldBytes"/> for sources that own them.</summary>
    protected long NormAndBiasBytes()
    {
        long n = _finalNorm.Length;
        foreach (var l in _layers) n += l.InputNorm.Length + l.PostNorm.Length + l.Qkv.Bias.Length;
        return n * 4L;
    }

    /// <summary>
    /// Layer <paramref name="l"/>'s q, k and v biases stacked as the fused Qkv projection's bias; null if the model has none.
    /// <paramref name="vector"/> gives a 1-D tensor by name (null if absent); a missing part stays zero.
    /// </summary>
    internal static float[]? StackedQkvBias(ModelConfig c, int l, Func<string, float[]?> vector)
    {
        var parts = new[] { vector(QBias(l)), vector(KBias(l)), vector(VBias(l)) };
        if (parts.All(p => p is null)) return null;
        var b = new float[c.QkvDim];
        int[] lens = [c.H * c.D, c.KV * c.D, c.KV * c.D];
        for (int i = 0, off = 0; i < 3; off += lens[i], i++)
        {
            if (parts[i] is { } p)
            {
                if (p.Length != lens[i]) throw new InvalidDataException($"layer {l}: a q/k/v bias has {p.Length} values; the config needs {lens[i]}");
                p.CopyTo(b, off);
            }
        }
        return b;
    }

    /// <summary>Largest input width of any projection, padded to whole quantization groups.</summary>
    internal int MaxPaddedIn
    {
        get
        {
            int g = Format == WeightFormat.Fp32 ? 1 : GroupSize;
            return Projections.Max(p => (p.In + g - 1) / g * g);
        }
    }

    /// <summary>fp32: the model's own weights, no copy.</summary>
    public static InferenceWeights Fp32(GlmModel model) => new ArenaWeights(model);

    /// <summary>
    /// The model's weights in <paramref name="format"/>: fp32 views, or every projection and the LM head quantized
    /// (round to nearest, symmetric, one fp32 scale per <paramref name="groupSize"/> input columns; |w − d·q| ≤ d/2).
    /// </summary>
    public static InferenceWeights Create(GlmModel model, WeightFormat format, int groupSize = 32) => Quantize(Fp32(model), format, groupSize);

    /// <summary>Any weight source with its projections and head quantized (fp32: the source itself).</summary>
    public static InferenceWeights Quantize(InferenceWeights source, WeightFormat format, int groupSize = 32)
    {
        if (format == WeightFormat.Fp32) return source;
        if (groupSize <= 0 || groupSize % 32 != 0)
            throw new ArgumentException($"quantization group size {groupSize} must be a positive multiple of 32", nameof(groupSize));
        if (source.Format != WeightFormat.Fp32) throw new ArgumentException($"the weights are already {Name(source.Format)}");
        return new QuantizedWeights(source, format, groupSize);
    }

    /// <summary>
    /// Named tensors (docs/ENGINE.md names, q/k/v and gate/up separate as Hugging Face stores them) from any storage:
    /// <paramref name="matrix"/> gives a 2-D tensor by name (null if absent), <paramref name="vector"/> a 1-D one.
    /// </summary>
    public static InferenceWeights Named(ModelConfig config, Func<string, WeightRows?> matrix, Func<string, float[]?> vector,
        WeightFormat format = WeightFormat.Fp32, int groupSize = 0) =>
        new NamedWeights(config, matrix, vector, format, groupSize);

    /// <summary>"fp32", "int8" or "int4" (the CLI's --quantize; "none" = fp32).</summary>
    public static WeightFormat ParseFormat(string text) => text.Trim().ToLowerInvariant() switch
    {
        "fp32" or "none" or "" => WeightFormat.Fp32,
        "int8" => WeightFormat.Int8,
        "int4" => WeightFormat.Int4,
        _ => throw new ArgumentException($"--quantize '{text}': use int8, int4 or none"),
    };

    public static string Name(WeightFormat f) => f switch { WeightFormat.Int8 => "int8", WeightFormat.Int4 => "int4", _ => "fp32" };
}

/// <summary>A GlmModel's fp32 arena: every tensor a view, nothing copied.</summary>
public sealed class ArenaWeights : InferenceWeights
{
    public GlmModel Model { get; }

    internal ArenaWeights(GlmModel model) : base(model.Config, WeightFormat.Fp32, 0)
    {
        Model = model;
        var c = model.Config;
        var lo = model.Layout;
        var w = model.Weights;
        int C = c.C, HD = c.H * c.D, W = c.QkvDim, F = c.F, V = c.V;
        Projection Make(int offset, int outDim, int inDim, int biasOffset = -1) =>
            new Fp32Projection(w.AsMemory(offset, outDim * inDim), outDim, inDim, biasOffset >= 0 ? w.AsMemory(biasOffset, outDim) : default);
        Hold(lo.Blocks.Select(b => new Layer(w.AsMemory(b.InputNorm, C), w.AsMemory(b.PostNorm, C),
                Make(b.Qkv, W, C, b.QkvBias), Make(b.O, C, HD), Make(b.GateUp, 2 * F, C), Make(b.Down, C, F))).ToArray(),
            w.AsMemory(lo.FinalNorm, C), Make(lo.LmHead, V, C));
    }

    public override RotaryTable Rotary => Model.Rotary;
    public override void Embed(ReadOnlySpan<int> tokens, Span<float> x) =>
        Pointwise.EmbeddingForward(x, tokens, Model.W(Model.Layout.Embedding, Config.V * Config.C), Config.C);
    public override long HeldBytes => Model.Layout.TotalLength * 4L;
}

/// <summary>Another source's projections and head quantized to int8/int4; embeddings and norms read from the source.</summary>
public sealed class QuantizedWeights : InferenceWeights
{
    readonly InferenceWeights _src;

    internal QuantizedWeights(InferenceWeights source, WeightFormat format, int groupSize) : base(source.Config, format, groupSize)
    {
        _src = source;
        var f = format == WeightFormat.Int8 ? QuantFormat.Int8 : QuantFormat.Int4;
        Projection Q(Projection p) => QuantizedProjection.From(p, f, groupSize);
        var layers = source.Layers.ToArray().Select(l => l with { Qkv = Q(l.Qkv), O = Q(l.O), GateUp = Q(l.GateUp), Down = Q(l.Down) }).ToArray();
        Hold(layers, source.FinalNormMemory, Q(source.Head));
    }

    public InferenceWeights Source => _src;
    public override RotaryTable Rotary => _src.Rotary;
    public override void Embed(ReadOnlySpan<int> tokens, Span<float> x) => _src.Embed(tokens, x);
    public override long HeldBytes => _src.HeldBytes - _src.ProjectionBytes + ProjectionBytes;
}

/// <summary>
/// Named tensors from any storage (docs/ENGINE.md names): q/k/v and gate/up stacked into the session's fused
/// projections without a copy; a tied model's head is its embedding.
/// </summary>
public sealed class NamedWeights : InferenceWeights
{
    readonly WeightRows _embed;
    readonly bool _tied;

    internal NamedWeights(ModelConfig c, Func<string, WeightRows?> matrix, Func<string, float[]?> vector, WeightFormat format, int groupSize)
        : base(c, format, groupSize)
    {
        int C = c.C, H = c.H, KV = c.KV, D = c.D, F = c.F, V = c.V;
        WeightRows M(string name, int rows, int cols)
        {
            var w = matrix(name) ?? throw new KeyNotFoundException($"no tensor '{name}' in this model");
            if (w.Rows != rows || w.Cols != cols) throw new InvalidDataException($"tensor '{name}' is ({w.Rows}, {w.Cols}); the config needs ({rows}, {cols})");
            return w;
        }
        float[] Vec(string name, int n)
        {
            var v = vector(name) ?? throw new KeyNotFoundException($"no tensor '{name}' in this model");
            return v.Length == n ? v : throw new InvalidDataException($"tensor '{name}' has {v.Length} values; the config needs {n}");
        }
        _embed = M(TensorNames.Embed, V, C);
        var finalNorm = Vec(TensorNames.FinalNorm, C);
        var layers = Enumerable.Range(0, c.L).Select(l => new Layer(Vec(TensorNames.InputNorm(l), C), Vec(TensorNames.PostNorm(l), C),
            new StackedProjection([M(Q(l), H * D, C), M(K(l), KV * D, C), M(TensorNames.V(l), KV * D, C)], StackedQkvBias(c, l, vector)),
            new StackedProjection([M(TensorNames.O(l), C, H * D)], default),
            new StackedProjection([M(Gate(l), F, C), M(Up(l), F, C)], default),
            new StackedProjection([M(TensorNames.Down(l), C, F)], default))).ToArray();
        _tied = matrix(LmHead) is null;
        Hold(layers, finalNorm, new StackedProjection([_tied ? _embed : M(LmHead, V, C)], default));
        _smallBytes = NormAndBiasBytes();
    }

    readonly long _smallBytes;

    public override void Embed(ReadOnlySpan<int> tokens, Span<float> x)
    {
        int C = Config.C;
        for (int i = 0; i < tokens.Length; i++) _embed.Read(tokens[i], 1, x.Slice(i * C, C));
    }

    /// <summary>Projections and head as stored, the embedding (unless it is the head), norms and biases.</summary>
    public override long HeldBytes => ProjectionBytes + (_tied ? 0 : _embed.Bytes) + _smallBytes;
}
