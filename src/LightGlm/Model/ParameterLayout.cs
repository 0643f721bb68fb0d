// Where each named tensor (docs/ENGINE.md names) lives in the single parameter arena; shared by weights, grads, m, v.
namespace LightGlm.Model;

/// <summary>A window of a float arena; a plain struct so it can be captured by parallel loops.</summary>
public readonly struct TensorView(float[] data, int offset, int length)
{
    public readonly float[] Data = data;
    public readonly int Offset = offset;
    public readonly int Length = length;
    public Span<float> Span => Data.AsSpan(Offset, Length);
    public bool IsEmpty => Length == 0;
    public TensorView Slice(int start, int length) => new(Data, Offset + start, length);
    public static implicit operator Span<float>(TensorView v) => v.Span;
    public static implicit operator ReadOnlySpan<float>(TensorView v) => v.Span;
}

/// <summary>One named parameter tensor: its offset in the arena and its shape (row-major, weight = (out, in)).</summary>
/// <param name="Layer">Block index, -1 for the embedding, L for the final norm / LM head.</param>
/// <param name="NoDecay">True for norm weights and biases: AdamW applies no weight decay to them.</param>
/// <param name="External">Held outside the arena (a model over a frozen weight source, <see cref="GlmModel.FrozenBase"/>):
/// it takes no arena space and <see cref="Length"/> is 0.</param>
public sealed record ParameterTensor(string Name, int Offset, int[] Shape, int Layer, bool NoDecay, bool External = false)
{
    /// <summary>Values the tensor holds in the arena (0 when <see cref="External"/>).</summary>
    public int Length { get; } = External ? 0 : Shape.Aggregate(1, (a, b) => a * b);
    public string ShapeText => "(" + string.Join(", ", Shape) + ")";
}

/// <summary>Offsets of one block's tensors. q|k|v are adjacent (one fused GEMM, out = (H+2KV)·D); so are gate|up (out = 2F).</summary>
public readonly record struct BlockOffsets(int InputNorm, int Qkv, int QkvBias, int O, int PostNorm, int GateUp, int Down);

/// <summary>The arena layout of a model: every tensor's name, offset and shape, in a fixed order.</summary>
public sealed class ParameterLayout
{
    public ModelConfig Config { get; }
    public IReadOnlyList<ParameterTensor> Tensors => _tensors;
    public int TotalLength { get; }
    public int Embedding { get; }
    public int FinalNorm { get; }
    /// <summary>Offset of lm_head.weight; equals <see cref="Embedding"/> when tied.</summary>
    public int LmHead { get; }
    public BlockOffsets[] Blocks { get; }

    readonly List<ParameterTensor> _tensors = [];
    readonly Dictionary<string, ParameterTensor> _byName = new(StringComparer.Ordinal);

    /// <summary>True when only the norm weights are in the arena; every matrix and bias is read from a frozen weight source.</summary>
    public bool NormsOnly { get; }

    ParameterLayout(ModelConfig c, bool normsOnly)
    {
        Config = c;
        NormsOnly = normsOnly;
        int offset = 0;
        int Add(string name, int layer, bool noDecay, params int[] shape)
        {
            bool norm = name.EndsWith("norm.weight", StringComparison.Ordinal);
            var t = new ParameterTensor(name, offset, shape, layer, noDecay, External: normsOnly && !norm);
            _tensors.Add(t);
            _byName.Add(name, t);
            checked { offset += t.Length; }
            return t.Offset;
        }
        int C = c.C, D = c.D, H = c.H, KV = c.KV, F = c.F;
        Embedding = Add(TensorNames.Embed, -1, false, c.V, C);
        Blocks = new BlockOffsets[c.L];
        for (int i = 0; i < c.L; i++)
        {
            int ln1 = Add(TensorNames.InputNorm(i), i, true, C);
            int q = Add(TensorNames.Q(i), i, false, H * D, C);
            Add(TensorNames.K(i), i, false, KV * D, C);
            Add(TensorNames.V(i), i, false, KV * D, C);
            int qb = -1;
            if (c.AttentionBias)
            {
                qb = Add(TensorNames.QBias(i), i, true, H * D);
                Add(TensorNames.KBias(i), i, true, KV * D);
                Add(TensorNames.VBias(i), i, true, KV * D);
            }
            int o = Add(TensorNames.O(i), i, false, C, H * D);
            int ln2 = Add(TensorNames.PostNorm(i), i, true, C);
            int gu = Add(TensorNames.Gate(i), i, false, F, C);
            Add(TensorNames.Up(i), i, false, F, C);
            int down = Add(TensorNames.Down(i), i, false, C, F);
            Blocks[i] = new BlockOffsets(ln1, q, qb, o, ln2, gu, down);
        }
        FinalNorm = Add(TensorNames.FinalNorm, c.L, true, C);
        LmHead = c.TieWordEmbeddings ? Embedding : Add(TensorNames.LmHead, c.L, false, c.V, C);
        TotalLength = offset;
    }

    public static ParameterLayout Build(ModelConfig config) => new(config, normsOnly: false);

    /// <summary>The layout of a model over a frozen weight source: the same names and offsets' order, only the norm weights
    /// in the arena (LoRA over a 16-bit or quantized base too large for an fp32 arena).</summary>
    public static ParameterLayout BuildNormsOnly(ModelConfig config) => new(config, normsOnly: true);

    public bool TryGet(string name, out ParameterTensor tensor) => _byName.TryGetValue(name, out tensor!);

    public ParameterTensor this[string name] =>
        _byName.TryGetValue(name, out var t) ? t : throw new KeyNotFoundException($"no parameter named '{name}' in this model");

    /// <summary>Arena range [start, end) owned by blocks [firstBlock, endBlock) — handy for per-stage optimizers.</summary>
    public (int Start, int End) BlockRange(int firstBlock, int endBlock)
    {
        if (firstBlock >= endBlock) return (0, 0);
        int start = Blocks[firstBlock].InputNorm;
        int end = endBlock < Blocks.Length ? Blocks[endBlock].InputNorm : FinalNorm;
        return (start, end);
    }
}
