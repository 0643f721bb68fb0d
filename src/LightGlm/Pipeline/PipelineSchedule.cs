// Pipeline schedules as per-stage operation lists: GPipe (all forwards, then all backwards) and
// 1F1B/DAPPLE (early backward: at most K−s micro-batches in flight on stage s). Transport-free.
namespace LightGlm.Pipeline;

public enum ScheduleKind { GPipe, OneFOneB }

public enum OpKind { Forward, Backward }

/// <summary>One step of a stage's schedule: run forward or backward of micro-batch <see cref="Micro"/>.</summary>
public readonly record struct PipelineOp(OpKind Kind, int Micro)
{
    public override string ToString() => $"{(Kind == OpKind.Forward ? 'F' : 'B')}{Micro}";
}

public static class PipelineSchedule
{
    /// <summary>Parses "gpipe" or "1f1b" (also "dapple"), case-insensitive.</summary>
    public static ScheduleKind Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "gpipe" => ScheduleKind.GPipe,
        "1f1b" or "dapple" or "onefoneb" => ScheduleKind.OneFOneB,
        _ => throw new FormatException($"unknown pipeline schedule '{text}': use gpipe or 1f1b"),
    };

    public static string Name(ScheduleKind kind) => kind == ScheduleKind.GPipe ? "gpipe" : "1f1b";

    /// <summary>The ordered operations of stage <paramref name="stage"/> of <paramref name="stages"/> for
    /// <paramref name="micro"/> micro-batches. Backwards run in micro-batch order on every stage, so the
    /// gradients a stage receives arrive in the order it consumes them.</summary>
    public static PipelineOp[] Ops(ScheduleKind kind, int stage, int stages, int micro)
    {
        if (stages < 1 || stage < 0 || stage >= stages) throw new ArgumentOutOfRangeException(nameof(stage), $"stage {stage} of {stages}");
        if (micro < 1) throw new ArgumentOutOfRangeException(nameof(micro), $"micro-batches must be >= 1, got {micro}");
        var ops = new List<PipelineOp>(2 * micro);
        if (kind == ScheduleKind.GPipe)
        {
            for (int m = 0; m < micro; m++) ops.Add(new(OpKind.Forward, m));
            for (int m = 0; m < micro; m++) ops.Add(new(OpKind.Backward, m));
        }
        else
        {
            // DAPPLE / PipeDream-flush: warm up with K−s−1 forwards, then alternate one forward and one
            // backward, then drain the remaining backwards. Peak in-flight = min(K−s, M) micro-batches.
            int warmup = Math.Min(stages - stage - 1, micro);
            int f = 0, b = 0;
            for (; f < warmup; f++) ops.Add(new(OpKind.Forward, f));
            while (f < micro)
            {
                ops.Add(new(OpKind.Forward, f++));
                ops.Add(new(OpKind.Backward, b++));
            }
            while (b < micro) ops.Add(new(OpKind.Backward, b++));
        }
        return [.. ops];
    }

    /// <summary>Largest number of micro-batches whose forward has run and backward has not, on one stage.</summary>
    public static int PeakInFlight(IEnumerable<PipelineOp> ops)
    {
        int live = 0, peak = 0;
        foreach (var op in ops)
        {
            live += op.Kind == OpKind.Forward ? 1 : -1;
            peak = Math.Max(peak, live);
        }
        return peak;
    }

    /// <summary>The ideal pipeline efficiency M/(M+K−1): the fraction of a step a stage is busy when every
    /// stage takes equal time and messages are free. The bubble is its complement (K−1)/(M+K−1).</summary>
    public static double IdealEfficiency(int stages, int micro) => micro / (double)(micro + stages - 1);
}
