// Threads transport: loss, every gradient and the weights after N steps equal single-process
// training of the same global batch for K ∈ {1,2,4}, M ∈ {1,2,4,8}, D ∈ {1,2}, GPipe and 1F1B.
using LightGlm.Pipeline;
using LightGlm.Tests.Pipeline.Toy;

namespace LightGlm.Tests.Pipeline;

public class InProcessPipelineTests
{
    internal static (ToyMlp Model, ToyBatch[] Steps) Problem(int layers = 8, int rows = 32, int nSteps = 3)
    {
        var model = new ToyMlp(ToyPipeline.Widths(layers, width: 12, features: 7, classes: 5), seed: 11);
        var steps = Enumerable.Range(0, nSteps).Select(i => ToyBatch.Random(rows, 7, 5, seed: 100 + i)).ToArray();
        return (model, steps);
    }

    internal static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what, float tol = 2e-6f)
    {
        Assert.Equal(expected.Length, actual.Length);
        float scale = 0;
        foreach (var v in expected) scale = Math.Max(scale, Math.Abs(v));
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol * Math.Max(1, scale),
                $"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R}");
    }

    public static IEnumerable<object[]> Configs()
    {
        foreach (int k in new[] { 1, 2, 4 })
            foreach (int m in new[] { 1, 2, 4, 8 })
                foreach (int d in new[] { 1, 2 })
                    foreach (var s in new[] { ScheduleKind.GPipe, ScheduleKind.OneFOneB })
                        yield return [k, m, d, s];
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void LossGradientsAndWeightsEqualSingleProcess(int stages, int micro, int replicas, ScheduleKind schedule)
    {
        var (model, steps) = Problem();
        var reference = ToyPipeline.Reference(model.Clone(), steps, lr: 0.5f);
        var cfg = new PipelineConfig(stages, micro, replicas, schedule);
        var run = ToyPipeline.InProcess(model.Clone(), cfg, StageSplit.Even(model.Layers, stages), steps, lr: 0.5f);
        for (int i = 0; i < steps.Length; i++) Assert.Equal(reference.Losses[i], run.Losses[i], 5);
        AssertClose(reference.LastGradients, run.LastGradients, $"{cfg} gradient");
        AssertClose(reference.Weights, run.Weights, $"{cfg} weights");
        Assert.True(reference.Losses[^1] < reference.Losses[0], "training should reduce the loss");
        // Hand-offs: 2 per micro-batch per link per replica; plus one all-reduce per stage replica when D > 1.
        long expected = steps.Length * replicas * ((stages - 1) * 2L * micro + (replicas > 1 ? stages : 0));
        Assert.Equal(expected, run.Messages);
        int expectedPeak = schedule == ScheduleKind.GPipe ? micro : Math.Min(stages, micro);
        Assert.Equal(expectedPeak, run.PeakInFlight);
    }

    [Fact]
    public void UnevenSplitAndUnevenMicroBatchesStillMatch()
    {
        var (model, steps) = Problem(layers: 7, rows: 23);
        var reference = ToyPipeline.Reference(model.Clone(), steps, 0.3f);
        var cfg = new PipelineConfig(3, 5, 2, ScheduleKind.OneFOneB);
        var run = ToyPipeline.InProcess(model.Clone(), cfg, StageSplit.Parse("0,1,5,7", 7), steps, 0.3f);
        AssertClose(reference.Weights, run.Weights, "weights");
    }

    [Fact]
    public void GPipeHoldsMoreActivationsThan1F1B()
    {
        var (model, steps) = Problem(rows: 64, nSteps: 1);
        var g = ToyPipeline.InProcess(model.Clone(), new(2, 8, 1, ScheduleKind.GPipe), StageSplit.Even(8, 2), steps, 0.1f);
        var o = ToyPipeline.InProcess(model.Clone(), new(2, 8, 1, ScheduleKind.OneFOneB), StageSplit.Even(8, 2), steps, 0.1f);
        Assert.Equal(4 * o.PeakCacheBytes, g.PeakCacheBytes); // 8 vs 2 micro-batches of equal size in flight on stage 0
    }

    sealed class Crashing(IPipelineStage inner, int crashAtMicro) : IPipelineStage
    {
        public int MicroBatches => inner.MicroBatches;
        public int InputLength(int m) => inner.InputLength(m);
        public int OutputLength(int m) => inner.OutputLength(m);
        public void Forward(int m, ReadOnlySpan<float> i, Span<float> o)
        {
            if (m == crashAtMicro) throw new InvalidOperationException("simulated stage crash");
            inner.Forward(m, i, o);
        }
        public void Backward(int m, ReadOnlySpan<float> d, Span<float> di) => inner.Backward(m, d, di);
        public long CacheBytes(int m) => inner.CacheBytes(m);
        public double Loss(int m) => inner.Loss(m);
        public Memory<float> Gradients => inner.Gradients;
        public void ZeroGradients() => inner.ZeroGradients();
    }

    [Theory]
    [InlineData(0)] [InlineData(1)] [InlineData(3)]
    public void AStageThatThrowsStopsEveryStageWithAClearError(int crashStage)
    {
        var (model, steps) = Problem();
        var cfg = new PipelineConfig(4, 4, 2, ScheduleKind.OneFOneB);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var e = Assert.Throws<PipelineFailedException>(() => ToyPipeline.InProcess(model, cfg, StageSplit.Even(8, 4), steps, 0.1f,
            (d, s, st) => s == crashStage && d == 1 ? new Crashing(st, 2) : st));
        Assert.Contains($"stage {crashStage} (replica 1) failed: simulated stage crash", e.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"took {watch.Elapsed}");
    }
}
