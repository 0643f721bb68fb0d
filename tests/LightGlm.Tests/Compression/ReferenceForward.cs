// Test oracle: a plain fp32 forward of the docs/ENGINE.md model with structure masks and observer hooks, straight from the
// contract's math. Until December 2026 it was the product's importance forward (src/LightGlm/Compression/Importance/);
// now InferenceSession is, and this checks it (OnePassParityTests, ReferenceForwardEqualsTheEngine).
using LightGlm.Compression;
using LightGlm.Compression.Importance;
using LightGlm.Model;
using LightGlm.Model.Inference;
using System.Numerics.Tensors;
using static LightGlm.Model.TensorNames;

namespace LightGlm.Tests.Compression;

/// <summary>The hooks the oracle calls (the old ForwardObserver): q, k, v separate, both norms at once.</summary>
internal abstract class ReferenceObserver
{
    public virtual void Block(int layer, ReadOnlySpan<float> xIn, ReadOnlySpan<float> xOut, int T) { }
    public virtual void Norms(int layer, ReadOnlySpan<float> n1, ReadOnlySpan<float> n2, int T) { }
    public virtual void Qkv(int layer, ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, int T) { }
    public virtual void HeadOutputs(int layer, ReadOnlySpan<float> att, int T) { }
    public virtual void FfnActivations(int layer, ReadOnlySpan<float> act, int T) { }
}

/// <summary>
/// One sequence at a time, one layer at a time (only that layer's activations live), straight from the contract's math.
/// With a <see cref="StructureMask"/> it is "the teacher with the pruned parts masked": dropped layers are the identity,
/// masked heads/channels/neurons contribute zero, masked hidden channels are held at zero and RMSNorm's mean(x²) runs over
/// the kept channels only. Not the training engine: it has no backward and favours clarity over speed.
/// </summary>
internal sealed class ReferenceForward(ModelConfig shape, LightGlm.Compression.Tensors.ITensorSource weights)
{
    readonly ModelConfig _t = shape;
    readonly LightGlm.Compression.Tensors.ITensorSource _w = weights;

    public ReferenceForward(ModelFiles model) : this(model.Config, model.Weights) { }

    /// <summary>Logits (T, V) of tokens; prefix &gt; 0 makes the first prefix positions see each other (GLM prefix mask).</summary>
    public float[] Logits(int[] tokens, StructureMask? mask = null, ReferenceObserver? obs = null, int prefix = 0)
    {
        var h = Hidden(tokens, mask, obs, prefix);
        int T = tokens.Length;
        var logits = new float[T * _t.V];
        var head = _w.TryGet(LmHead) ?? _w.Get(Embed);
        Linear(h, T, _t.C, head.Data, _t.V, null, logits);
        return logits;
    }

    /// <summary>Mean cross-entropy of targets (−1 = ignored) given tokens.</summary>
    public double Loss(int[] tokens, int[] targets, StructureMask? mask = null, int prefix = 0)
    {
        var logits = Logits(tokens, mask, null, prefix);
        return CrossEntropy(logits, targets, _t.V);
    }

    public static double CrossEntropy(float[] logits, int[] targets, int V)
    {
        double sum = 0;
        int n = 0;
        for (int t = 0; t < targets.Length; t++)
        {
            if (targets[t] < 0) continue;
            var row = logits.AsSpan(t * V, V);
            float max = TensorPrimitives.Max(row);
            double z = 0;
            foreach (var v in row) z += Math.Exp(v - max);
            sum += Math.Log(z) + max - row[targets[t]];
            n++;
        }
        return n == 0 ? 0 : sum / n;
    }

    /// <summary>The last hidden state after the final RMSNorm, (T, C): what the LM head reads and Eq. 10 distils.</summary>
    public float[] Hidden(int[] tokens, StructureMask? mask = null, ReferenceObserver? obs = null, int prefix = 0)
    {
        var x = Embedding(tokens, mask);
        for (int l = 0; l < _t.L; l++) RunBlock(l, x, tokens.Length, mask, obs, prefix);
        return FinalNorm(x, tokens.Length, mask);
    }

    /// <summary>The residual stream entering block 0, (T, C): embedding rows (masked hidden channels zero).</summary>
    public float[] Embedding(int[] tokens, StructureMask? mask = null)
    {
        int T = tokens.Length, C = _t.C;
        var emb = _w.Get(Embed, _t.V, C).Data;
        var x = new float[T * C];
        for (int t = 0; t < T; t++)
        {
            if ((uint)tokens[t] >= (uint)_t.V) throw new ArgumentException($"token {tokens[t]} at position {t} is outside the vocabulary [0, {_t.V})");
            emb.AsSpan(tokens[t] * C, C).CopyTo(x.AsSpan(t * C));
        }
        ZeroMaskedHidden(x, T, mask);
        return x;
    }

    /// <summary>x (T, C) ← block l(x), in place (identity when the mask drops the layer); only layer l's weights are read.</summary>
    public void RunBlock(int l, float[] x, int T, StructureMask? mask = null, ReferenceObserver? obs = null, int prefix = 0)
    {
        if (mask is not null && !mask.Layers[l]) return;
        var xIn = obs is null ? null : (float[])x.Clone();
        Block(l, x, T, mask, obs, prefix);
        obs?.Block(l, xIn, x, T);
    }

    /// <summary>RMSNorm(x)·w of the final norm, (T, C).</summary>
    public float[] FinalNorm(float[] x, int T, StructureMask? mask = null)
    {
        var o = new float[T * _t.C];
        RmsNorm(x, T, _w.Get(TensorNames.FinalNorm, _t.C).Data, o, mask);
        return o;
    }

    void Block(int l, float[] x, int T, StructureMask? mask, ReferenceObserver? obs, int prefix)
    {
        int C = _t.C, H = _t.H, KV = _t.KV, D = _t.D, F = _t.F;
        var lm = mask?.PerLayer[l];
        var n1 = new float[T * C];
        RmsNorm(x, T, _w.Get(InputNorm(l), C).Data, n1, mask);
        var q = new float[T * H * D];
        var k = new float[T * KV * D];
        var v = new float[T * KV * D];
        Linear(n1, T, C, _w.Get(Q(l), H * D, C).Data, H * D, _w.TryGet(QBias(l))?.Data, q);
        Linear(n1, T, C, _w.Get(K(l), KV * D, C).Data, KV * D, _w.TryGet(KBias(l))?.Data, k);
        Linear(n1, T, C, _w.Get(V(l), KV * D, C).Data, KV * D, _w.TryGet(VBias(l))?.Data, v);
        if (lm is not null)
            for (int t = 0; t < T; t++)
                for (int d = 0; d < D; d++)
                {
                    for (int g = 0; g < KV; g++)
                    {
                        if (!lm.Qk[g][d]) k[(t * KV + g) * D + d] = 0;
                        if (!lm.V[g][d]) v[(t * KV + g) * D + d] = 0;
                    }
                    for (int hh = 0; hh < H; hh++)
                        if (!lm.Qk[hh / _t.Group][d]) q[(t * H + hh) * D + d] = 0;
                }
        Rope(q, T, H);
        Rope(k, T, KV);
        obs?.Qkv(l, q, k, v, T);
        var att = new float[T * H * D];
        Attention(q, k, v, T, att, lm, prefix);
        obs?.HeadOutputs(l, att, T);
        var a = new float[T * C];
        Linear(att, T, H * D, _w.Get(O(l), C, H * D).Data, C, null, a);
        ZeroMaskedHidden(a, T, mask);
        TensorPrimitives.Add(x, a, x);
        var n2 = new float[T * C];
        RmsNorm(x, T, _w.Get(PostNorm(l), C).Data, n2, mask);
        obs?.Norms(l, n1, n2, T);
        var gate = new float[T * F];
        var up = new float[T * F];
        Linear(n2, T, C, _w.Get(Gate(l), F, C).Data, F, null, gate);
        Linear(n2, T, C, _w.Get(Up(l), F, C).Data, F, null, up);
        for (int i = 0; i < gate.Length; i++)
        {
            float g = gate[i];
            gate[i] = lm is not null && !lm.Ffn[i % F] ? 0 : g / (1 + MathF.Exp(-g)) * up[i]; // silu(g)·u
        }
        obs?.FfnActivations(l, gate, T);
        Linear(gate, T, F, _w.Get(Down(l), C, F).Data, C, null, a);
        ZeroMaskedHidden(a, T, mask);
        TensorPrimitives.Add(x, a, x);
    }

    /// <summary>scores = q·kᵀ/√D (teacher D, also when masked), causal or prefix mask, softmax, times v; masked heads output 0.</summary>
    void Attention(float[] q, float[] k, float[] v, int T, float[] att, LayerMask? lm, int prefix)
    {
        int H = _t.H, KV = _t.KV, D = _t.D;
        float scale = 1f / MathF.Sqrt(D);
        var p = new float[T];
        for (int h = 0; h < H; h++)
        {
            if (lm is not null && !lm.Heads[h]) continue;
            int g = h / _t.Group;
            for (int i = 0; i < T; i++)
            {
                var qi = q.AsSpan((i * H + h) * D, D);
                int visible = Math.Max(i + 1, Math.Min(prefix, T));
                for (int j = 0; j < visible; j++) p[j] = TensorPrimitives.Dot(qi, k.AsSpan((j * KV + g) * D, D)) * scale;
                TensorPrimitives.SoftMax(p.AsSpan(0, visible), p.AsSpan(0, visible));
                var o = att.AsSpan((i * H + h) * D, D);
                for (int j = 0; j < visible; j++) TensorPrimitives.MultiplyAdd(v.AsSpan((j * KV + g) * D, D), p[j], o, o);
            }
        }
    }

    /// <summary>Rotates pair j of the first R channels of each head by t·θ^(−2j/R) (layout per rope_interleaved).</summary>
    void Rope(float[] x, int T, int heads)
    {
        int D = _t.D, R = _t.R;
        if (R == 0) return;
        var rot = new LightGlm.Compression.Pruning.RotaryChannels(D, R, _t.RopeInterleaved);
        for (int j = 0; j < R / 2; j++)
        {
            double invFreq = Math.Pow(_t.RopeTheta, -2.0 * j / R);
            var (a, b) = rot.Pair(j);
            for (int t = 0; t < T; t++)
            {
                float cos = (float)Math.Cos(t * invFreq), sin = (float)Math.Sin(t * invFreq);
                for (int h = 0; h < heads; h++)
                {
                    int o = (t * heads + h) * D;
                    float x0 = x[o + a], x1 = x[o + b];
                    x[o + a] = x0 * cos - x1 * sin;
                    x[o + b] = x0 * sin + x1 * cos;
                }
            }
        }
    }

    /// <summary>out = x / √(Σ_kept x² / C_kept + eps) · w; masked channels are zero in x, so the sum is over kept ones.</summary>
    void RmsNorm(float[] x, int T, float[] w, float[] o, StructureMask? mask)
    {
        int C = _t.C, kept = mask?.HiddenCount ?? C;
        for (int t = 0; t < T; t++)
        {
            var row = x.AsSpan(t * C, C);
            float inv = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(row) / kept + (float)_t.RmsNormEps);
            TensorPrimitives.Multiply(row, inv, o.AsSpan(t * C, C));
            TensorPrimitives.Multiply(o.AsSpan(t * C, C), w, o.AsSpan(t * C, C));
        }
        ZeroMaskedHidden(o, T, mask);
    }

    void ZeroMaskedHidden(float[] x, int T, StructureMask? mask)
    {
        if (mask is null) return;
        int C = _t.C;
        for (int c = 0; c < C; c++)
            if (!mask.Hidden[c])
                for (int t = 0; t < T; t++) x[t * C + c] = 0;
    }

    /// <summary>y (T, outDim) = x (T, inDim) · Wᵀ (+ b), W (outDim, inDim) row-major.</summary>
    public static void Linear(float[] x, int T, int inDim, float[] w, int outDim, float[]? b, float[] y)
    {
        void Row(int o)
        {
            var wr = w.AsSpan(o * inDim, inDim);
            float bias = b?[o] ?? 0f;
            for (int t = 0; t < T; t++) y[t * outDim + o] = TensorPrimitives.Dot(x.AsSpan(t * inDim, inDim), wr) + bias;
        }
        if ((long)T * inDim * outDim < 1 << 18) for (int o = 0; o < outDim; o++) Row(o);
        else Parallel.For(0, outDim, Row);
    }
}
