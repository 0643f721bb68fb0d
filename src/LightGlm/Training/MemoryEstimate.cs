// Predicts a training run's memory before it starts — parameters, gradients, AdamW moments, activation caches per
// in-flight micro-batch, pipeline buffers, data — from the same sizes the code allocates, and checks it fits.
using System.Globalization;
using LightGlm.Model;
using LightGlm.Model.Lora;

namespace LightGlm.Training;

/// <summary>One line of the estimate: what, how many bytes, how it was counted.</summary>
public sealed record MemoryItem(string What, long Bytes, string How);

/// <summary>Bytes one training process will hold at its peak. <see cref="RuntimeBytes"/> is the .NET runtime and code,
/// counted for the fit check but not part of what the run allocates.</summary>
public sealed record MemoryEstimate(IReadOnlyList<MemoryItem> Items, long RuntimeBytes)
{
    /// <summary>Everything the run allocates (excluding the runtime).</summary>
    public long RunBytes => Items.Sum(i => i.Bytes);
    public long TotalBytes => RunBytes + RuntimeBytes;

    public static string Mb(long bytes) => (bytes / 1048576.0).ToString("F1", CultureInfo.InvariantCulture) + " MB";

    public string Format()
    {
        var w = new System.Text.StringBuilder();
        foreach (var i in Items) w.AppendLine($"  {i.What,-34} {Mb(i.Bytes),12}  {i.How}");
        w.AppendLine($"  {".NET runtime (allowance)",-34} {Mb(RuntimeBytes),12}");
        w.Append($"  {"total",-34} {Mb(TotalBytes),12}");
        return w.ToString();
    }

    /// <summary>Bytes as "12.3 GiB" from 1 GiB up, else as <see cref="Mb"/>.</summary>
    public static string Size(long bytes) => bytes >= 1L << 30
        ? (bytes / (double)(1L << 30)).ToString("F2", CultureInfo.InvariantCulture) + " GiB" : Mb(bytes);

    /// <summary>Estimates side by side: one row per item (in the order they first appear), one column per estimate, "—"
    /// where a column has no such item; then the totals.</summary>
    public static string SideBySide(IReadOnlyList<(string Name, MemoryEstimate Estimate)> columns)
    {
        // Rows in the order of the column with the most of them (LoRA's: the adapters' row beside the base's).
        var rows = columns.OrderByDescending(c => c.Estimate.Items.Count).SelectMany(c => c.Estimate.Items.Select(i => i.What)).Distinct().ToList();
        const int w = 24;
        var t = new System.Text.StringBuilder();
        t.Append($"  {"",-28}");
        foreach (var (name, _) in columns) t.Append($" {name,w}");
        t.AppendLine();
        void Row(string what, Func<MemoryEstimate, long?> bytes)
        {
            t.Append($"  {what,-28}");
            foreach (var (_, e) in columns) t.Append($" {(bytes(e) is { } b ? Size(b) : "—"),w}");
            t.AppendLine();
        }
        foreach (var what in rows) Row(what, e => e.Items.FirstOrDefault(i => i.What == what)?.Bytes);
        Row(".NET runtime (allowance)", e => e.RuntimeBytes);
        Row("total", e => e.TotalBytes);
        return t.ToString().TrimEnd();
    }

    /// <summary>Memory this process may use: the smaller of MemAvailable (Linux) and the GC's limit (container / cgroup).</summary>
    public static long AvailableBytes()
    {
        long gc = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        long avail = long.MaxValue;
        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
                if (line.StartsWith("MemAvailable:", StringComparison.Ordinal))
                    avail = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        // This process already holds some of what the GC reports; MemAvailable excludes it, so add it back.
        if (avail != long.MaxValue) avail += Environment.WorkingSet;
        return Math.Min(gc, avail);
    }

    /// <summary>Peak resident set of this process so far (VmHWM), or −1 where /proc is absent.</summary>
    public static long PeakResidentBytes() => ProcStatus("VmHWM:");

    /// <summary>Current resident set (VmRSS), or −1.</summary>
    public static long ResidentBytes() => ProcStatus("VmRSS:");

    static long ProcStatus(string key)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith(key, StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException) { }
        return -1;
    }
}

/// <summary>The layout of a pipelined run for the estimate (mirrors LightGlm.Pipeline.PipelineConfig without depending on it).</summary>
public sealed record PipelineShape(int Stages, int MicroBatches, int Replicas, bool GPipe, int[] Bounds, int? OnlyStage = null);

public static class MemoryEstimator
{
    /// <summary>.NET runtime, native libraries (OpenBLAS), JIT'd code and GC bookkeeping of the CLI: about 47 MB RSS before
    /// the model exists and 10–30 MB more by the end of the first step (measured with `lightglm train`, docs/PARALLEL.md).</summary>
    public const long RuntimeAllowance = 96L << 20;

    /// <summary>Drawing loss.svg/loss.png beside metrics.jsonl (Charts/LossCurves.cs): SkiaSharp's native library, the
    /// fonts and a 2× bitmap, 30–40 MB RSS measured in `lightglm train` the first time it draws.</summary>
    public const long LossChartBytes = 40L << 20;

    /// <summary>Floats of <see cref="ActivationCache"/>'s arena for (b, t, range) — the same formula as its constructor
    /// (a test checks them equal, so a change there fails here).</summary>
    public static long CacheFloats(ModelConfig c, int b, int t, LayerRange r, bool dropout)
    {
        long N = (long)b * t, C = c.C, W = c.QkvDim, HD = (long)c.H * c.D, F = c.F;
        long perBlock = N * C * 3 + 2 * N + N * W + (long)b * c.H * t * t + N * HD + N * 2 * F + N * F + (dropout ? 2 * N * C : 0);
        int nb = r.EndBlock - r.FirstBlock;
        return (nb + 1) * N * C + perBlock * nb + N * C + N * C * 3 + N * W + N * HD + N * 2 * F + N * F
               + (r.Head ? N * C + N + N * c.V : 0);
    }

    /// <summary>Bytes of one activation cache: the arena plus its per-row loss (double and float), scale (float) and
    /// position (int) arrays.</summary>
    public static long CacheBytes(ModelConfig c, int b, int t, LayerRange r, bool dropout) =>
        4 * CacheFloats(c, b, t, r, dropout) + 20L * b * t;

    /// <summary>
    /// The estimate for one process of a run: the trainer (weights, gradients, AdamW m and v, the micro-batches), then
    /// either one activation cache (single process) or, under a pipeline, every stage this process runs × its peak
    /// in-flight micro-batches (GPipe M, 1F1B min(K−s, M)) and the hand-off buffers; plus the evaluation cache and the
    /// token stream. An MPI rank (OnlyStage set) holds the whole weight/gradient arenas but only its stage's caches.
    /// </summary>
    /// <param name="snapshotInMemory">The run has no checkpoint dir, so the NaN guard keeps its rollback point in memory.</param>
    /// <param name="lossChart">The run draws its loss chart (it writes metrics.jsonl; counted unless told otherwise).</param>
    public static MemoryEstimate Estimate(ModelConfig c, TrainerOptions o, PipelineShape? pipe, bool evaluates, long dataTokens, bool snapshotInMemory = false,
        bool lossChart = true)
    {
        var items = new List<MemoryItem>();
        var lay = ParameterLayout.Build(c);
        long P = lay.TotalLength;
        bool dropout = c.HiddenDropout > 0;
        int T = o.SeqLen, rowsPerStep = o.BatchSize * o.GradAccum;
        int replicasHere = pipe is null || pipe.OnlyStage is not null ? 1 : pipe.Replicas;
        items.Add(new("weights", 4 * P * replicasHere, $"{P:N0} parameters x 4 B" + (replicasHere > 1 ? $" x {replicasHere} replicas" : "")));
        items.Add(new("gradients", 4 * P * replicasHere, "4 B per parameter" + (replicasHere > 1 ? $" x {replicasHere} replicas" : "")));
        items.Add(new("AdamW moments m, v", 8 * P, "8 B per parameter"));
        if (snapshotInMemory) items.Add(new("NaN-guard snapshot", 12 * P, "weights, m, v copied (no checkpoint_dir to roll back to)"));
        items.Add(new("micro-batches", 8L * rowsPerStep * T * (pipe is null ? 1 : 2), "tokens + targets" + (pipe is null ? "" : ", and the step's global batch")));
        if (pipe is null)
            items.Add(new("activations", CacheBytes(c, o.BatchSize, T, LayerRange.Full(c), dropout), $"one cache of B={o.BatchSize}, T={T}"));
        else
        {
            int rows = rowsPerStep / (pipe.Replicas * pipe.MicroBatches);
            long act = 0, buffers = 0;
            var stages = pipe.OnlyStage is { } only ? [only] : Enumerable.Range(0, pipe.Stages).ToArray();
            int maxInFlight = 0;
            foreach (int s in stages)
            {
                int first = pipe.Bounds[s], end = pipe.Bounds[s + 1];
                var range = new LayerRange(first, end, first == 0, end == c.L);
                int inFlight = pipe.GPipe ? pipe.MicroBatches : Math.Min(pipe.Stages - s, pipe.MicroBatches);
                maxInFlight = Math.Max(maxInFlight, inFlight);
                act += inFlight * CacheBytes(c, rows, T, range, dropout);
                long boundary = 4L * rows * T * c.C;
                int links = (s > 0 ? 1 : 0) + (s < pipe.Stages - 1 ? 1 : 0);
                // StageBuffers: input/dInput (s > 0) and output/dOutput (s < K−1) per micro-batch; hand-off queue copies.
                buffers += links * boundary * (2L * pipe.MicroBatches + pipe.MicroBatches);
            }
            act *= replicasHere; buffers *= replicasHere;
            items.Add(new("activations (pipeline)", act, $"micro-batches of {rows} rows; up to {maxInFlight} in flight per stage ({(pipe.GPipe ? "GPipe: M" : "1F1B: min(K-s, M)")})"));
            items.Add(new("pipeline buffers", buffers, "boundary activations and gradients per micro-batch"));
        }
        if (evaluates && pipe is not null)
            items.Add(new("evaluation cache", CacheBytes(c, o.BatchSize, T, LayerRange.Full(c), dropout), "held-out loss on the trainer's thread"));
        items.Add(new("training data", 8 * dataTokens, $"{dataTokens:N0} token ids, stream + split copy"));
        if (lossChart) items.Add(new("loss chart", LossChartBytes, "SkiaSharp, fonts and a bitmap while loss.svg/.png are redrawn"));
        return new MemoryEstimate(items, RuntimeAllowance);
    }

    /// <summary>
    /// `finetune` (one process, the NaN guard's rollback point in memory), the whole model or LoRA adapters, from the
    /// config alone: parameters are counted in longs (<see cref="ModelConfig.ParameterEstimate"/>,
    /// <see cref="LoraOptions.ParameterCount"/>), never through a layout, so a 6B config is estimated although no fp32
    /// arena of ours could hold it. <paramref name="baseBytes"/> per base weight: 4 = this engine's fp32 arena; 2 = a base
    /// kept in bf16/fp16 as stored (what a LoRA over a 16-bit base needs; this engine does not train over one yet).
    /// </summary>
    public static MemoryEstimate FineTune(ModelConfig c, TrainerOptions o, LoraOptions? lora, int baseBytes = 4, bool lossChart = false)
    {
        var items = new List<MemoryItem>();
        long P = (long)c.ParameterEstimate();
        long p = lora?.ParameterCount(c) ?? P; // what is trained
        string dtype = baseBytes == 4 ? "fp32" : "16-bit";
        items.Add(new("base weights", baseBytes * P, $"{P:N0} parameters x {baseBytes} B ({dtype})" + (lora is null ? "" : ", frozen")));
        items.Add(new("rotary table", 4L * c.MaxPositionEmbeddings * c.R, $"cos, sin of {c.MaxPositionEmbeddings:N0} positions x {c.R / 2} pairs"));
        if (lora is not null)
            items.Add(new("adapter weights", 4 * p, $"{p:N0} parameters (r = {lora.Rank}, A and B on {lora.TargetText}) x 4 B"));
        string trained = lora is null ? "per parameter" : "per adapter parameter; none for the base";
        items.Add(new("gradients", 4 * p, $"4 B {trained}"));
        items.Add(new("AdamW moments m, v", 8 * p, $"8 B {trained}"));
        items.Add(new("NaN-guard snapshot", 12 * p, (lora is null ? "weights" : "adapters") + ", m, v copied (no checkpoint dir)"));
        int T = o.SeqLen, rows = o.BatchSize * o.GradAccum;
        items.Add(new("micro-batches", 8L * rows * T, "tokens + targets"));
        long act = CacheBytes(c, o.BatchSize, T, LayerRange.Full(c), c.HiddenDropout > 0);
        if (lora is not null) act += 8L * o.BatchSize * T * lora.Rank; // x·Aᵀ and dy·B of the map being run
        items.Add(new("activations", act, $"one cache of B={o.BatchSize}, T={T}" + (lora is null ? "" : " + (N, r) x 2 adapter scratch")));
        if (lossChart) items.Add(new("loss chart", LossChartBytes, "SkiaSharp, fonts and a bitmap while loss.svg/.png are redrawn"));
        return new MemoryEstimate(items, RuntimeAllowance);
    }
}
