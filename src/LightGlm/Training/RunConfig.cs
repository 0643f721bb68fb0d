// The JSON run config of `lightglm train`: model, data, optimizer, schedule, loop sizes, checkpoints, resume.
using System.Text.Json;
using System.Text.Json.Serialization;
using LightGlm.Model;

namespace LightGlm.Training;

/// <summary>
/// Example: {"model": {config.json fields}, "data": {"train": ["a.txt", "dir/"], "tokenizer": "byte"},
/// "optimizer": {"lr": 3e-4}, "schedule": {"warmup_steps": 50, "decay": "cosine"}, "steps": 500, "batch_size": 8,
/// "seq_len": 128, "grad_accum": 1, "seed": 1, "checkpoint_dir": "runs/x/checkpoints", "checkpoint_every": 100,
/// "output_dir": "runs/x/model", "resume": true, "parallel": {"pipeline_stages": 2, "micro_batches": 4},
/// "nan_guard": {"max_rollbacks": 3, "lr_factor": 0.5}, "memory_limit_mb": 0}. Relative paths are relative to the config
/// file's folder.
/// </summary>
public sealed class RunConfig
{
    /// <summary>Model hyper-parameters; vocab_size 0 = take the tokenizer's.</summary>
    public ModelConfig? Model { get; set; }
    /// <summary>Start from this model directory's weights instead of a random init.</summary>
    public string? InitFrom { get; set; }
    public DataConfig Data { get; set; } = new();
    public OptimizerOptions Optimizer { get; set; } = new();
    public ScheduleOptions Schedule { get; set; } = new();
    public int Steps { get; set; } = 1000;
    public int BatchSize { get; set; } = 8;
    public int SeqLen { get; set; } = 128;
    public int GradAccum { get; set; } = 1;
    public ulong Seed { get; set; } = 1234;
    public ulong InitSeed { get; set; } = 1234;
    public string? CheckpointDir { get; set; }
    public int CheckpointEvery { get; set; } = 200;
    public int KeepCheckpoints { get; set; } = 2;
    public bool Resume { get; set; } = true;
    public string? OutputDir { get; set; }
    /// <summary>Evaluate the held-out loss every this many steps (0 = only at the end).</summary>
    public int EvalEvery { get; set; }
    /// <summary>Stop (and save) after this many seconds of training; 0 = no limit.</summary>
    public double MaxSeconds { get; set; }
    /// <summary>Pipeline parallelism (stages, micro-batches, schedule, transport); the CLI flags override it.</summary>
    public PipelineOptions Parallel { get; set; } = new();
    /// <summary>What to do on a NaN/Inf loss or gradient.</summary>
    public NanGuardOptions NanGuard { get; set; } = new();
    /// <summary>Refuse to start when the memory estimate exceeds this; 0 = the memory available on this machine.</summary>
    public double MemoryLimitMb { get; set; }
    /// <summary>Per-step JSON lines (loss, lr, timings, pipeline measured vs predicted, events); default checkpoint_dir/metrics.jsonl.</summary>
    public string? MetricsFile { get; set; }

    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public TrainerOptions ToTrainerOptions() => new()
    {
        Optimizer = Optimizer, Schedule = Schedule, Steps = Steps, BatchSize = BatchSize, SeqLen = SeqLen, GradAccum = GradAccum, Seed = Seed,
    };

    public static RunConfig Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: run config not found", path);
        RunConfig? r;
        try
        {
            string text = File.ReadAllText(path);
            using (var doc = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }))
                if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("model", out var model) && model.ValueKind != JsonValueKind.Null)
                    ModelConfig.CheckKinds(model, $"{path}: model"); // the same check as config.json's
            r = JsonSerializer.Deserialize<RunConfig>(text, JsonOptions);
        }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a valid run config: {e.Message}", e); }
        if (r is null) throw new InvalidDataException($"{path}: the run config is empty");
        r.ResolvePaths(Path.GetDirectoryName(Path.GetFullPath(path))!);
        r.Validate(path);
        return r;
    }

    public void ResolvePaths(string baseDir)
    {
        string Abs(string p) => Path.IsPathRooted(p) ? p : Path.GetFullPath(Path.Combine(baseDir, p));
        Data.Train = Data.Train.Select(Abs).ToList();
        if (Data.Tokenizer is { } t && t != "byte") Data.Tokenizer = Abs(t);
        if (CheckpointDir is { } c) CheckpointDir = Abs(c);
        if (OutputDir is { } o) OutputDir = Abs(o);
        if (InitFrom is { } i) InitFrom = Abs(i);
        if (MetricsFile is { } m) MetricsFile = Abs(m);
    }

    /// <summary>All problems together, each naming the field and value.</summary>
    public void Validate(string source)
    {
        var p = ToTrainerOptions().Problems();
        if (Model is null && InitFrom is null) p.Add("give \"model\" (config.json fields) or \"init_from\" (a model directory)");
        if (Model is not null && InitFrom is not null) p.Add("give only one of \"model\" and \"init_from\"");
        if (Model is not null)
        {
            var probe = Model.Clone();
            if (probe.VocabSize == 0) // filled from the tokenizer later; sized so the token ids given are in range
                probe.VocabSize = 1 + Math.Max(0, new[] { probe.BosTokenIds, probe.EosTokenIds, probe.PadTokenIds }.SelectMany(t => t?.Ids ?? []).DefaultIfEmpty(0).Max());
            p.AddRange(probe.Problems().Select(x => "model." + x));
        }
        if (Data.Train.Count == 0) p.Add("data.train lists no files");
        foreach (var f in Data.Train) if (!File.Exists(f) && !Directory.Exists(f)) p.Add($"data.train: '{f}' does not exist");
        if (Data.ValidFraction is < 0 or >= 1) p.Add($"data.valid_fraction = {Data.ValidFraction} must be in [0, 1)");
        if (CheckpointEvery < 0) p.Add($"checkpoint_every = {CheckpointEvery} must be >= 0");
        if (KeepCheckpoints < 1) p.Add($"keep_checkpoints = {KeepCheckpoints} must be >= 1");
        if (!(MemoryLimitMb >= 0)) p.Add($"memory_limit_mb = {MemoryLimitMb} must be >= 0 (0 = what is available)");
        p.AddRange(NanGuard.Problems());
        p.AddRange(Parallel.Problems(BatchSize * GradAccum));
        if (p.Count > 0) throw new InvalidDataException($"{source}: invalid run config ({p.Count} problem{(p.Count > 1 ? "s" : "")}):\n  - " + string.Join("\n  - ", p));
    }
}

/// <summary>run config "parallel": pipeline-parallel training of one step's batch (batch_size × grad_accum rows) cut
/// into data_parallel × micro_batches micro-batches that flow through pipeline_stages stages.</summary>
public sealed record PipelineOptions
{
    public int PipelineStages { get; set; } = 1;
    public int MicroBatches { get; set; } = 1;
    public int DataParallel { get; set; } = 1;
    /// <summary>"1f1b" (DAPPLE early backward) or "gpipe".</summary>
    public string Schedule { get; set; } = "1f1b";
    /// <summary>Layer bounds per stage, e.g. "0,3,8" (from `lightglm plan`); null = even.</summary>
    public string? StageSplit { get; set; }
    /// <summary>"threads" (one process) or "mpi" (one rank per stage and replica, under mpirun).</summary>
    public string Transport { get; set; } = "threads";
    /// <summary>Profile the layers at start so the log shows the planner's predicted step time beside the measured one.</summary>
    public bool Predict { get; set; } = true;
    /// <summary>MPI transport: the longest a rank waits for one message or collective before it ends the job as hung
    /// (a stopped, deadlocked or cut-off peer). Must exceed the longest legitimate gap: rank 0 saving a checkpoint or
    /// evaluating while the others wait.</summary>
    public double TimeoutSeconds { get; set; } = 600;

    public bool Enabled => PipelineStages > 1 || MicroBatches > 1 || DataParallel > 1 || Transport == "mpi";

    public List<string> Problems(int rowsPerStep)
    {
        var p = new List<string>();
        if (PipelineStages < 1) p.Add($"parallel.pipeline_stages = {PipelineStages} must be >= 1");
        if (MicroBatches < 1) p.Add($"parallel.micro_batches = {MicroBatches} must be >= 1");
        if (DataParallel < 1) p.Add($"parallel.data_parallel = {DataParallel} must be >= 1");
        if (!double.IsFinite(TimeoutSeconds) || TimeoutSeconds <= 0 || TimeoutSeconds > 1e6) p.Add($"parallel.timeout_seconds = {TimeoutSeconds} must be in (0, 1000000]");
        if (Transport is not ("threads" or "mpi")) p.Add($"parallel.transport = '{Transport}' must be threads or mpi");
        if (Schedule.Trim().ToLowerInvariant() is not ("gpipe" or "1f1b" or "dapple"))
            p.Add($"parallel.schedule = '{Schedule}' must be gpipe or 1f1b");
        if (MicroBatches >= 1 && DataParallel >= 1 && rowsPerStep % (MicroBatches * DataParallel) != 0)
            p.Add($"batch_size x grad_accum = {rowsPerStep} rows per step must be a multiple of data_parallel x micro_batches = {DataParallel * MicroBatches}");
        return p;
    }
}

public sealed class DataConfig
{
    /// <summary>Text files, or folders (every file inside, sorted).</summary>
    public List<string> Train { get; set; } = [];
    /// <summary>"byte" (the byte-level fallback) or a tokenizer.json path.</summary>
    public string Tokenizer { get; set; } = "byte";
    /// <summary>Last fraction of the token stream held out for evaluation.</summary>
    public double ValidFraction { get; set; } = 0.05;

    public IEnumerable<string> Files() => Train.SelectMany(p => Directory.Exists(p)
        ? Directory.EnumerateFiles(p, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
        : new[] { p }.AsEnumerable());
}
