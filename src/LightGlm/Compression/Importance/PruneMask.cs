// Masks over a teacher's structures (layers, heads, head-dim channels, FFN neurons, hidden channels) for the masked forward.
using LightGlm.Compression.Pruning;

namespace LightGlm.Compression.Importance;

/// <summary>What the masked forward keeps, per layer (teacher indices). true = kept.</summary>
public sealed class LayerMask(int h, int kv, int d, int f)
{
    public bool[] Heads { get; } = Enumerable.Repeat(true, h).ToArray();
    public bool[][] Qk { get; } = Enumerable.Range(0, kv).Select(_ => Enumerable.Repeat(true, d).ToArray()).ToArray();
    public bool[][] V { get; } = Enumerable.Range(0, kv).Select(_ => Enumerable.Repeat(true, d).ToArray()).ToArray();
    public bool[] Ffn { get; } = Enumerable.Repeat(true, f).ToArray();
}

public sealed class PruneMask
{
    public bool[] Layers { get; }
    public bool[] Hidden { get; }
    public LayerMask[] PerLayer { get; }
    public int HiddenCount => Hidden.Count(b => b);

    public PruneMask(ModelShape t)
    {
        Layers = Enumerable.Repeat(true, t.L).ToArray();
        Hidden = Enumerable.Repeat(true, t.C).ToArray();
        PerLayer = Enumerable.Range(0, t.L).Select(_ => new LayerMask(t.H, t.KV, t.D, t.F)).ToArray();
    }

    /// <summary>The mask whose masked teacher the pruner's student must equal.</summary>
    public static PruneMask FromPlan(ResolvedPlan plan)
    {
        var t = plan.Teacher;
        var m = new PruneMask(t);
        Array.Fill(m.Layers, false);
        Array.Fill(m.Hidden, false);
        foreach (var c in plan.HiddenChannels) m.Hidden[c] = true;
        foreach (var l in plan.Layers)
        {
            m.Layers[l.Teacher] = true;
            var lm = m.PerLayer[l.Teacher];
            Array.Fill(lm.Heads, false);
            foreach (var h in l.Heads) lm.Heads[h] = true;
            for (int g = 0; g < t.KV; g++) { Array.Fill(lm.Qk[g], false); Array.Fill(lm.V[g], false); }
            for (int i = 0; i < l.KvHeads.Length; i++)
            {
                foreach (var c in l.QkChannels[i]) lm.Qk[l.KvHeads[i]][c] = true;
                foreach (var c in l.VChannels[i]) lm.V[l.KvHeads[i]][c] = true;
            }
            Array.Fill(lm.Ffn, false);
            foreach (var n in l.FfnNeurons) lm.Ffn[n] = true;
        }
        return m;
    }
}
