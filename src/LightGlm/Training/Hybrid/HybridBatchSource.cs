// Micro-batches for translation training drawn from the hybrid mix of D_s and D_d (Eq. 12 weights on
// Batch.SampleWeights). With an empty D_d and α = 1 it is the plain translation source: every weight 1.
using LightGlm.Model;
using LightGlm.Translation;

namespace LightGlm.Training.Hybrid;

public sealed class HybridBatchSource : IBatchSource
{
    readonly IReadOnlyList<TaskExample> _source, _target;
    readonly HybridSampler _sampler;
    readonly int _pad;
    readonly bool _plain;

    /// <param name="source">D_s as task examples (prompt + target, prefix length).</param>
    /// <param name="target">D_d; may be empty.</param>
    /// <param name="alpha">Eq. 11's α: source samples weigh α, target samples 1 − α.</param>
    /// <param name="weighting">How α becomes per-sample weights (<see cref="HybridWeighting"/>).</param>
    public HybridBatchSource(IReadOnlyList<TaskExample> source, IReadOnlyList<TaskExample> target, double alpha, int padId, int seed,
        HybridWeighting weighting = HybridWeighting.PerSample)
    {
        _source = source;
        _target = target;
        _sampler = new HybridSampler(source.Count, target.Count, alpha, seed, weighting);
        _plain = target.Count == 0 && alpha == 1.0;
        _pad = padId;
    }

    /// <summary>The plain (non-hybrid) source over one set: every sample weighs 1.</summary>
    public static HybridBatchSource Plain(IReadOnlyList<TaskExample> examples, int padId, int seed) =>
        new(examples, [], 1.0, padId, seed);

    public double Alpha => _sampler.Alpha;
    public int Count => _sampler.Count;

    /// <summary>Micro-batch i holds samples [i·B, (i+1)·B) of the mixed stream: a pure function of i, so resume is exact.</summary>
    public void Fill(Batch batch, long index)
    {
        int B = batch.B, T = batch.T;
        _sampler.Position = index * B;
        batch.PrefixLengths ??= new int[B];
        bool weighted = !_plain;
        int real = 0;
        if (weighted) batch.SampleWeights ??= new float[B];
        for (int b = 0; b < B; b++)
        {
            var s = _sampler.Next();
            var ex = s.Side == HybridSide.Source ? _source[s.Index] : _target[s.Index];
            if (ex.Length > T)
                throw new InvalidOperationException($"a training example has {ex.Length} tokens, more than seq_len = {T}: build the examples with max length {T}");
            var tok = batch.Tokens.AsSpan(b * T, T);
            var tgt = batch.Targets.AsSpan(b * T, T);
            ex.Tokens.CopyTo(tok);
            ex.Targets.CopyTo(tgt);
            tok[ex.Length..].Fill(_pad);
            tgt[ex.Length..].Fill(-1);
            batch.PrefixLengths[b] = ex.PrefixLength;
            real += ex.Length;
            if (weighted) batch.SampleWeights![b] = s.Weight;
        }
        batch.RealTokens = real;
    }
}
