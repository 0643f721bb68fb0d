// The structure masks compression asks the one forward pass for: a whole teacher, or what a pruning plan keeps of it.
using LightGlm.Model;
using LightGlm.Compression.Pruning;
using LightGlm.Model.Inference;

namespace LightGlm.Compression.Importance;

public static class PruneMask
{
    /// <summary>Everything of <paramref name="t"/> kept (clear entries to mask them).</summary>
    public static StructureMask Full(ModelConfig t) => new(t.L, t.C, t.H, t.KV, t.D, t.F);

    /// <summary>The mask whose masked teacher the pruner's student must equal.</summary>
    public static StructureMask FromPlan(ResolvedPlan plan)
    {
        var t = plan.Teacher;
        var m = Full(t);
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
