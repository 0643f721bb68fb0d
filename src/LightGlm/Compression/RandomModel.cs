// A model of any shape with seeded random weights in the contract layout: for benchmarks of shapes we cannot download
// (e.g. a 150k-vocabulary model's head), never for quality.
using LightGlm.Model;
using static LightGlm.Model.TensorNames;
using LightGlm.Compression.Tensors;

namespace LightGlm.Compression;

public static class RandomModel
{
    /// <summary>Weights uniform in ±1/√fan-in (embeddings ±1), norms 1, biases when the shape has them; no head when tied.</summary>
    public static ModelFiles Create(ModelConfig s, int seed = 1)
    {
        var rng = new Random(seed);
        float[] Rand(long n, float scale)
        {
            var a = new float[n];
            for (long i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
            return a;
        }
        float[] Ones(int n) { var a = new float[n]; Array.Fill(a, 1f); return a; }
        int C = s.C, HD = s.H * s.D, KD = s.KV * s.D, F = s.F;
        float sc = 1f / MathF.Sqrt(C);
        var w = new TensorSet();
        w.Add(Embed, [s.V, C], Rand((long)s.V * C, 1f));
        for (int l = 0; l < s.L; l++)
        {
            w.Add(InputNorm(l), [C], Ones(C));
            w.Add(PostNorm(l), [C], Ones(C));
            w.Add(Q(l), [HD, C], Rand((long)HD * C, sc));
            w.Add(K(l), [KD, C], Rand((long)KD * C, sc));
            w.Add(V(l), [KD, C], Rand((long)KD * C, sc));
            if (s.AttentionBias)
            {
                w.Add(QBias(l), [HD], Rand(HD, 0.1f));
                w.Add(KBias(l), [KD], Rand(KD, 0.1f));
                w.Add(VBias(l), [KD], Rand(KD, 0.1f));
            }
            w.Add(O(l), [C, HD], Rand((long)C * HD, 1f / MathF.Sqrt(HD)));
            w.Add(Gate(l), [F, C], Rand((long)F * C, sc));
            w.Add(Up(l), [F, C], Rand((long)F * C, sc));
            w.Add(Down(l), [C, F], Rand((long)C * F, 1f / MathF.Sqrt(F)));
        }
        w.Add(FinalNorm, [C], Ones(C));
        if (!s.TieWordEmbeddings) w.Add(LmHead, [s.V, C], Rand((long)s.V * C, sc));
        return new ModelFiles(s, w);
    }
}
