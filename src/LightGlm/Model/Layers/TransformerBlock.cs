// One pre-norm transformer block (attention + SwiGLU MLP) with forward and backward, as in docs/ENGINE.md "Math of one block".
using LightGlm.Model.Inference;
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
            Map(LoraTarget.Qkv, a.Qkv, a.Ln1, _o.Qkv, _o.QkvBias, N, C, W);
        }
        using (StepProfiler.Time("rotary.fwd"))
            model.Rotary.ApplyRows(a.Qkv, cache.Positions, N, H + KV, D, W);     // q and k heads, position in the row's example (ActivationCache.SetPositions)
        using (StepProfiler.Time("attention.fwd"))
            KAttention.ForwardQkv(a.Att, a.Probs, a.Qkv, B, T, H, KV, D, batch.PrefixLengths, default,
                new LightGlm.Kernels.AttentionSegments(batch.SegmentStarts, batch.SegmentPrefixEnds));
        using (StepProfiler.Time("gemm.o.fwd"))
        {
            Map(LoraTarget.O, cache.Branch, a.Att, _o.O, -1, N, HD, C);
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
            Map(LoraTarget.GateUp, a.GateUp, a.Ln2, _o.GateUp, -1, N, C, 2 * F);
        }
        Pointwise.SwiGluForward(a.Act, a.GateUp, N, F);
        using (StepProfiler.Time("gemm.down.fwd"))
        {
            Map(LoraTarget.Down, cache.Branch, a.Act, _o.Down, -1, N, F, C);
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
            MapBackward(LoraTarget.Down, cache.DAct, dBranch, a.Act, _o.Down, -1, N, F, C);
        }
        Pointwise.SwiGluBackward(cache.DGateUp, cache.DAct, a.GateUp, N, F);
        using (StepProfiler.Time("gemm.gate_up.bwd"))
        {
            MapBackward(LoraTarget.GateUp, cache.DLn, cache.DGateUp, a.Ln2, _o.GateUp, -1, N, C, 2 * F);
        }
        Pointwise.RmsNormBackward(dres, model.NormGrad(_o.PostNorm, C), cache.DLn, a.Mid, model.W(_o.PostNorm, C), a.Rstd2, N, C);

        // Attention branch: h = x + mask1 ⊙ o_proj(att)
        if (dropout) TensorPrimitives.Multiply(dres.Span, a.Mask1.Span, dBranch.Span);
        using (StepProfiler.Time("gemm.o.bwd"))
        {
            MapBackward(LoraTarget.O, cache.DAtt, dBranch, a.Att, _o.O, -1, N, HD, C);
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
            MapBackward(LoraTarget.Qkv, cache.DLn, cache.DQkv, a.Ln1, _o.Qkv, _o.QkvBias, N, C, W);
        }
        Pointwise.RmsNormBackward(dres, model.NormGrad(_o.InputNorm, C), cache.DLn, x, model.W(_o.InputNorm, C), a.Rstd1, N, C);
    }

    /// <summary>
    /// One linear map of the block, y (N, Out) = x (N, In)·Wᵀ + b: the arena's weight at <paramref name="w"/> (bias at
    /// <paramref name="bias"/>, −1 = none), or the frozen source's projection of that map; then its LoRA term, if any.
    /// </summary>
    void Map(LoraTarget target, TensorView y, TensorView x, int w, int bias, int N, int In, int Out)
    {
        if (model.FrozenBase is { } fb) model.FrozenForward(Frozen(fb, target), y, x, N);
        else Linear.Forward(y, x, model.W(w, Out * In), bias >= 0 ? model.W(bias, Out) : default, N, In, Out);
        model.Lora?.Forward(Index, target, y, x, N);
    }

    /// <summary>The backward of <see cref="Map"/>: dx = dy·W (and dW, db unless the base is frozen), then the LoRA term's.</summary>
    void MapBackward(LoraTarget target, TensorView dx, TensorView dy, TensorView x, int w, int bias, int N, int In, int Out)
    {
        if (model.FrozenBase is { } fb) model.FrozenBackward(Frozen(fb, target), dx, dy, N);
        else Linear.Backward(dx, model.BaseGrad(w, Out * In), bias >= 0 ? model.BaseGrad(bias, Out) : default, dy, x, model.W(w, Out * In), N, In, Out);
        model.Lora?.Backward(Index, target, dx, dy, x, N);
    }

    Projection Frozen(InferenceWeights fb, LoraTarget target) => target switch
    {
        LoraTarget.Qkv => fb.Qkv(Index),
        LoraTarget.O => fb.O(Index),
        LoraTarget.GateUp => fb.GateUp(Index),
        _ => fb.Down(Index),
    };
}
