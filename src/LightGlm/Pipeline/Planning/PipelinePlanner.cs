// determine_parallelism (paper Alg. 1; DAPPLE/PipeDream): choose stages K, micro-batches M, data-parallel
// width D and the contiguous layer split that minimise the predicted step time within a memory limit.
namespace LightGlm.Pipeline.Planning;

/// <summary>A plan and its prediction. Times are seconds per training step of the global batch.</summary>
public sealed record ParallelPlan(PipelineConfig Config, StageSplit Split, int MicroRows, double StepSeconds,
    double ComputeSeconds, double CommSeconds, double AllReduceSeconds, double UpdateSeconds, double Bubble,
    double[] StageSeconds, long[] StageMemoryBytes)
{
    /// <summary>Ideal pipeline efficiency M/(M+K−1) (1 − bubble).</summary>
    public double IdealEfficiency => PipelineSchedule.IdealEfficiency(Config.Stages, Config.MicroBatches);
}

public sealed class PipelinePlanner(CostProfile profile)
{
    /// <summary>Stage s's memory: state bytes of its parameters + in-flight micro-batches × activation bytes.
    /// In flight: GPipe M; 1F1B min(K−s, M).</summary>
    public long StageMemory(int first, int end, int stage, int stages, int micro, int rows, ScheduleKind kind)
    {
        long p = 0, act = 0;
        for (int i = first; i < end; i++) { p += profile.Layers[i].ParameterCount; act += profile.Layers[i].ActivationBytesPerRow * rows; }
        int inFlight = kind == ScheduleKind.GPipe ? micro : Math.Min(stages - stage, micro);
        return p * profile.StateBytesPerParameter + inFlight * act;
    }

    /// <summary>Compute seconds of layers [first, end) for one micro-batch of <paramref name="rows"/> sequences,
    /// when <paramref name="workers"/> workers share the machine's cores: one-core time × workers / cores.</summary>
    public double StageTime(int first, int end, int rows, int workers)
    {
        double t = 0;
        for (int i = first; i < end; i++) t += profile.Layers[i].Time(rows);
        return t * workers / profile.Cores;
    }

    /// <summary>
    /// Dynamic programming over contiguous splits: best[k][j] = min over i of max(best[k−1][i], cost(i, j)),
    /// the smallest possible slowest-stage time when the first j layers form k stages, skipping splits whose
    /// stage would exceed <paramref name="memoryLimit"/>. O(K·L²). Returns null when no split fits.
    /// </summary>
    public (StageSplit Split, double Bottleneck)? BestSplit(int stages, int micro, int rows, int workers, ScheduleKind kind, long memoryLimit)
    {
        int L = profile.L;
        if (stages > L) return null;
        var best = new double[stages + 1, L + 1];
        var from = new int[stages + 1, L + 1];
        for (int k = 0; k <= stages; k++) for (int j = 0; j <= L; j++) best[k, j] = double.PositiveInfinity;
        best[0, 0] = 0;
        for (int k = 1; k <= stages; k++)
            for (int j = k; j <= L - (stages - k); j++)
                for (int i = k - 1; i < j; i++)
                {
                    if (double.IsPositiveInfinity(best[k - 1, i])) continue;
                    if (StageMemory(i, j, k - 1, stages, micro, rows, kind) > memoryLimit) continue;
                    double c = Math.Max(best[k - 1, i], StageTime(i, j, rows, workers));
                    if (c < best[k, j]) { best[k, j] = c; from[k, j] = i; }
                }
        if (double.IsPositiveInfinity(best[stages, L])) return null;
        var bounds = new int[stages + 1];
        bounds[stages] = L;
        for (int k = stages; k >= 1; k--) bounds[k - 1] = from[k, bounds[k]];
        return (new StageSplit(bounds), best[stages, L]);
    }

    /// <summary>Predicted step of a given configuration and split (no search): the cost model of the paper,
    /// time ≈ compute + pipeline communication + gradient all-reduce + update, where the pipeline compute is
    /// (M+K−1)·(slowest stage per micro-batch), i.e. T_compute refined by the bubble (M+K−1)/M.</summary>
    public ParallelPlan Predict(PipelineConfig cfg, StageSplit split, int batchRows)
    {
        int K = cfg.Stages, M = cfg.MicroBatches, D = cfg.Replicas, W = cfg.Workers;
        int rows = batchRows / (D * M);
        var stageSec = new double[K];
        var mem = new long[K];
        long maxParams = 0;
        for (int s = 0; s < K; s++)
        {
            var (a, b) = split.Range(s);
            stageSec[s] = StageTime(a, b, rows, W);
            mem[s] = StageMemory(a, b, s, K, M, rows, cfg.Schedule);
            long p = 0;
            for (int i = a; i < b; i++) p += profile.Layers[i].ParameterCount;
            maxParams = Math.Max(maxParams, p);
        }
        double slowest = stageSec.Max();
        double compute = (M + K - 1) * slowest;
        // Each micro-batch crosses K−1 boundaries forward and back; on the critical path once per pipeline slot.
        double comm = K > 1 ? (M + K - 1) * 2 * profile.Link.Time(profile.BoundaryBytesPerRow * rows) : 0;
        // Ring all-reduce of the largest stage's gradients over D replicas: 2(D−1)/D·bytes/bw + 2(D−1)·latency.
        double allReduce = D > 1 ? 2.0 * (D - 1) / D * maxParams * 4 / profile.Link.BytesPerSecond + 2 * (D - 1) * profile.Link.LatencySeconds : 0;
        double update = maxParams * profile.UpdateSecondsPerParameter * Math.Max(1.0, (double)W / profile.Cores);
        double bubble = (K - 1) / (double)(M + K - 1);
        return new ParallelPlan(cfg, split, rows, compute + comm + allReduce + update, compute, comm, allReduce, update, bubble, stageSec, mem);
    }

    /// <summary>
    /// determine_parallelism: over D (replicas), K (stages) with K·D ≤ <paramref name="maxWorkers"/> and M
    /// (micro-batches, B divisible by D·M), take the best split of each and keep the fastest predicted step.
    /// Returns all feasible plans, fastest first.
    /// </summary>
    public List<ParallelPlan> Search(int batchRows, int maxWorkers, long memoryLimit, ScheduleKind kind, int maxMicro = 64)
    {
        var plans = new List<ParallelPlan>();
        for (int D = 1; D <= maxWorkers; D++)
        {
            if (batchRows % D != 0) continue;
            for (int K = 1; K * D <= maxWorkers && K <= profile.L; K++)
                for (int M = 1; M <= Math.Min(maxMicro, batchRows / D); M++)
                {
                    if (batchRows % (D * M) != 0) continue;
                    if (K == 1 && M > 1) continue; // micro-batching without stages only adds overhead
                    int rows = batchRows / (D * M);
                    var best = BestSplit(K, M, rows, K * D, kind, memoryLimit);
                    if (best is null) continue;
                    plans.Add(Predict(new PipelineConfig(K, M, D, kind), best.Value.Split, batchRows));
                }
        }
        plans.Sort((a, b) => a.StepSeconds.CompareTo(b.StepSeconds));
        return plans;
    }
}
