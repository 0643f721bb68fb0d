// Turns importance scores and target sizes into a pruning plan: the top structures kept, rotary pairs and query groups respected.
using LightGlm.Compression.Importance;

namespace LightGlm.Compression.Pruning;

public static class PlanBuilder
{
    /// <summary>
    /// Layers: the best L' by layer score (kept in teacher order). Per kept layer: best KV' groups by KV score, within each
    /// the best H'/KV' query heads; head-dim: pass-through channels (c ≥ R) by score first, rotary pairs only when D' &lt; R
    /// (a stride set, or the best pairs with Rotary = "importance"); v channels, FFN neurons, hidden channels: best by score.
    /// </summary>
    public static PruningPlan Build(ModelShape t, ImportanceScores s, PruningTargets x)
    {
        int L2 = Check(x.Layers ?? t.L, t.L, "layers"), C2 = Check(x.Hidden ?? t.C, t.C, "hidden");
        int KV2 = Check(x.KvHeads ?? t.KV, t.KV, "kv heads"), G2 = Check(x.HeadsPerGroup ?? t.Group, t.Group, "heads per group");
        int D2 = Check(x.HeadDim ?? t.D, t.D, "head dim"), F2 = Check(x.Ffn ?? t.F, t.F, "ffn");
        var rot = new RotaryChannels(t.D, t.R, t.RopeInterleaved);
        int pass = t.D - t.R;
        int keepPass = Math.Min(pass, D2);
        int rotDims = D2 - keepPass;
        if (rotDims % 2 != 0) throw new InvalidDataException($"head_dim {D2} would keep {rotDims} rotary channels; rotary channels go in pairs, choose an even head_dim");
        int pairs = rotDims / 2;
        bool importancePairs = x.Rotary == "importance";
        if (!importancePairs && x.Rotary != "stride") throw new InvalidDataException($"rotary policy '{x.Rotary}' is not 'stride' or 'importance'");
        if (!importancePairs && pairs < rot.Pairs && rot.StridePairs(pairs) is null)
            throw new InvalidDataException($"head_dim {D2} keeps {pairs} of {rot.Pairs} rotary pairs, which is no stride set ({pairs} does not divide {rot.Pairs}); choose another head_dim or --rotary importance");

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

    /// <summary>Indices of the k largest scores (ties: lower index first).</summary>
    public static List<int> Top(double[] scores, int k) =>
        Enumerable.Range(0, scores.Length).OrderByDescending(i => scores[i]).ThenBy(i => i).Take(k).ToList();

    static int Check(int v, int max, string what) =>
        v >= 1 && v <= max ? v : throw new InvalidDataException($"target {what} = {v} must be in [1, {max}] (the teacher's size)");

    // ---- baselines that are plans, not scores ----

    /// <summary>mBERT_drop: keep the bottom <paramref name="keep"/> layers, drop the top ones; nothing else changes.</summary>
    public static PruningPlan TopLayerDrop(ModelShape t, int keep) =>
        new() { Layers = Enumerable.Range(0, Check(keep, t.L, "layers")).ToList(), Note = $"top-layer drop: layers 0..{keep - 1} of {t.L}" };

    /// <summary>DistilBERT's student initialisation: every other teacher layer (0, 2, 4, …).</summary>
    public static PruningPlan AlternateLayers(ModelShape t) =>
        new() { Layers = Enumerable.Range(0, t.L).Where(i => i % 2 == 0).ToList(), Note = "DistilBERT-style: every other layer" };
}
