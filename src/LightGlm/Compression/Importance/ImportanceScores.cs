// Importance of every prunable structure of a teacher (higher = keep); produced by one estimator, read by the plan builder.
using LightGlm.Model;

namespace LightGlm.Compression.Importance;

/// <summary>Scores in teacher indices. Layers (L), heads (L, H), KV heads (L, KV), qk/v channels (L, KV, D), FFN (L, F), hidden (C).</summary>
public sealed class ImportanceScores
{
    public string Method { get; init; } = "";
    public required double[] Layers { get; init; }
    public required double[][] Heads { get; init; }
    public required double[][] KvHeads { get; init; }
    public required double[][][] QkChannels { get; init; }
    public required double[][][] VChannels { get; init; }
    public required double[][] Ffn { get; init; }
    public required double[] Hidden { get; init; }

    public static ImportanceScores Zeros(ModelConfig t, string method) => new()
    {
        Method = method,
        Layers = new double[t.L],
        Heads = Jag(t.L, t.H),
        KvHeads = Jag(t.L, t.KV),
        QkChannels = Enumerable.Range(0, t.L).Select(_ => Jag(t.KV, t.D)).ToArray(),
        VChannels = Enumerable.Range(0, t.L).Select(_ => Jag(t.KV, t.D)).ToArray(),
        Ffn = Jag(t.L, t.F),
        Hidden = new double[t.C],
    };

    static double[][] Jag(int a, int b) => Enumerable.Range(0, a).Select(_ => new double[b]).ToArray();

    /// <summary>KV-head scores as the sum of their query heads' (used when an estimator scores heads only).</summary>
    public void KvFromHeads(ModelConfig t)
    {
        for (int l = 0; l < t.L; l++)
            for (int h = 0; h < t.H; h++) KvHeads[l][h / t.Group] += Heads[l][h];
    }
}
