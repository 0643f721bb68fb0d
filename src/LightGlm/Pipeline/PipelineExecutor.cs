// Runs one training step of one stage: walks its schedule, moving activations and gradients
// through the transport, then all-reduces gradients over replicas. Knows no transport or model.
using System.Diagnostics;

namespace LightGlm.Pipeline;

/// <summary>What one stage measured during one step.</summary>
public sealed record StageStepStats(
    int Stage, int Replica, double Seconds, double ForwardSeconds, double BackwardSeconds,
    double WaitSeconds, double ReduceSeconds, int PeakInFlight, long PeakCacheBytes, double Loss);

/// <summary>Per-micro-batch message buffers of one stage, kept across steps so a step does not allocate.</summary>
public sealed class StageBuffers
{
    float[][] _input = [], _output = [], _dInput = [], _dOutput = [];

    internal void Ensure(IPipelineStage stage)
    {
        int m = stage.MicroBatches;
        Grow(ref _input, m); Grow(ref _output, m); Grow(ref _dInput, m); Grow(ref _dOutput, m);
        for (int i = 0; i < m; i++)
        {
            Fit(ref _input[i], stage.InputLength(i)); Fit(ref _dInput[i], stage.InputLength(i));
            Fit(ref _output[i], stage.OutputLength(i)); Fit(ref _dOutput[i], stage.OutputLength(i));
        }
    }

    static void Grow(ref float[][] a, int n) { if (a.Length < n) Array.Resize(ref a, n); for (int i = 0; i < n; i++) a[i] ??= []; }
    static void Fit(ref float[] a, int n) { if (a.Length < n) a = new float[n]; }

    internal Memory<float> Input(int m, int n) => _input[m].AsMemory(0, n);
    internal Memory<float> Output(int m, int n) => _output[m].AsMemory(0, n);
    internal Memory<float> DInput(int m, int n) => _dInput[m].AsMemory(0, n);
    internal Memory<float> DOutput(int m, int n) => _dOutput[m].AsMemory(0, n);
}

public static class PipelineExecutor
{
    /// <summary>
    /// One step of stage <paramref name="stageIndex"/> (of <paramref name="stages"/>) on replica
    /// <paramref name="replica"/>: zero gradients, run the schedule (gradient accumulation over the
    /// micro-batches), flush sends, then sum gradients over replicas. The caller applies the update.
    /// </summary>
    public static StageStepStats RunStep(
        IPipelineStage stage, int stageIndex, int stages, int replica, ScheduleKind schedule,
        IStageTransport transport, IGradientReducer? reducer, StageBuffers buffers)
    {
        var total = Stopwatch.StartNew();
        int micro = stage.MicroBatches;
        buffers.Ensure(stage);
        stage.ZeroGradients();
        bool first = stageIndex == 0, last = stageIndex == stages - 1;
        double fwd = 0, bwd = 0, wait = 0;
        int live = 0, peak = 0;
        long liveBytes = 0, peakBytes = 0;
        var clock = new Stopwatch();

        foreach (var op in PipelineSchedule.Ops(schedule, stageIndex, stages, micro))
        {
            int m = op.Micro, nIn = stage.InputLength(m), nOut = stage.OutputLength(m);
            if (op.Kind == OpKind.Forward)
            {
                var input = buffers.Input(m, nIn);
                var output = buffers.Output(m, nOut);
                if (!first) { clock.Restart(); transport.ReceiveActivation(m, input); wait += clock.Elapsed.TotalSeconds; }
                clock.Restart();
                stage.Forward(m, input.Span, output.Span);
                fwd += clock.Elapsed.TotalSeconds;
                live++; liveBytes += stage.CacheBytes(m);
                peak = Math.Max(peak, live); peakBytes = Math.Max(peakBytes, liveBytes);
                if (!last) transport.SendActivation(m, output);
            }
            else
            {
                var dOutput = buffers.DOutput(m, nOut);
                var dInput = buffers.DInput(m, nIn);
                if (!last) { clock.Restart(); transport.ReceiveGradient(m, dOutput); wait += clock.Elapsed.TotalSeconds; }
                long held = stage.CacheBytes(m);
                clock.Restart();
                stage.Backward(m, dOutput.Span, dInput.Span);
                bwd += clock.Elapsed.TotalSeconds;
                live--; liveBytes -= held;
                if (!first) transport.SendGradient(m, dInput);
            }
        }

        // This stage's backward is done: start summing its gradients over replicas now, so the
        // all-reduce overlaps with the backward passes still running on earlier stages (DAPPLE).
        clock.Restart();
        if (reducer is { Replicas: > 1 }) reducer.Start(stage.Gradients);
        transport.Flush();
        if (reducer is { Replicas: > 1 }) reducer.Finish();
        double reduce = clock.Elapsed.TotalSeconds;

        double loss = 0;
        if (last) for (int m = 0; m < micro; m++) loss += stage.Loss(m);
        return new StageStepStats(stageIndex, replica, total.Elapsed.TotalSeconds, fwd, bwd, wait, reduce, peak, peakBytes, loss);
    }
}
