// Schedules: every micro-batch runs forward then backward exactly once per stage; 1F1B bounds
// the in-flight micro-batches to min(K−s, M), GPipe holds all M.
using LightGlm.Pipeline;

namespace LightGlm.Tests.Pipeline;

public class PipelineScheduleTests
{
    [Theory]
    [InlineData(1, 1)] [InlineData(2, 1)] [InlineData(2, 4)] [InlineData(4, 2)] [InlineData(4, 8)] [InlineData(3, 5)]
    public void EveryMicroBatchRunsForwardThenBackwardOnce(int stages, int micro)
    {
        foreach (var kind in new[] { ScheduleKind.GPipe, ScheduleKind.OneFOneB })
            for (int s = 0; s < stages; s++)
            {
                var ops = PipelineSchedule.Ops(kind, s, stages, micro);
                Assert.Equal(2 * micro, ops.Length);
                for (int m = 0; m < micro; m++)
                {
                    int f = Array.IndexOf(ops, new PipelineOp(OpKind.Forward, m));
                    int b = Array.IndexOf(ops, new PipelineOp(OpKind.Backward, m));
                    Assert.True(f >= 0 && b > f, $"{kind} stage {s}: F{m} at {f}, B{m} at {b}");
                }
                // Backwards in micro-batch order on every stage (FIFO hand-off relies on it).
                var bs = ops.Where(o => o.Kind == OpKind.Backward).Select(o => o.Micro).ToArray();
                Assert.Equal(Enumerable.Range(0, micro), bs);
            }
    }

    [Theory]
    [InlineData(2, 8)] [InlineData(4, 8)] [InlineData(4, 2)] [InlineData(4, 1)]
    public void OneFOneBBoundsInFlightActivations(int stages, int micro)
    {
        for (int s = 0; s < stages; s++)
        {
            Assert.Equal(micro, PipelineSchedule.PeakInFlight(PipelineSchedule.Ops(ScheduleKind.GPipe, s, stages, micro)));
            Assert.Equal(Math.Min(stages - s, micro), PipelineSchedule.PeakInFlight(PipelineSchedule.Ops(ScheduleKind.OneFOneB, s, stages, micro)));
        }
    }

    [Fact]
    public void OneFOneBMatchesTheDappleOrder()
    {
        // K=4, M=6, stage 1: two warm-up forwards, then alternate, then drain (DAPPLE Fig. 3 / PipeDream-flush).
        var ops = string.Join(' ', PipelineSchedule.Ops(ScheduleKind.OneFOneB, 1, 4, 6));
        Assert.Equal("F0 F1 F2 B0 F3 B1 F4 B2 F5 B3 B4 B5", ops);
    }

    [Fact]
    public void IdealEfficiencyIsMOverMPlusKMinusOne()
    {
        Assert.Equal(1.0, PipelineSchedule.IdealEfficiency(1, 4));
        Assert.Equal(4.0 / 7, PipelineSchedule.IdealEfficiency(4, 4), 12);
        Assert.Throws<FormatException>(() => PipelineSchedule.Parse("zigzag"));
        Assert.Equal(ScheduleKind.OneFOneB, PipelineSchedule.Parse("DAPPLE"));
    }
}
