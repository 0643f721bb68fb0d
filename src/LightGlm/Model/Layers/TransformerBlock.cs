// One pre-norm transformer block (attention + SwiGLU MLP) with forward and backward, as in docs/ENGINE.md "Math of one block".
using LightGlm.Model.Ops;
using System.Numerics.Tensors;

namespace LightGlm.Model.Layers;

/// <summary>
/// h = x + drop(o_proj(Attn(rope(q), rope(k), v))), q|k|v = RMSNorm(x)·w1·W_qkvᵀ + b;
/// y = h + drop(down_proj(silu(gate)·up)), gate|up = RMSNorm(h)·w2·W_guᵀ.
/// Forward stores what backward needs in the micro-batch's <see cref="BlockActivations"/>; backward adds into gradients.
/// </summary>
public sealed class TransformerBlock(GlmModel model, int index)
{
    public int Index { get; } = index;
    readonly BlockOffsets _o = model.Layout.Blocks[index];

    /// <summary>Hidden(Index) (N, C) → Hidden(Index + 1).</summary>
    public void Forward(ActivationCache cache, Batch batch)
    {
        var c = model.Config;
        int B = cache.B, T = cache.T, N = cache.N, C = c.C, D = c.D, H = c.H, KV = c.KV, W = c.QkvDim, F = c.F, HD = H * D;
        var a = cache.Block(Index);
        var x = cache.Hidden(Index);
        var y = cache.Hidden(Index + 1);
        float eps = (float)c.RmsNormEps;
        bool dropout = batch.Training && c.HiddenDropout > 0;
        if (dropout && !cache.DropoutEnabled)
            throw new InvalidOperationException("batch.Training with hidden_dropout > 0 needs an ActivationCache created with dropout: true");

        Pointwise.RmsNormForward(a.Ln1, a.Rstd1, x, model.W(_o.InputNorm, C), N, C, eps);
        Linear.Forward(a.Qkv, a.Ln1, model.W(_o.Qkv, W * C), _o.QkvBias >= 0 ? model.W(_o.QkvBias, W) : default, N, C, W);
        var qkv = a.Qkv.Span;
        for (int n = 0; n < N; n++)                                   // rotary on q and k heads, position t = n % T
            model.Rotary.Apply(qkv.Slice(n * W, (H + KV) * D), H + KV, D, n % T);
        Attention.Forward(a.Att, a.Probs, a.Qkv, batch.PrefixLengths, B, T, H, KV, D);
        Linear.Forward(cache.Branch, a.Att, model.W(_o.O, C * HD), default, N, HD, C);
        if (dropout)
        {
            var rng = Rng.Derive(batch.DropoutSeed, (ulong)(2 * Index));
            Pointwise.DropoutMask(a.Mask1, (float)c.HiddenDropout, ref rng);
            TensorPrimitives.Multiply(cache.Branch.Span, a.Mask1.Span, cache.Branch.Span);
        }
        TensorPrimitives.Add(x.Span, cache.Branch.Span, a.Mid.Span);

        Pointwise.RmsNormForward(a.Ln2, a.Rstd2, a.Mid, model.W(_o.PostNorm, C), N, C, eps);
        Linear.Forward(a.GateUp, a.Ln2, model.W(_o.GateUp, 2 * F * C), default, N, C, 2 * F);
        Pointwise.SwiGluForward(a.Act, a.GateUp, N, F);
        Linear.Forward(cache.Branch, a.Act, model.W(_o.Down, C * F), default, N, F, C);
        if (dropout)
        {
            var rng = Rng.Derive(batch.DropoutSeed, (ulong)(2 * Index + 1));
            Pointwise.DropoutMask(a.Mask2, (float)c.HiddenDropout, ref rng);
            TensorPrimitives.Multiply(cache.Branch.Span, a.Mask2.Span, cache.Branch.Span);
        }
        TensorPrimitives.Add(a.Mid.Span, cache.Branch.Span, y.Span);
    }

    /// <summary>GradHidden = dLoss/dHidden(Index+1) on entry, dLoss/dHidden(Index) on return; adds into parameter gradients.</summary>
    public void Backward(ActivationCache cache, Batch batch)
    {
        var c = model.Config;
        int B = cache.B, T = cache.T, N = cache.N, C = c.C, D = c.D, H = c.H, KV = c.KV, W = c.QkvDim, F = c.F, HD = H * D;
        var a = cache.Block(Index);
        var x = cache.Hidden(Index);
        var dres = cache.GradHidden;
        bool dropout = batch.Training && c.HiddenDropout > 0;

        // MLP branch: y = h + mask2 ⊙ down(act)
        var dBranch = cache.DBranch;
        if (dropout) TensorPrimitives.Multiply(dres.Span, a.Mask2.Span, dBranch.Span); else dres.Span.CopyTo(dBranch.Span);
        Linear.Backward(cache.DAct, model.G(_o.Down, C * F), default, dBranch, a.Act, model.W(_o.Down, C * F), N, F, C);
        Pointwise.SwiGluBackward(cache.DGateUp, cache.DAct, a.GateUp, N, F);
        Linear.Backward(cache.DLn, model.G(_o.GateUp, 2 * F * C), default, cache.DGateUp, a.Ln2, model.W(_o.GateUp, 2 * F * C), N, C, 2 * F);
        Pointwise.RmsNormBackward(dres, model.G(_o.PostNorm, C), cache.DLn, a.Mid, model.W(_o.PostNorm, C), a.Rstd2, N, C, cache.NormScratch);

        // Attention branch: h = x + mask1 ⊙ o_proj(att)
        if (dropout) TensorPrimitives.Multiply(dres.Span, a.Mask1.Span, dBranch.Span); else dres.Span.CopyTo(dBranch.Span);
        Linear.Backward(cache.DAtt, model.G(_o.O, C * HD), default, dBranch, a.Att, model.W(_o.O, C * HD), N, HD, C);
        Attention.Backward(cache.DQkv, cache.DAtt, a.Probs, a.Qkv, batch.PrefixLengths, B, T, H, KV, D);
        var dqkv = cache.DQkv.Span;
        for (int n = 0; n < N; n++)                                   // rotary is a rotation: backward rotates by −angle
            model.Rotary.Apply(dqkv.Slice(n * W, (H + KV) * D), H + KV, D, n % T, inverse: true);
        Linear.Backward(cache.DLn, model.G(_o.Qkv, W * C), _o.QkvBias >= 0 ? model.G(_o.QkvBias, W) : default,
            cache.DQkv, a.Ln1, model.W(_o.Qkv, W * C), N, C, W);
        Pointwise.RmsNormBackward(dres, model.G(_o.InputNorm, C), cache.DLn, x, model.W(_o.InputNorm, C), a.Rstd1, N, C, cache.NormScratch);
    }
}
