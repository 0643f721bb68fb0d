// Which structures of a model a masked forward keeps (layers, hidden channels; per layer heads, q/k and v channels of each
// KV group, FFN neurons): "the teacher with the pruned parts masked", what layer selection and the pruner's tests run.
namespace LightGlm.Model.Inference;

/// <summary>What one layer keeps (teacher indices; true = kept).</summary>
public sealed class LayerMask(int h, int kv, int d, int f)
{
    public bool[] Heads { get; } = Enumerable.Repeat(true, h).ToArray();
    /// <summary>[group][channel]: q channels of every head of the group and the group's k channel.</summary>
    public bool[][] Qk { get; } = Enumerable.Range(0, kv).Select(_ => Enumerable.Repeat(true, d).ToArray()).ToArray();
    public bool[][] V { get; } = Enumerable.Range(0, kv).Select(_ => Enumerable.Repeat(true, d).ToArray()).ToArray();
    public bool[] Ffn { get; } = Enumerable.Repeat(true, f).ToArray();

    /// <summary>qkv (n, (H + 2·KV)·D), rows [q | k | v]: masked q/k channels (the group's k, q of each of its heads) and v channels ← 0.</summary>
    public void ZeroQkv(Span<float> qkv, int n)
    {
        int H = Heads.Length, KV = Qk.Length, D = Qk[0].Length, HD = H * D, W = (H + 2 * KV) * D, group = H / KV;
        for (int g = 0; g < KV; g++)
            for (int d = 0; d < D; d++)
            {
                bool qk = Qk[g][d], v = V[g][d];
                if (qk && v) continue;
                for (int r = 0; r < n; r++)
                {
                    var row = qkv.Slice(r * W, W);
                    if (!qk)
                    {
                        row[HD + g * D + d] = 0;
                        for (int h = g * group; h < (g + 1) * group; h++) row[h * D + d] = 0;
                    }
                    if (!v) row[HD + (KV + g) * D + d] = 0;
                }
            }
    }

    /// <summary>att (n, H·D): the outputs of masked heads ← 0.</summary>
    public void ZeroHeads(Span<float> att, int n)
    {
        int H = Heads.Length, D = att.Length / (n * H);
        for (int h = 0; h < H; h++)
            if (!Heads[h])
                for (int r = 0; r < n; r++) att.Slice((r * H + h) * D, D).Clear();
    }

    /// <summary>act (n, F): masked neurons ← 0.</summary>
    public void ZeroNeurons(Span<float> act, int n)
    {
        int F = Ffn.Length;
        for (int j = 0; j < F; j++)
            if (!Ffn[j])
                for (int r = 0; r < n; r++) act[r * F + j] = 0;
    }
}

/// <summary>
/// A mask over a model's structures, everything kept until cleared. Under it <see cref="InferenceSession"/> makes dropped
/// layers the identity, masked heads, q/k/v channels and neurons contribute zero, holds masked hidden channels at zero and
/// takes RMSNorm's mean(x²) over the kept hidden channels only (what a pruned student of that width computes).
/// </summary>
public sealed class StructureMask
{
    public bool[] Layers { get; }
    public bool[] Hidden { get; }
    public LayerMask[] PerLayer { get; }
    public int HiddenCount => Hidden.Count(b => b);

    public StructureMask(int L, int C, int H, int KV, int D, int F)
    {
        if (Math.Min(Math.Min(L, C), Math.Min(Math.Min(H, KV), Math.Min(D, F))) < 1 || H % KV != 0)
            throw new ArgumentException($"a structure mask needs positive sizes and H a multiple of KV: (L, C, H, KV, D, F) = {(L, C, H, KV, D, F)}");
        Layers = Enumerable.Repeat(true, L).ToArray();
        Hidden = Enumerable.Repeat(true, C).ToArray();
        PerLayer = Enumerable.Range(0, L).Select(_ => new LayerMask(H, KV, D, F)).ToArray();
    }

    public StructureMask(ModelConfig c) : this(c.L, c.C, c.H, c.KV, c.D, c.F) { }

    /// <summary>x (n, C): masked hidden channels ← 0.</summary>
    public void ZeroHidden(Span<float> x, int n)
    {
        int C = Hidden.Length;
        for (int ch = 0; ch < C; ch++)
            if (!Hidden[ch])
                for (int r = 0; r < n; r++) x[r * C + ch] = 0;
    }

    /// <summary>(L, C, H, KV, D, F) this mask was made for (its arrays cannot be resized).</summary>
    public (int L, int C, int H, int KV, int D, int F) Shape =>
        (Layers.Length, Hidden.Length, PerLayer[0].Heads.Length, PerLayer[0].Qk.Length, PerLayer[0].Qk[0].Length, PerLayer[0].Ffn.Length);
}
