using LightGlm.Training.Hybrid;

namespace LightGlm.Tests.Training.Hybrid;

public class HybridMixTests
{
    [Theory]
    [InlineData(1.0, 1000, 1.0, 50, 1000.0 / 1050)]
    [InlineData(1.0, 100, 1.0, 100, 0.5)]
    [InlineData(0.5, 100, 2.0, 100, 0.2)]
    [InlineData(0.0, 100, 1.0, 7, 0.0)]
    public void AlphaIsEq11(double ws, long ns, double wd, long nd, double expected) =>
        Assert.Equal(expected, HybridMix.Alpha(ws, ns, wd, nd), 12);

    [Fact]
    public void AlphaRejectsNonsense()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => HybridMix.Alpha(-1, 10, 1, 10));
        Assert.Throws<ArgumentException>(() => HybridMix.Alpha(1, 0, 1, 0));
    }

    [Fact]
    public void TheOrderDependsOnTheSeedAloneNotOnTheProcess()
    {
        // Golden: the first two epochs for seed 7. The shuffle's seed was HashCode.Combine(seed, epoch, …), which .NET
        // randomizes per process: each run (and each resume) of a fine-tuning drew its batches in another order.
        var sampler = new HybridSampler(6, 2, alpha: 0.5, seed: 7);
        var order = string.Join(" ", Enumerable.Range(0, 16).Select(_ => sampler.Next()).Select(s => $"{(s.Side == HybridSide.Source ? 's' : 't')}{s.Index}"));
        Assert.Equal("s3 s1 t0 s5 s0 t1 s4 s2 s4 s5 t1 s2 t0 s0 s1 s3", order);
    }

    [Fact]
    public void MixedStreamKeepsTheSetsProportionsOverALongRun()
    {
        const int ns = 950, nd = 50;
        var sampler = new HybridSampler(ns, nd, alpha: 0.65, seed: 42);
        int target = 0, batches = 0, batchesWithTarget = 0;
        for (int b = 0; b < 2000; b++)
        {
            var batch = sampler.NextBatch(32);
            int t = batch.Count(s => s.Side == HybridSide.Target);
            target += t;
            batches++;
            if (t > 0) batchesWithTarget++;
            foreach (var s in batch)
                Assert.Equal(s.Side == HybridSide.Source ? 0.65f : 0.35f, s.Weight, 6);
        }
        double share = target / (double)(batches * 32);
        Assert.InRange(share, 0.05 - 0.003, 0.05 + 0.003); // 64,000 draws = 64 full epochs: exact per epoch
        Assert.True(batchesWithTarget > batches * 0.7, $"mixing is not random enough: only {batchesWithTarget}/{batches} batches hold a target sample");
    }

    [Fact]
    public void EveryEpochVisitsEverySampleOnceAndEpochsDiffer()
    {
        var sampler = new HybridSampler(30, 10, 0.5, seed: 1);
        var e1 = Enumerable.Range(0, 40).Select(_ => sampler.Next()).ToArray();
        var e2 = Enumerable.Range(0, 40).Select(_ => sampler.Next()).ToArray();
        Assert.Equal(30, e1.Where(s => s.Side == HybridSide.Source).Select(s => s.Index).Distinct().Count());
        Assert.Equal(10, e1.Where(s => s.Side == HybridSide.Target).Select(s => s.Index).Distinct().Count());
        Assert.NotEqual(e1, e2);
    }

    [Fact]
    public void ResumingFromAPositionGivesTheSameStream()
    {
        var a = new HybridSampler(100, 5, 0.65, seed: 9);
        var all = a.NextBatch(500);
        var b = new HybridSampler(100, 5, 0.65, seed: 9) { Position = 321 };
        Assert.Equal(all[321..], b.NextBatch(179));
    }
}

public class HybridWeightingTests
{
    [Theory]
    [InlineData(0.65, 950, 50)]
    [InlineData(0.3, 100, 100)]
    public void LossShareMakesAlphaTheSourceShareOfTheLossMass(double alpha, int ns, int nd)
    {
        var s = new HybridSampler(ns, nd, alpha, seed: 3, HybridWeighting.LossShare);
        double src = 0, all = 0;
        foreach (var x in s.NextBatch(ns + nd)) // one epoch
        {
            all += x.Weight;
            if (x.Side == HybridSide.Source) src += x.Weight;
        }
        Assert.Equal(alpha, src / all, 5);
        Assert.Equal(ns + nd, all, 2); // mean weight 1: the loss keeps the scale of plain CE
    }

    [Fact]
    public void LossShareWithEq11AlphaGivesTheWeightsWsWd()
    {
        double ws = 1.0, wd = 4.0; int ns = 600, nd = 30;
        double alpha = HybridMix.Alpha(ws, ns, wd, nd);
        var (a, b) = HybridMix.Weights(alpha, ns, nd, HybridWeighting.LossShare);
        Assert.Equal(wd / ws, b / a, 4);
        // Per-sample reading: α and 1 − α, whatever the set sizes.
        Assert.Equal((0.65f, 0.35f), HybridMix.Weights(0.65, ns, nd, HybridWeighting.PerSample));
        Assert.Throws<ArgumentException>(() => HybridMix.ParseWeighting("both"));
    }
}
