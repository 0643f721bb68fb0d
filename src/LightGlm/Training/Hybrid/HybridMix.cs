// Hybrid-data fine-tuning (paper §3.3, Eq. 11–12): two labelled sets — D_s, the plentiful source side,
// and D_d, the scarce target side — randomly mixed, each sample weighted by α (source) or 1 − α (target).
namespace LightGlm.Training.Hybrid;

/// <summary>Which labelled set a sample comes from.</summary>
public enum HybridSide : byte { Source = 0, Target = 1 }

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
    readonly int _seed;
    int[] _order = [];
    int _epochOfOrder = -1;

    public HybridSampler(int sourceCount, int targetCount, double alpha, int seed)
    {
        if (sourceCount < 0 || targetCount < 0 || sourceCount + targetCount == 0)
            throw new ArgumentException($"the hybrid mix needs samples: D_s has {sourceCount}, D_d has {targetCount}");
        if (alpha is < 0 or > 1 || double.IsNaN(alpha))
            throw new ArgumentOutOfRangeException(nameof(alpha), $"α must be in [0, 1], got {alpha}");
        (_ns, _nd, _alpha, _seed) = (sourceCount, targetCount, alpha, seed);
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
        return new HybridSample(side, side == HybridSide.Source ? k : k - _ns, HybridMix.WeightOf(side, _alpha));
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
        new Random(HashCode.Combine(_seed, epoch, 0x4879)).Shuffle(_order);
        _epochOfOrder = epoch;
    }
}
