// The planner: its dynamic programming equals brute force over every contiguous split on small random
// profiles (with memory limits), the cost model's bubble is (K−1)/(M+K−1), and the search respects limits.
using LightGlm.Pipeline;
using LightGlm.Pipeline.Planning;

namespace LightGlm.Tests.Pipeline;

public class PlannerTests
{
    static CostProfile RandomProfile(int layers, int seed)
    {
        var rng = new Random(seed);
        var l = Enumerable.Range(0, layers).Select(i => new LayerCost($"l{i}", rng.NextDouble() * 1e-3, rng.NextDouble() * 1e-3,
            rng.NextDouble() * 2e-3, rng.NextDouble() * 2e-3, 1000 + rng.Next(100000), 1000 + rng.Next(50000))).ToList();
        return new CostProfile(l, new LinkCost("test", 1e-5, 1e9), 4096, 1e-9, 16, 2, 16);
    }

    /// <summary>Every split of L layers into K non-empty contiguous stages.</summary>
    static IEnumerable<int[]> AllSplits(int layers, int stages)
    {
        if (stages == 1) { yield return [0, layers]; yield break; }
        for (int last = stages - 1; last < layers; last++)
            foreach (var head in AllSplits(last, stages - 1))
                yield return [.. head, layers];
    }

    [Fact]
    public void DynamicProgrammingEqualsBruteForce()
    {
        int cases = 0;
        for (int seed = 0; seed < 40; seed++)
        {
            int L = 2 + seed % 7;
            var profile = RandomProfile(L, seed);
            var planner = new PipelinePlanner(profile);
            for (int K = 1; K <= Math.Min(L, 4); K++)
                foreach (var kind in new[] { ScheduleKind.GPipe, ScheduleKind.OneFOneB })
                {
                    int M = 1 + seed % 4, rows = 1 + seed % 3;
                    // A memory limit that rules some splits out: the median over all splits of the worst stage.
                    var all = AllSplits(L, K).Select(b => new StageSplit(b)).ToList();
                    long Worst(StageSplit s) => Enumerable.Range(0, K).Max(i => planner.StageMemory(s.Bounds[i], s.Bounds[i + 1], i, K, M, rows, kind));
                    var worsts = all.Select(Worst).OrderBy(x => x).ToList();
                    long limit = seed % 3 == 0 ? long.MaxValue : worsts[worsts.Count / 2];
                    double brute = all.Where(s => Worst(s) <= limit)
                        .Select(s => Enumerable.Range(0, K).Max(i => planner.StageTime(s.Bounds[i], s.Bounds[i + 1], rows, K)))
                        .DefaultIfEmpty(double.PositiveInfinity).Min();
                    var dp = planner.BestSplit(K, M, rows, K, kind, limit);
                    Assert.NotNull(dp);
                    Assert.Equal(brute, dp!.Value.Bottleneck, 12);
                    Assert.True(Worst(dp.Value.Split) <= limit);
                    Assert.Equal(brute, Enumerable.Range(0, K).Max(i => planner.StageTime(dp.Value.Split.Bounds[i], dp.Value.Split.Bounds[i + 1], rows, K)), 12);
                    cases++;
                }
        }
        Assert.True(cases > 100);
    }

    [Fact]
    public void NoSplitFitsATinyMemoryLimit()
    {
        var planner = new PipelinePlanner(RandomProfile(6, 1));
        Assert.Null(planner.BestSplit(2, 4, 2, 2, ScheduleKind.GPipe, 10));
        Assert.Empty(planner.Search(8, 4, 10, ScheduleKind.OneFOneB));
    }

    [Fact]
    public void PredictionHasTheBubbleAndSearchRespectsWorkersAndMemory()
    {
        var profile = RandomProfile(8, 3);
        var planner = new PipelinePlanner(profile);
        var p = planner.Predict(new PipelineConfig(4, 4, 1, ScheduleKind.OneFOneB), StageSplit.Even(8, 4), 16);
        Assert.Equal(3.0 / 7, p.Bubble, 12);
        Assert.Equal(7 * p.StageSeconds.Max(), p.ComputeSeconds, 12);
        // 1F1B never needs more memory than GPipe for the same split.
        var g = planner.Predict(new PipelineConfig(4, 4, 1, ScheduleKind.GPipe), StageSplit.Even(8, 4), 16);
        Assert.All(Enumerable.Range(0, 4), s => Assert.True(p.StageMemoryBytes[s] <= g.StageMemoryBytes[s]));
        var plans = planner.Search(16, 4, long.MaxValue, ScheduleKind.OneFOneB);
        Assert.All(plans, q => Assert.True(q.Config.Workers <= 4 && 16 % (q.Config.Replicas * q.Config.MicroBatches) == 0));
        Assert.Equal(plans.Min(q => q.StepSeconds), plans[0].StepSeconds);
    }
}
