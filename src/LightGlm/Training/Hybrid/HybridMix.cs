// Hybrid-data fine-tuning (paper §3.3, Eq. 11–12): two labelled sets — D_s, the plentiful source side,
// and D_d, the scarce target side — randomly mixed, each sample weighted by α (source) or 1 − α (target).
namespace LightGlm.Training.Hybrid;

/// <summary>Which labelled set a sample comes from.</summary>
public enum HybridSide : byte { Source = 0, Target = 1 }

/// <summary>
/// How α becomes per-sample loss weights. <see cref="PerSample"/>: a source sample weighs α and a target sample 1 − α
/// (Eq. 12 read literally; with α = 0.65 and a 5% D_d the target side holds only 2.8% of the loss mass).
/// <see cref="LossShare"/>: α is the source side's share of the loss mass, as Eq. 11 defines it (w_s·n_s over the
/// total): a source sample weighs α·N/n_s, a target sample (1 − α)·N/n_d, so the mean weight over an epoch is 1 and with
/// α from Eq. 11 the weights are exactly w_s and w_d up to one common factor.
/// </summary>
public enum HybridWeighting : byte { PerSample = 0, LossShare = 1 }

/// <summary>A sample of the mixed stream: its set, its index in that set, and its loss weight.</summary>
public readonly record struct HybridSample(HybridSide Side, int Index, float Weight);

public static class HybridMix
{
    /// <summary>
    /// Eq. 11: α = w_s·n_s / (w_s·n_s + w_d·n_d) — the source set's share of the weighted sample mass.
    /// </summary>
    public static double Alpha(double ws, long ns, double wd, long nd)
    {
        if (ws < 0 || wd < 0 || ns < 0 || nd < 0)
            throw new ArgumentOutOfRangeException(nameof(ws), $"α needs non-negative weights and sizes (w_s={ws}, n_s={ns}, w_d={wd}, n_d={nd})");
        double s = ws * ns, d = wd * nd;
        if (s + d == 0) throw new ArgumentException($"α is undefined when both weighted sets are empty (w_s·n_s = {s}, w_d·n_d = {d})");
        return s / (s + d);
    }

    /// <summary>
    /// Per-sample weights that make the mean loss over a batch equal Eq. 12,
    /// L = −1/N Σ [α·log f(D_s(i)) + (1−α)·log f(D_d(j))]: a source sample carries α, a target sample 1 − α.
    /// </summary>
    public static float WeightOf(HybridSide side, double alpha) => (float)(side == HybridSide.Source ? alpha : 1 - alpha);

    /// <summary>(source weight, target weight) per sample for α under a weighting (see <see cref="HybridWeighting"/>).</summary>
    public static (float Source, float Target) Weights(double alpha, int ns, int nd, HybridWeighting weighting)
    {
        if (weighting == HybridWeighting.PerSample) return (WeightOf(HybridSide.Source, alpha), WeightOf(HybridSide.Target, alpha));
        double n = ns + nd;
        return (ns == 0 ? 0f : (float)(alpha * n / ns), nd == 0 ? 0f : (float)((1 - alpha) * n / nd));
    }

    public static HybridWeighting ParseWeighting(string s) => s switch
    {
        "per_sample" => HybridWeighting.PerSample,
        "loss_share" => HybridWeighting.LossShare,
        _ => throw new ArgumentException($"hybrid weighting '{s}': use per_sample (a source sample weighs α, a target one 1 − α) or loss_share (α = the source side's share of the loss)"),
    };
}

/// <summary>
/// The randomly mixed stream over D_s ∪ D_d: every epoch is a fresh seeded shuffle of all n_s + n_d samples,
/// so a batch holds source and target samples in the sets' proportion on average. Deterministic for a seed,
/// and resumable from a position (epoch, offset).
/// </summary>
public sealed class HybridSampler
{
    readonly int _ns, _nd;
    readonly double _alpha;
    readonly float _ws, _wd;
    readonly int _seed;
    int[] _order = [];
    int _epochOfOrder = -1;

    public HybridSampler(int sourceCount, int targetCount, double alpha, int seed, HybridWeighting weighting = HybridWeighting.PerSample)
    {
        if (sourceCount < 0 || targetCount < 0 || sourceCount + targetCount == 0)
            throw new ArgumentException($"the hybrid mix needs samples: D_s has {sourceCount}, D_d has {targetCount}");
        if (alpha is < 0 or > 1 || double.IsNaN(alpha))
            throw new ArgumentOutOfRangeException(nameof(alpha), $"α must be in [0, 1], got {alpha}");
        (_ns, _nd, _alpha, _seed) = (sourceCount, targetCount, alpha, seed);
        (_ws, _wd) = HybridMix.Weights(alpha, sourceCount, targetCount, weighting);
    }

    public int Count => _ns + _nd;
    public double Alpha => _alpha;

    /// <summary>Position in the stream: samples drawn so far.</summary>
    public long Position { get; set; }

    public HybridSample Next()
    {
        int epoch = (int)(Position / Count), offset = (int)(Position % Count);
        if (epoch != _epochOfOrder) Shuffle(epoch);
        Position++;
        int k = _order[offset];
        var side = k < _ns ? HybridSide.Source : HybridSide.Target;
        return new HybridSample(side, side == HybridSide.Source ? k : k - _ns, side == HybridSide.Source ? _ws : _wd);
    }

    public HybridSample[] NextBatch(int size)
    {
        var batch = new HybridSample[size];
        for (int i = 0; i < size; i++) batch[i] = Next();
        return batch;
    }

    void Shuffle(int epoch)
    {
        if (_order.Length != Count) _order = new int[Count];
        for (int i = 0; i < Count; i++) _order[i] = i;
        // A seed fixed by (seed, epoch) alone: HashCode.Combine is randomized per process, so a rerun or a resumed run
        // shuffled differently (finetune's weights and every dev loss over this mix differed from run to run).
        new Random(unchecked(_seed * 1_000_003 + epoch * 7_919 + 0x4879)).Shuffle(_order);
        _epochOfOrder = epoch;
    }
}
