// Turns importance scores and target sizes into a pruning plan: the top structures kept, rotary pairs and query groups respected.
using LightGlm.Model;
using LightGlm.Compression.Importance;

namespace LightGlm.Compression.Pruning;

public static class PlanBuilder
{
    /// <summary>
    /// Layers: the best L' by layer score (kept in teacher order). Per kept layer: best KV' groups by KV score, within each
    /// the best H'/KV' query heads; head-dim (<see cref="SplitHeadDim"/>): every rotary pair while D' ≥ R and the best
    /// D' − R pass-through channels (c ≥ R); below R, only pairs — a stride set, or the best pairs with Rotary =
    /// "importance". v channels, FFN neurons, hidden channels: best by score.
    /// </summary>
    public static PruningPlan Build(ModelConfig t, ImportanceScores s, PruningTargets x)
    {
        int L2 = Check(x.Layers ?? t.L, t.L, "layers"), C2 = Check(x.Hidden ?? t.C, t.C, "hidden");
        int KV2 = Check(x.KvHeads ?? t.KV, t.KV, "kv heads"), G2 = Check(x.HeadsPerGroup ?? t.Group, t.Group, "heads per group");
        int D2 = Check(x.HeadDim ?? t.D, t.D, "head dim"), F2 = Check(x.Ffn ?? t.F, t.F, "ffn");
        var rot = new RotaryChannels(t.D, t.R, t.RopeInterleaved);
        var (pairs, keepPass, error) = SplitHeadDim(t, D2, x.Rotary);
        if (error is not null) throw new InvalidDataException(error);
        int pass = t.D - t.R;
        bool importancePairs = x.Rotary == "importance";

        var layers = Top(s.Layers, L2).Order().ToList();
        var plans = new List<LayerPlan>();
        foreach (int l in layers)
        {
            var kv = Top(s.KvHeads[l], KV2).Order().ToList();
            var heads = kv.SelectMany(g => Top(s.Heads[l].Skip(g * t.Group).Take(t.Group).ToArray(), G2).Order().Select(i => g * t.Group + i)).ToList();
            var qk = kv.Select(g =>
            {
                var sc = s.QkChannels[l][g];
                var passKept = Top(Enumerable.Range(t.R, pass).Select(c => sc[c]).ToArray(), keepPass).Select(i => t.R + i);
                List<int> pairKept = pairs == rot.Pairs ? Enumerable.Range(0, rot.Pairs).ToList()
                    : importancePairs ? Top(Enumerable.Range(0, rot.Pairs).Select(j => sc[rot.Pair(j).A] + sc[rot.Pair(j).B]).ToArray(), pairs)
                    : rot.StridePairs(pairs)!;
                return rot.Order(pairKept, passKept);
            }).ToList();
            var v = kv.Select(g => Top(s.VChannels[l][g], D2).Order().ToList()).ToList();
            plans.Add(new LayerPlan { KvHeads = kv, Heads = heads, QkChannels = qk, VChannels = v, FfnNeurons = Top(s.Ffn[l], F2).Order().ToList() });
        }
        return new PruningPlan
        {
            Layers = layers,
            HiddenChannels = Top(s.Hidden, C2).Order().ToList(),
            LayerPlans = plans,
            AllowRopeFrequencyChange = importancePairs,
            Note = $"importance={s.Method}; L={L2} C={C2} KV={KV2} H={KV2 * G2} D={D2} F={F2} rotary={x.Rotary}",
        };
    }

    /// <summary>
    /// How a pruned head of <paramref name="d"/> channels splits (the rule of docs/COMPRESSION.md): rotary pairs are kept
    /// first — all R/2 of them while D' ≥ R, so pruning removes pass-through channels — and the other D' − R' channels are
    /// pass-through. Below R the head keeps D'/2 pairs, which under <paramref name="rotary"/> = "stride" must be a stride set
    /// (D'/2 divides R/2). Returns the error (and zero counts) when D' cannot be built that way.
    /// </summary>
    public static (int Pairs, int PassThrough, string? Error) SplitHeadDim(ModelConfig t, int d, string rotary)
    {
        if (rotary is not ("stride" or "importance")) return (0, 0, $"rotary policy '{rotary}' is not 'stride' or 'importance'");
        if (t.R > 0 && d % 2 != 0)
            return (0, 0, $"head_dim {d} is odd; a head with rotary channels needs an even head_dim (rotary channels go in pairs, and the config requires it)");
        int rotDims = Math.Min(t.R, d), pairs = rotDims / 2, allPairs = t.R / 2;
        if (rotary == "stride" && pairs < allPairs && allPairs % pairs != 0)
            return (0, 0, $"head_dim {d} keeps {pairs} of {allPairs} rotary pairs, which is no stride set ({pairs} does not divide {allPairs}); choose another head_dim or --rotary importance");
        return (pairs, d - rotDims, null);
    }

    /// <summary>
    /// Why a student made by this builder must be rebuilt, or null: it keeps fewer rotary dims than the rule's R' = min(R, D')
    /// — the plan builder before the rotary-pairs-first fix kept pass-through channels first and could drop every pair.
    /// </summary>
    public static string? StaleRotary(ModelConfig teacher, ModelConfig student) =>
        student.R < Math.Min(teacher.R, student.D)
            ? $"it rotates {student.R} of its {student.D} head dims but the rule keeps min(R, D') = {Math.Min(teacher.R, student.D)} (built before rotary pairs were kept first)"
            : null;

    /// <summary>Indices of the k largest scores (ties: lower index first).</summary>
    public static List<int> Top(double[] scores, int k) =>
        Enumerable.Range(0, scores.Length).OrderByDescending(i => scores[i]).ThenBy(i => i).Take(k).ToList();

    static int Check(int v, int max, string what) =>
        v >= 1 && v <= max ? v : throw new InvalidDataException($"target {what} = {v} must be in [1, {max}] (the teacher's size)");

    // ---- baselines that are plans, not scores ----

    /// <summary>mBERT_drop: keep the bottom <paramref name="keep"/> layers, drop the top ones; nothing else changes.</summary>
    public static PruningPlan TopLayerDrop(ModelConfig t, int keep) =>
        new() { Layers = Enumerable.Range(0, Check(keep, t.L, "layers")).ToList(), Note = $"top-layer drop: layers 0..{keep - 1} of {t.L}" };

    /// <summary>DistilBERT's student initialisation: every other teacher layer (0, 2, 4, …).</summary>
    public static PruningPlan AlternateLayers(ModelConfig t) =>
        new() { Layers = Enumerable.Range(0, t.L).Where(i => i % 2 == 0).ToList(), Note = "DistilBERT-style: every other layer" };
}
