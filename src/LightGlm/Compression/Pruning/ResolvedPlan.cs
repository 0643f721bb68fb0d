// A pruning plan checked against a teacher's shape, with every "keep all" filled in: the one form pruner and masks use.
using LightGlm.Model;

namespace LightGlm.Compression.Pruning;

/// <summary>Resolved indices for one kept layer.</summary>
public sealed record ResolvedLayer(int Teacher, int[] KvHeads, int[] Heads, int[][] QkChannels, int[][] VChannels, int[] FfnNeurons);

/// <summary>A validated plan: global student sizes and per-layer teacher indices, every list in student order.</summary>
public sealed class ResolvedPlan
{
    public required ModelConfig Teacher { get; init; }
    public required int[] HiddenChannels { get; init; }
    public required ResolvedLayer[] Layers { get; init; }
    public int C => HiddenChannels.Length;
    public int H => Layers.Length > 0 ? Layers[0].Heads.Length : Teacher.H;
    public int KV => Layers.Length > 0 ? Layers[0].KvHeads.Length : Teacher.KV;
    public int D => Layers.Length > 0 ? Layers[0].QkChannels[0].Length : Teacher.D;
    public int F => Layers.Length > 0 ? Layers[0].FfnNeurons.Length : Teacher.F;
    /// <summary>Student rotary dims R' (whole pairs kept, the same in every layer and group).</summary>
    public required int R { get; init; }
    /// <summary>True when every kept rotary pair keeps its teacher frequency (see <see cref="RotaryChannels"/>).</summary>
    public required bool ExactRotary { get; init; }

    /// <summary>The student's config.json.</summary>
    public ModelConfig StudentConfig() => Teacher.Resized(c: C, l: Layers.Length, h: H, kv: KV, d: D, f: F, r: R);

    public static ResolvedPlan Resolve(PruningPlan plan, ModelConfig t, string source = "pruning plan")
    {
        var p = new List<string>();
        var rot = new RotaryChannels(t.D, t.R, t.RopeInterleaved);
        int[] All(int n) => Enumerable.Range(0, n).ToArray();
        int[] Check(List<int>? list, int n, string what)
        {
            if (list is null) return All(n);
            var bad = list.Where(i => i < 0 || i >= n).ToList();
            if (bad.Count > 0) p.Add($"{what}: indices {string.Join(",", bad.Take(5))} are outside [0, {n})");
            if (list.Distinct().Count() != list.Count) p.Add($"{what}: an index is listed twice");
            if (list.Count == 0) p.Add($"{what}: keeps nothing");
            return list.ToArray();
        }

        var layers = Check(plan.Layers, t.L, "layers");
        if (layers.Zip(layers.Skip(1)).Any(z => z.First >= z.Second)) p.Add($"layers [{string.Join(",", layers)}] must be ascending: a student keeps the teacher's layer order");
        var hidden = Check(plan.HiddenChannels, t.C, "hidden_channels");
        if (plan.LayerPlans is { } lp && lp.Count != layers.Length)
            p.Add($"layer_plans has {lp.Count} entries but {layers.Length} layers are kept; give one per kept layer or none");
        var resolved = new List<ResolvedLayer>();
        int? rPrime = null;
        bool exact = true;
        for (int s = 0; s < layers.Length && p.Count == 0; s++)
        {
            var l = plan.LayerPlans?[s] ?? new LayerPlan();
            string at = $"layer_plans[{s}] (teacher layer {layers[s]})";
            var kv = Check(l.KvHeads, t.KV, at + ".kv_heads");
            var heads = l.Heads is null ? kv.SelectMany(g => Enumerable.Range(g * t.Group, t.Group)).ToArray() : Check(l.Heads, t.H, at + ".heads");
            // Query heads listed group by group, the same number in each kept group: head h' of the student uses KV head h'/(H'/KV').
            if (heads.Length % kv.Length != 0) p.Add($"{at}: {heads.Length} heads cannot be split evenly over {kv.Length} kept KV heads");
            else
            {
                int g = heads.Length / kv.Length;
                for (int i = 0; i < heads.Length; i++)
                    if (heads[i] / t.Group != kv[i / g])
                        p.Add($"{at}.heads[{i}] = {heads[i]} belongs to KV head {heads[i] / t.Group}, but position {i} is KV head {kv[i / g]}'s (list heads group by group in kv_heads order)");
            }
            int[][] Channels(List<List<int>>? lists, string what)
            {
                if (lists is null) return kv.Select(_ => All(t.D)).ToArray();
                if (lists.Count != kv.Length) { p.Add($"{at}.{what} has {lists.Count} lists, one per kept KV head ({kv.Length}) is needed"); return []; }
                return lists.Select((c, i) => Check(c, t.D, $"{at}.{what}[{i}]")).ToArray();
            }
            var qk = Channels(l.QkChannels, "qk_channels");
            var v = Channels(l.VChannels, "v_channels");
            foreach (var set in qk)
            {
                var (pairs, _, err) = rot.Parse(set);
                if (err is not null) { p.Add($"{at}.qk_channels {err}"); continue; }
                if (rPrime is { } r0 && r0 != 2 * pairs.Count) p.Add($"{at}.qk_channels keeps {pairs.Count} rotary pairs, other groups keep {r0 / 2}; the config has one rotary size");
                rPrime ??= 2 * pairs.Count;
                if (!rot.KeepsFrequencies(pairs)) exact = false;
            }
            var widths = qk.Concat(v).Select(c => c.Length).Distinct().ToList();
            if (widths.Count > 1) p.Add($"{at}: head-dim channel lists have different lengths ({string.Join(",", widths)}); head_dim is one number");
            resolved.Add(new ResolvedLayer(layers[s], kv, heads, qk, v, Check(l.FfnNeurons, t.F, at + ".ffn_neurons")));
        }
        if (p.Count == 0 && resolved.Count > 0)
        {
            var first = resolved[0];
            foreach (var r in resolved.Skip(1))
            {
                if (r.Heads.Length != first.Heads.Length || r.KvHeads.Length != first.KvHeads.Length)
                    p.Add($"teacher layer {r.Teacher} keeps {r.Heads.Length} heads / {r.KvHeads.Length} KV heads, layer {first.Teacher} keeps {first.Heads.Length} / {first.KvHeads.Length}; counts must match across layers");
                if (r.QkChannels[0].Length != first.QkChannels[0].Length) p.Add($"teacher layer {r.Teacher} keeps head_dim {r.QkChannels[0].Length}, layer {first.Teacher} keeps {first.QkChannels[0].Length}");
                if (r.FfnNeurons.Length != first.FfnNeurons.Length) p.Add($"teacher layer {r.Teacher} keeps {r.FfnNeurons.Length} FFN neurons, layer {first.Teacher} keeps {first.FfnNeurons.Length}");
            }
        }
        if (p.Count == 0 && !exact && !plan.AllowRopeFrequencyChange)
            p.Add("the kept rotary pairs are not a stride set {0, s, 2s, ...}, so their frequencies would change; keep a stride set or set allow_rope_frequency_change: true");
        if (p.Count > 0) throw new InvalidDataException($"{source}: {p.Count} problem(s):\n  - " + string.Join("\n  - ", p.Take(20)));
        return new ResolvedPlan { Teacher = t, HiddenChannels = hidden, Layers = resolved.ToArray(), R = rPrime ?? t.R, ExactRotary = exact };
    }
}
