// Student sizes to reach: explicit counts, or a parameter budget solved by shrinking head_dim and FFN together (the paper's rule).
using LightGlm.Model;

namespace LightGlm.Compression.Pruning;

/// <summary>Null = keep the teacher's size. head_dim keeps rotary pairs first (R' = min(R, D')); the rotary policy decides which pairs when D' &lt; R.</summary>
public sealed record PruningTargets
{
    public int? Layers { get; init; }
    public int? Hidden { get; init; }
    public int? KvHeads { get; init; }
    /// <summary>Query heads per kept KV head.</summary>
    public int? HeadsPerGroup { get; init; }
    public int? HeadDim { get; init; }
    public int? Ffn { get; init; }
    /// <summary>"stride" (exact frequencies; pairs {0, s, 2s, …}) or "importance" (best pairs, frequencies remapped).</summary>
    public string Rotary { get; init; } = "stride";

    /// <summary>
    /// The paper's width rule for a budget: keep heads, shrink d_a → d_a' and d_ffn' = (d_a'/d_a)·d_ffn, taking the largest
    /// even d_a' whose student has at most <paramref name="maxParams"/> parameters (other given targets held fixed) and that
    /// the rotary policy can build (<see cref="PlanBuilder.SplitHeadDim"/>: with "stride", below R only D'/2 dividing R/2).
    /// </summary>
    public static PruningTargets ForBudget(ModelConfig t, long maxParams, PruningTargets fixedPart)
    {
        if (fixedPart.Rotary is not ("stride" or "importance"))
            throw new InvalidDataException($"rotary policy '{fixedPart.Rotary}' is not 'stride' or 'importance'");
        for (int d = t.D; d >= 2; d -= 2)
        {
            if (PlanBuilder.SplitHeadDim(t, d, fixedPart.Rotary).Error is not null) continue;
            var trial = fixedPart with { HeadDim = d, Ffn = fixedPart.Ffn ?? Math.Max(1, (int)Math.Round((double)d / t.D * t.F)) };
            if (Params(t, trial) <= maxParams) return trial;
        }
        throw new InvalidDataException($"no head_dim reaches {maxParams:N0} parameters (teacher {t.ParameterCount():N0}); drop layers (--layers) or hidden channels (--hidden) as well");
    }

    /// <summary>Parameters of the student these targets give; its rotary dims are min(R, D') (rotary pairs are kept first).</summary>
    public static long Params(ModelConfig t, PruningTargets x)
    {
        int kv = x.KvHeads ?? t.KV, d = x.HeadDim ?? t.D;
        int r = Math.Min(t.R, d);
        return t.Resized(c: x.Hidden ?? t.C, l: x.Layers ?? t.L, h: kv * (x.HeadsPerGroup ?? t.Group), kv: kv, d: d, f: x.Ffn ?? t.F, r: r).ParameterCount();
    }
}
