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

    protected InferenceWeights(ModelConfig config, WeightFormat format, int groupSize)
    {
        Config = config;
        Format = format;
        GroupSize = groupSize;
    }

    public ModelConfig Config { get; }
    /// <summary>How the projections are stored (fp32 here also covers bf16/fp16 widened on the fly).</summary>
    public WeightFormat Format { get; }
    /// <summary>Weights per scale (quantized formats only).</summary>
    public int GroupSize { get; }

    /// <summary>The rotary table of <see cref="Config"/> (made once per weight source).</summary>
    public virtual RotaryTable Rotary => _rotary ??= new RotaryTable(Config);

    /// <summary>x (n, C) = the embedding rows of tokens (ids already checked against V).</summary>
    public abstract void Embed(ReadOnlySpan<int> tokens, Span<float> x);
    public abstract ReadOnlySpan<float> InputNorm(int layer);
    public abstract ReadOnlySpan<float> PostNorm(int layer);
    public abstract ReadOnlySpan<float> FinalNorm { get; }
    /// <summary>q; k; v stacked (QkvDim, C), the q/k/v biases (if any) as its bias.</summary>
    public abstract Projection Qkv(int layer);
    public abstract Projection O(int layer);
    /// <summary>gate; up stacked (2F, C).</summary>
    public abstract Projection GateUp(int layer);
    public abstract Projection Down(int layer);
    public abstract Projection Head { get; }

    /// <summary>Every projection and the head, in layer order.</summary>
    public IEnumerable<Projection> Projections =>
        Enumerable.Range(0, Config.L).SelectMany(l => new[] { Qkv(l), O(l), GateUp(l), Down(l) }).Append(Head);

    /// <summary>Bytes of all projection weights and the LM head as stored for inference (what decode streams per token).</summary>
    public long ProjectionBytes => Projections.Sum(p => p.Bytes);

    /// <summary>Bytes of every weight inference holds: projections and head in this set's format, embeddings, norms and
    /// biases as stored.</summary>
    public abstract long HeldBytes { get; }

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
    readonly Projection[] _qkv, _o, _gateUp, _down;
    readonly Projection _head;

    public GlmModel Model { get; }

    internal ArenaWeights(GlmModel model) : base(model.Config, WeightFormat.Fp32, 0)
    {
        Model = model;
        var c = model.Config;
        var lo = model.Layout;
        int C = c.C, HD = c.H * c.D, W = c.QkvDim, F = c.F, V = c.V;
        Projection Make(int offset, int outDim, int inDim, int biasOffset = -1) =>
            new Fp32Projection(model.Weights.AsMemory(offset, outDim * inDim), outDim, inDim,
                biasOffset >= 0 ? model.Weights.AsMemory(biasOffset, outDim) : default);
        _qkv = lo.Blocks.Select(b => Make(b.Qkv, W, C, b.QkvBias)).ToArray();
        _o = lo.Blocks.Select(b => Make(b.O, C, HD)).ToArray();
        _gateUp = lo.Blocks.Select(b => Make(b.GateUp, 2 * F, C)).ToArray();
        _down = lo.Blocks.Select(b => Make(b.Down, C, F)).ToArray();
        _head = Make(lo.LmHead, V, C);
    }

    public override RotaryTable Rotary => Model.Rotary;
    public override void Embed(ReadOnlySpan<int> tokens, Span<float> x) =>
        Pointwise.EmbeddingForward(x, tokens, Model.W(Model.Layout.Embedding, Config.V * Config.C), Config.C);
    public override ReadOnlySpan<float> InputNorm(int layer) => Model.Weights.AsSpan(Model.Layout.Blocks[layer].InputNorm, Config.C);
    public override ReadOnlySpan<float> PostNorm(int layer) => Model.Weights.AsSpan(Model.Layout.Blocks[layer].PostNorm, Config.C);
    public override ReadOnlySpan<float> FinalNorm => Model.Weights.AsSpan(Model.Layout.FinalNorm, Config.C);
    public override Projection Qkv(int layer) => _qkv[layer];
    public override Projection O(int layer) => _o[layer];
    public override Projection GateUp(int layer) => _gateUp[layer];
    public override Projection Down(int layer) => _down[layer];
    public override Projection Head => _head;
    public override long HeldBytes => Model.Layout.TotalLength * 4L;
}

/// <summary>Another source's projections and head quantized to int8/int4; embeddings and norms read from the source.</summary>
public sealed class QuantizedWeights : InferenceWeights
{
    readonly InferenceWeights _src;
    readonly Projection[] _qkv, _o, _gateUp, _down;
    readonly Projection _head;

    internal QuantizedWeights(InferenceWeights source, WeightFormat format, int groupSize) : base(source.Config, format, groupSize)
    {
        _src = source;
        var f = format == WeightFormat.Int8 ? QuantFormat.Int8 : QuantFormat.Int4;
        Projection Q(Projection p) => QuantizedProjection.From(p, f, groupSize);
        int L = source.Config.L;
        _qkv = Enumerable.Range(0, L).Select(l => Q(source.Qkv(l))).ToArray();
        _o = Enumerable.Range(0, L).Select(l => Q(source.O(l))).ToArray();
        _gateUp = Enumerable.Range(0, L).Select(l => Q(source.GateUp(l))).ToArray();
        _down = Enumerable.Range(0, L).Select(l => Q(source.Down(l))).ToArray();
        _head = Q(source.Head);
    }

    public InferenceWeights Source => _src;
    public override RotaryTable Rotary => _src.Rotary;
    public override void Embed(ReadOnlySpan<int> tokens, Span<float> x) => _src.Embed(tokens, x);
    public override ReadOnlySpan<float> InputNorm(int layer) => _src.InputNorm(layer);
    public override ReadOnlySpan<float> PostNorm(int layer) => _src.PostNorm(layer);
    public override ReadOnlySpan<float> FinalNorm => _src.FinalNorm;
    public override Projection Qkv(int layer) => _qkv[layer];
    public override Projection O(int layer) => _o[layer];
    public override Projection GateUp(int layer) => _gateUp[layer];
    public override Projection Down(int layer) => _down[layer];
    public override Projection Head => _head;
    public override long HeldBytes => _src.HeldBytes - _src.ProjectionBytes + ProjectionBytes;
}

/// <summary>
/// Named tensors from any storage (docs/ENGINE.md names): q/k/v and gate/up stacked into the session's fused
/// projections without a copy; a tied model's head is its embedding.
/// </summary>
public sealed class NamedWeights : InferenceWeights
{
    readonly WeightRows _embed;
    readonly float[][] _n1, _n2;
    readonly float[] _finalNorm;
    readonly Projection[] _qkv, _o, _gateUp, _down;
    readonly Projection _head;
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
        float[]? Bias(int l)
        {
            var parts = new[] { vector(QBias(l)), vector(KBias(l)), vector(VBias(l)) };
            if (parts.All(p => p is null)) return null;
            var b = new float[c.QkvDim];
            int[] lens = [H * D, KV * D, KV * D];
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
        _embed = M(TensorNames.Embed, V, C);
        _finalNorm = Vec(TensorNames.FinalNorm, C);
        _n1 = Enumerable.Range(0, c.L).Select(l => Vec(TensorNames.InputNorm(l), C)).ToArray();
        _n2 = Enumerable.Range(0, c.L).Select(l => Vec(TensorNames.PostNorm(l), C)).ToArray();
        _qkv = Enumerable.Range(0, c.L).Select(l => (Projection)new StackedProjection(
            [M(Q(l), H * D, C), M(K(l), KV * D, C), M(TensorNames.V(l), KV * D, C)], Bias(l))).ToArray();
        _o = Enumerable.Range(0, c.L).Select(l => (Projection)new StackedProjection([M(TensorNames.O(l), C, H * D)], default)).ToArray();
        _gateUp = Enumerable.Range(0, c.L).Select(l => (Projection)new StackedProjection([M(Gate(l), F, C), M(Up(l), F, C)], default)).ToArray();
        _down = Enumerable.Range(0, c.L).Select(l => (Projection)new StackedProjection([M(TensorNames.Down(l), C, F)], default)).ToArray();
        _tied = matrix(LmHead) is null;
        _head = new StackedProjection([_tied ? _embed : M(LmHead, V, C)], default);
        _smallBytes = (_n1.Sum(n => n.Length) + _n2.Sum(n => n.Length) + C
                       + Enumerable.Range(0, c.L).Sum(l => _qkv[l].Bias.Length)) * 4L;
    }

    readonly long _smallBytes;

    public override void Embed(ReadOnlySpan<int> tokens, Span<float> x)
    {
        int C = Config.C;
        for (int i = 0; i < tokens.Length; i++) _embed.Read(tokens[i], 1, x.Slice(i * C, C));
    }

    public override ReadOnlySpan<float> InputNorm(int layer) => _n1[layer];
    public override ReadOnlySpan<float> PostNorm(int layer) => _n2[layer];
    public override ReadOnlySpan<float> FinalNorm => _finalNorm;
    public override Projection Qkv(int layer) => _qkv[layer];
    public override Projection O(int layer) => _o[layer];
    public override Projection GateUp(int layer) => _gateUp[layer];
    public override Projection Down(int layer) => _down[layer];
    public override Projection Head => _head;
    /// <summary>Projections and head as stored, the embedding (unless it is the head), norms and biases.</summary>
    public override long HeldBytes => ProjectionBytes + (_tied ? 0 : _embed.Bytes) + _smallBytes;
}
