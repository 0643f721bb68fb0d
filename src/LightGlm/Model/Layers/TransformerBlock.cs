// One pre-norm transformer block (attention + SwiGLU MLP) with forward and backward, as in docs/ENGINE.md "Math of one block".
using LightGlm.Model.Lora;
using LightGlm.Model.Ops;
using System.Numerics.Tensors;
using KAttention = LightGlm.Kernels.Attention;

namespace LightGlm.Model.Layers;

/// <summary>
/// h = x + drop(o_proj(Attn(rope(q), rope(k), v))), q|k|v = RMSNorm(x)·w1·W_qkvᵀ + b;
/// y = h + drop(down_proj(silu(gate)·up)), gate|up = RMSNorm(h)·w2·W_guᵀ.
/// Forward stores what backward needs in the micro-batch's <see cref="BlockActivations"/>; backward adds into gradients.
/// With LoRA adapters attached (<see cref="GlmModel.Lora"/>) each adapted map adds (α/r)·(x·Aᵀ)·Bᵀ after its base term, and
/// the backward computes the adapters' gradients and dx but no base gradient.
/// Every op is one kernel call over all N = B·T rows (GEMMs with M = N; row-wise kernels split over cores).
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
        using (StepProfiler.Time("gemm.qkv.fwd"))
        {
            if (model.FrozenBase is { } fb) model.FrozenForward(fb.Qkv(Index), a.Qkv, a.Ln1, N);
            else Linear.Forward(a.Qkv, a.Ln1, model.W(_o.Qkv, W * C), _o.QkvBias >= 0 ? model.W(_o.QkvBias, W) : default, N, C, W);
            model.Lora?.Forward(Index, LoraTarget.Qkv, a.Qkv, a.Ln1, N);
        }
        using (StepProfiler.Time("rotary.fwd"))
            model.Rotary.ApplyRows(a.Qkv, cache.Positions, N, H + KV, D, W);     // q and k heads, position in the row's example (ActivationCache.SetPositions)
        using (StepProfiler.Time("attention.fwd"))
            KAttention.ForwardQkv(a.Att, a.Probs, a.Qkv, B, T, H, KV, D, batch.PrefixLengths, default,
                new LightGlm.Kernels.AttentionSegments(batch.SegmentStarts, batch.SegmentPrefixEnds));
        using (StepProfiler.Time("gemm.o.fwd"))
        {
            if (model.FrozenBase is { } fb) model.FrozenForward(fb.O(Index), cache.Branch, a.Att, N);
            else Linear.Forward(cache.Branch, a.Att, model.W(_o.O, C * HD), default, N, HD, C);
            model.Lora?.Forward(Index, LoraTarget.O, cache.Branch, a.Att, N);
        }
        using (StepProfiler.Time("residual.fwd"))
        {
            if (dropout)
            {
                var rng = Rng.Derive(batch.DropoutSeed, (ulong)(2 * Index));
                Pointwise.DropoutMask(a.Mask1, (float)c.HiddenDropout, ref rng);
                TensorPrimitives.Multiply(cache.Branch.Span, a.Mask1.Span, cache.Branch.Span);
            }
            TensorPrimitives.Add(x.Span, cache.Branch.Span, a.Mid.Span);
        }

        Pointwise.RmsNormForward(a.Ln2, a.Rstd2, a.Mid, model.W(_o.PostNorm, C), N, C, eps);
        using (StepProfiler.Time("gemm.gate_up.fwd"))
        {
            if (model.FrozenBase is { } fb) model.FrozenForward(fb.GateUp(Index), a.GateUp, a.Ln2, N);
            else Linear.Forward(a.GateUp, a.Ln2, model.W(_o.GateUp, 2 * F * C), default, N, C, 2 * F);
            model.Lora?.Forward(Index, LoraTarget.GateUp, a.GateUp, a.Ln2, N);
        }
        Pointwise.SwiGluForward(a.Act, a.GateUp, N, F);
        using (StepProfiler.Time("gemm.down.fwd"))
        {
            if (model.FrozenBase is { } fb) model.FrozenForward(fb.Down(Index), cache.Branch, a.Act, N);
            else Linear.Forward(cache.Branch, a.Act, model.W(_o.Down, C * F), default, N, F, C);
            model.Lora?.Forward(Index, LoraTarget.Down, cache.Branch, a.Act, N);
        }
        using (StepProfiler.Time("residual.fwd"))
        {
            if (dropout)
            {
                var rng = Rng.Derive(batch.DropoutSeed, (ulong)(2 * Index + 1));
                Pointwise.DropoutMask(a.Mask2, (float)c.HiddenDropout, ref rng);
                TensorPrimitives.Multiply(cache.Branch.Span, a.Mask2.Span, cache.Branch.Span);
            }
            TensorPrimitives.Add(a.Mid.Span, cache.Branch.Span, y.Span);
        }
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

        // MLP branch: y = h + mask2 ⊙ down(act). Without dropout the branch's gradient is dres itself (no copy).
        var dBranch = dres;
        if (dropout) { dBranch = cache.DBranch; TensorPrimitives.Multiply(dres.Span, a.Mask2.Span, dBranch.Span); }
        using (StepProfiler.Time("gemm.down.bwd"))
        {
            if (model.FrozenBase is { } fb) model.FrozenBackward(fb.Down(Index), cache.DAct, dBranch, N);
            else Linear.Backward(cache.DAct, model.BaseGrad(_o.Down, C * F), default, dBranch, a.Act, model.W(_o.Down, C * F), N, F, C);
            model.Lora?.Backward(Index, LoraTarget.Down, cache.DAct, dBranch, a.Act, N);
        }
        Pointwise.SwiGluBackward(cache.DGateUp, cache.DAct, a.GateUp, N, F);
        using (StepProfiler.Time("gemm.gate_up.bwd"))
        {
            if (model.FrozenBase is { } fb) model.FrozenBackward(fb.GateUp(Index), cache.DLn, cache.DGateUp, N);
            else Linear.Backward(cache.DLn, model.BaseGrad(_o.GateUp, 2 * F * C), default, cache.DGateUp, a.Ln2, model.W(_o.GateUp, 2 * F * C), N, C, 2 * F);
            model.Lora?.Backward(Index, LoraTarget.GateUp, cache.DLn, cache.DGateUp, a.Ln2, N);
        }
        Pointwise.RmsNormBackward(dres, model.NormGrad(_o.PostNorm, C), cache.DLn, a.Mid, model.W(_o.PostNorm, C), a.Rstd2, N, C);

        // Attention branch: h = x + mask1 ⊙ o_proj(att)
        if (dropout) TensorPrimitives.Multiply(dres.Span, a.Mask1.Span, dBranch.Span);
        using (StepProfiler.Time("gemm.o.bwd"))
        {
            if (model.FrozenBase is { } fb) model.FrozenBackward(fb.O(Index), cache.DAtt, dBranch, N);
            else Linear.Backward(cache.DAtt, model.BaseGrad(_o.O, C * HD), default, dBranch, a.Att, model.W(_o.O, C * HD), N, HD, C);
            model.Lora?.Backward(Index, LoraTarget.O, cache.DAtt, dBranch, a.Att, N);
        }
        using (StepProfiler.Time("attention.bwd"))
        {
            cache.DQkv.Span.Clear();
            KAttention.BackwardQkv(cache.DQkv, cache.DAtt, a.Probs, a.Qkv, B, T, H, KV, D);
        }
        using (StepProfiler.Time("rotary.bwd"))
            model.Rotary.ApplyRows(cache.DQkv, cache.Positions, N, H + KV, D, W, inverse: true); // a rotation's backward rotates by −angle
        using (StepProfiler.Time("gemm.qkv.bwd"))
        {
            if (model.FrozenBase is { } fb) model.FrozenBackward(fb.Qkv(Index), cache.DLn, cache.DQkv, N);
            else Linear.Backward(cache.DLn, model.BaseGrad(_o.Qkv, W * C), _o.QkvBias >= 0 ? model.BaseGrad(_o.QkvBias, W) : default,
                cache.DQkv, a.Ln1, model.W(_o.Qkv, W * C), N, C, W);
            model.Lora?.Backward(Index, LoraTarget.Qkv, cache.DLn, cache.DQkv, a.Ln1, N);
        }
        Pointwise.RmsNormBackward(dres, model.NormGrad(_o.InputNorm, C), cache.DLn, x, model.W(_o.InputNorm, C), a.Rstd1, N, C);
    }
}
