// Runs a pipeline of K stages × D data-parallel replicas as K·D threads of this process.
// A stage that throws cancels every other stage at once, so a failure never hangs the job.
namespace LightGlm.Pipeline;

/// <summary>A stage failed; names which one. Every other stage was stopped.</summary>
public sealed class PipelineFailedException(string message, Exception inner) : Exception(message, inner);

public sealed class InProcessPipeline
{
    readonly int _stages, _replicas;
    readonly StageBuffers[,] _buffers;

    public InProcessPipeline(int stages, int replicas)
    {
        if (stages < 1) throw new ArgumentOutOfRangeException(nameof(stages), $"stages must be >= 1, got {stages}");
        if (replicas < 1) throw new ArgumentOutOfRangeException(nameof(replicas), $"replicas must be >= 1, got {replicas}");
        _stages = stages; _replicas = replicas;
        _buffers = new StageBuffers[replicas, stages];
        for (int d = 0; d < replicas; d++) for (int s = 0; s < stages; s++) _buffers[d, s] = new StageBuffers();
    }

    /// <summary>Messages handed between stages plus gradient all-reduces in the last step (proof that workers really talked).</summary>
    public long LastStepMessages { get; private set; }

    /// <summary>
    /// One step: worker (d, s) runs stage <c>stage[d, s]</c> under <paramref name="schedule"/>, then
    /// <paramref name="afterStep"/> (d, s) on the same thread (e.g. the optimizer update of that stage).
    /// Returns every worker's measurements, indexed [d, s].
    /// </summary>
    public StageStepStats[,] Step(IPipelineStage[,] stage, ScheduleKind schedule, Action<int, int>? afterStep = null)
    {
        if (stage.GetLength(0) != _replicas || stage.GetLength(1) != _stages)
            throw new ArgumentException($"expected {_replicas}x{_stages} stages, got {stage.GetLength(0)}x{stage.GetLength(1)}");
        using var cts = new CancellationTokenSource();
        int capacity = Math.Max(1, stage[0, 0].MicroBatches);
        var fwd = new HandOff[_replicas, Math.Max(0, _stages - 1)];
        var bwd = new HandOff[_replicas, Math.Max(0, _stages - 1)];
        for (int d = 0; d < _replicas; d++)
            for (int s = 0; s < _stages - 1; s++) { fwd[d, s] = new HandOff(capacity); bwd[d, s] = new HandOff(capacity); }
        var reducers = new SharedMemoryReducer[_stages][];
        for (int s = 0; s < _stages; s++) reducers[s] = SharedMemoryReducer.Group(_replicas, cts.Token);

        var stats = new StageStepStats[_replicas, _stages];
        var errors = new List<(int D, int S, Exception E)>();
        var threads = new List<Thread>();
        for (int d = 0; d < _replicas; d++)
            for (int s = 0; s < _stages; s++)
            {
                int dd = d, ss = s;
                var transport = new InProcessStageTransport(
                    fromPrev: ss > 0 ? fwd[dd, ss - 1] : null, toNext: ss < _stages - 1 ? fwd[dd, ss] : null,
                    fromNext: ss < _stages - 1 ? bwd[dd, ss] : null, toPrev: ss > 0 ? bwd[dd, ss - 1] : null, cts.Token);
                var t = new Thread(() =>
                {
                    try
                    {
                        stats[dd, ss] = PipelineExecutor.RunStep(stage[dd, ss], ss, _stages, dd, schedule, transport,
                            _replicas > 1 ? reducers[ss][dd] : null, _buffers[dd, ss]);
                        afterStep?.Invoke(dd, ss);
                    }
                    catch (OperationCanceledException) when (cts.IsCancellationRequested) { } // stopped because another stage failed
                    catch (Exception e)
                    {
                        lock (errors) errors.Add((dd, ss, e));
                        cts.Cancel();
                    }
                }) { IsBackground = true, Name = $"pipeline stage {ss} replica {dd}" };
                threads.Add(t);
                t.Start();
            }
        foreach (var t in threads) t.Join();
        long messages = 0;
        foreach (var h in fwd) messages += h.Messages;
        foreach (var h in bwd) messages += h.Messages;
        foreach (var group in reducers) foreach (var r in group) messages += r.Reductions;
        LastStepMessages = messages;
        if (errors.Count > 0)
        {
            var (d, s, e) = errors[0];
            throw new PipelineFailedException($"pipeline stage {s} (replica {d}) failed: {e.Message}; all {_stages * _replicas} stages were stopped", e);
        }
        return stats;
    }
}
