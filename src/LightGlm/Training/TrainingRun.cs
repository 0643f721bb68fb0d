// Runs a RunConfig end to end: tokenize, estimate memory (refuse when it cannot fit), build or load the model, train
// (optionally through a pipeline) on the one run loop (resume, NaN guard, checkpoints, metrics.jsonl), evaluate, save.
using System.Text.Json.Nodes;
using LightGlm.Text.Tokenizers;
using LightGlm.Model;
using LightGlm.Model.Checkpoints;
using LightGlm.Pipeline;

namespace LightGlm.Training;

/// <summary>What a run reports while it goes (the CLI draws the progress bar from it).</summary>
public interface ITrainingProgress
{
    void Started(Trainer trainer, int tokensInData, bool resumed);
    void Stepped(Trainer trainer, StepResult step);
    void Message(string text);
}

public sealed record TrainingSummary(int Steps, double FirstLoss, double LastLoss, double ValidLoss, double Seconds, double TokensPerSecond, string? OutputDir)
{
    public MemoryEstimate? Memory { get; init; }
    /// <summary>Peak resident set of the process (VmHWM) at the end, and the resident set just before the model existed.</summary>
    public long PeakResidentBytes { get; init; } = -1;
    public long ResidentBeforeModelBytes { get; init; } = -1;
    /// <summary>Median measured seconds per step, and the planner's prediction (pipeline runs with parallel.predict).</summary>
    public double MedianStepSeconds { get; init; } = double.NaN;
    public double PredictedStepSeconds { get; init; } = double.NaN;
    public double MeasuredIdle { get; init; } = double.NaN;
    public double PredictedBubble { get; init; } = double.NaN;
    public int Rollbacks { get; init; }
}

/// <summary>The estimate says the run does not fit in memory; the message says by how much and what to change.</summary>
public sealed class InsufficientMemoryForTrainingException(string message) : Exception(message);

public static class TrainingRun
{
    public static ITokenizer LoadTokenizer(string spec)
    {
        if (spec == "byte") return ByteTokenizer.Instance;
        if (!File.Exists(spec)) throw new FileNotFoundException($"data.tokenizer = '{spec}': not found; give \"byte\" or the path of a tokenizer.json (e.g. `lightglm tokenizer train`'s output)", spec);
        return TokenizerLoader.Load(spec);
    }

    /// <summary>The model config the run will train (from "model" with the tokenizer's sizes, or init_from's config.json).</summary>
    public static ModelConfig ModelConfigOf(RunConfig rc, ITokenizer tok)
    {
        if (rc.InitFrom is { } init) return ModelConfig.Load(Path.Combine(init, ModelDirectory.ConfigFile));
        var cfg = rc.Model!.Clone();
        if (cfg.VocabSize == 0) cfg.VocabSize = tok.VocabSize;
        cfg.EosTokenId ??= tok.EosId; cfg.BosTokenId ??= tok.BosId; cfg.PadTokenId ??= tok.PadId;
        if (cfg.VocabSize < tok.VocabSize) throw new InvalidDataException($"model.vocab_size = {cfg.VocabSize} is smaller than the tokenizer's {tok.VocabSize}");
        return cfg;
    }

    /// <summary>The memory estimate of <paramref name="rc"/> for this process, without allocating the model.</summary>
    public static MemoryEstimate EstimateMemory(RunConfig rc, ModelConfig cfg, long dataTokens, bool evaluates) =>
        MemoryEstimator.Estimate(cfg, rc.ToTrainerOptions(), rc.Parallel.Enabled ? PipelineTraining.Shape(cfg, rc.Parallel, rc.BatchSize * rc.GradAccum) : null,
            evaluates, dataTokens, snapshotInMemory: rc.CheckpointDir is null);

    /// <summary>Throws <see cref="InsufficientMemoryForTrainingException"/> when <paramref name="m"/> exceeds the limit.</summary>
    public static void CheckFits(MemoryEstimate m, RunConfig rc)
    {
        long limit = rc.MemoryLimitMb > 0 ? (long)(rc.MemoryLimitMb * 1048576) : MemoryEstimate.AvailableBytes();
        if (m.TotalBytes <= limit) return;
        var biggest = m.Items.OrderByDescending(i => i.Bytes).First();
        throw new InsufficientMemoryForTrainingException(
            $"this run needs about {MemoryEstimate.Mb(m.TotalBytes)} but {(rc.MemoryLimitMb > 0 ? "memory_limit_mb allows" : "this machine has")} " +
            $"{MemoryEstimate.Mb(limit)} available (largest part: {biggest.What}, {MemoryEstimate.Mb(biggest.Bytes)}). " +
            "Lower batch_size (and raise grad_accum to keep the step's batch), shorten seq_len, use more --micro-batches with " +
            "--schedule 1f1b, or spread the stages over MPI ranks on more machines (--pipeline-stages K --transport mpi).\n" + m.Format());
    }

    public static TrainingSummary Run(RunConfig rc, ITrainingProgress progress, CancellationToken cancel = default, bool dryRun = false)
    {
        var tok = LoadTokenizer(rc.Data.Tokenizer);
        var files = rc.Data.Files().ToList();
        var stream = TokenStreamSource.Tokenize(files, tok);
        int validCount = (int)(stream.Length * rc.Data.ValidFraction);
        var train = stream[..(stream.Length - validCount)];
        var valid = stream[(stream.Length - validCount)..];
        if (train.Length < rc.SeqLen + 1)
            throw new InvalidDataException($"data.train ({files.Count} files) gives {train.Length} training tokens, fewer than seq_len + 1 = {rc.SeqLen + 1}");
        var validSource = valid.Length > rc.SeqLen + 1 ? new TokenStreamSource(valid, rc.Seed + 1) : null;

        var cfg = ModelConfigOf(rc, tok);
        var memory = EstimateMemory(rc, cfg, stream.Length, validSource is not null);
        progress.Message($"memory estimate ({cfg.ParameterCount():N0} parameters{(rc.Parallel.Enabled ? $", pipeline K={rc.Parallel.PipelineStages} M={rc.Parallel.MicroBatches} D={rc.Parallel.DataParallel} {rc.Parallel.Schedule}" : "")}):\n{memory.Format()}");
        if (dryRun) return new TrainingSummary(0, double.NaN, double.NaN, double.NaN, 0, 0, null) { Memory = memory };
        CheckFits(memory, rc);

        long rssBefore = MemoryEstimate.ResidentBytes();
        var model = rc.InitFrom is { } init ? ModelDirectory.Load(init) : GlmModel.Create(cfg, rc.InitSeed);
        var trainer = new Trainer(model, rc.ToTrainerOptions(), new TokenStreamSource(train, rc.Seed));
        PipelineGradientEngine? engine = null;
        if (rc.Parallel.Enabled)
        {
            engine = PipelineTraining.Create(model, rc.Parallel, rc.BatchSize * rc.GradAccum, rc.SeqLen, progress.Message);
            trainer.Engine = engine;
            progress.Message(engine.Description);
        }
        bool writer = engine?.Transport != "mpi" || engine.Gather(); // MPI: world rank 0 writes files
        var metrics = writer ? new MetricsLog(rc.MetricsFile ?? (rc.CheckpointDir is { } d ? Path.Combine(d, "metrics.jsonl") : null)) : MetricsLog.None;

        int evalBatches = validSource is null ? 0 : Math.Clamp(valid.Length / (rc.BatchSize * rc.SeqLen), 1, 8);
        var idle = new List<double>();
        bool started = false;
        var run = RunLoop.Run(trainer, new RunLoopOptions
        {
            CheckpointDir = rc.CheckpointDir, CheckpointEvery = rc.CheckpointEvery, KeepCheckpoints = rc.KeepCheckpoints, Resume = rc.Resume,
            NanGuard = rc.NanGuard, ValidEvery = rc.EvalEvery, MaxSeconds = rc.MaxSeconds,
        }, new RunLoopHooks
        {
            Validate = validSource is null ? null : () => trainer.Evaluate(validSource, evalBatches),
            Validated = (step, _, v) => progress.Message($"step {step}: held-out loss {v:F4}"),
            Annotate = (_, rec) =>
            {
                if (engine?.LastStep is not { } ps) return;
                double id = engine.MeasuredIdle();
                idle.Add(id);
                rec["pipeline_seconds"] = Math.Round(ps.Seconds, 5);
                rec["idle_measured"] = Math.Round(id, 4);
                rec["peak_in_flight"] = ps.Stages.Max(s => s.PeakInFlight);
                if (engine.Prediction is { } pr)
                {
                    rec["step_seconds_predicted"] = Math.Round(pr.StepSeconds, 5);
                    rec["bubble_predicted"] = Math.Round(pr.Bubble, 4);
                }
            },
            Metric = rec =>
            {
                if (!started && rec["event"] is not null)
                {   // the first record, "start" or "resume": drop lines past the step the run continues from
                    started = true;
                    metrics.Resume((int)rec["step"]!);
                    progress.Started(trainer, stream.Length, (string?)rec["event"] == "resume");
                }
                metrics.Write(rec);
            },
            Stepped = (r, _) => progress.Stepped(trainer, r),
            Log = progress.Message,
        }, cancel);
        double seconds = run.Seconds;
        double validLoss = validSource is null ? double.NaN
            : run.Valid.Count > 0 && run.Valid[^1].Step == trainer.State.Step ? run.Valid[^1].Loss
            : Evaluate();
        double Evaluate()
        {
            engine?.Gather(model.Weights); // an MPI rank holds only its stage's weights current
            return trainer.Evaluate(validSource!, evalBatches);
        }
        if (rc.OutputDir is { } outDir)
        {
            engine?.Gather(model.Weights); // collective on MPI: every rank takes part, rank 0 writes
            if (writer)
            {
                ModelDirectory.Save(model, outDir, rc.Data.Tokenizer == "byte" ? null : rc.Data.Tokenizer);
                progress.Message($"saved model to {outDir}");
            }
        }
        double first = run.Train.Count > 0 ? run.Train[0].Loss : double.NaN, lastLoss = run.Train.Count > 0 ? run.Train[^1].Loss : double.NaN;
        var summary = new TrainingSummary(trainer.State.Step, first, lastLoss, validLoss, seconds, run.TokensPerSecond, rc.OutputDir)
        {
            Memory = memory, PeakResidentBytes = MemoryEstimate.PeakResidentBytes(), ResidentBeforeModelBytes = rssBefore,
            MedianStepSeconds = run.MedianStepSeconds,
            PredictedStepSeconds = engine?.Prediction?.StepSeconds ?? double.NaN,
            MeasuredIdle = idle.Count > 0 ? idle.Order().ElementAt(idle.Count / 2) : double.NaN,
            PredictedBubble = engine?.Prediction?.Bubble ?? double.NaN,
            Rollbacks = trainer.State.Rollbacks,
        };
        metrics.Write(new JsonObject
        {
            ["event"] = "end", ["step"] = summary.Steps, ["seconds"] = Math.Round(seconds, 3), ["tokens_per_s"] = Math.Round(summary.TokensPerSecond),
            ["median_step_seconds"] = summary.MedianStepSeconds, ["predicted_step_seconds"] = summary.PredictedStepSeconds,
            ["idle_measured"] = summary.MeasuredIdle, ["bubble_predicted"] = summary.PredictedBubble,
            ["memory_estimate_bytes"] = memory.RunBytes, ["peak_rss_bytes"] = summary.PeakResidentBytes, ["rss_before_model_bytes"] = rssBefore,
        });
        return summary;
    }
}
