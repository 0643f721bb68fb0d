// The one training loop around Trainer.Step, used by `train`, `finetune`, `distill` and every recipe stage: resume from
// the newest intact checkpoint, step, roll back on NaN/Inf (NanGuard), validate, log metrics, report progress,
// checkpoint every N steps and at the end, and stop at a step boundary on cancellation or a time budget.
using System.Diagnostics;
using System.Text.Json.Nodes;

namespace LightGlm.Training;

/// <summary>Where and how often a run saves, validates and gives up. Without <see cref="CheckpointDir"/> the run neither
/// resumes nor writes checkpoints; the NaN guard then rolls back to an in-memory snapshot (taken at the start and every
/// <see cref="CheckpointEvery"/> steps).</summary>
public sealed record RunLoopOptions
{
    public string? CheckpointDir { get; init; }
    public int CheckpointEvery { get; init; }
    public int KeepCheckpoints { get; init; } = 2;
    /// <summary>Copied into every checkpoint so that it is a loadable model directory.</summary>
    public string? TokenizerJson { get; init; }
    /// <summary>Continue from the newest intact checkpoint in <see cref="CheckpointDir"/>.</summary>
    public bool Resume { get; init; } = true;
    public NanGuardOptions NanGuard { get; init; } = new();
    /// <summary>Validate every N steps (and always after the last step); 0 = only after the last step.</summary>
    public int ValidEvery { get; init; }
    /// <summary>Also validate before the first step (so every variant's curve starts at the same point).</summary>
    public bool ValidateAtStart { get; init; }
    /// <summary>Stop after this many seconds (at a step boundary, with a checkpoint); 0 = no budget.</summary>
    public double MaxSeconds { get; init; }
}

/// <summary>What the loop reports while it runs: every metric record (steps and events; the caller decides which to
/// keep), each finished step, and log lines.</summary>
public sealed class RunLoopHooks
{
    /// <summary>Validation loss of the model as it is now; null = no validation.</summary>
    public Func<double>? Validate { get; init; }
    /// <summary>Adds fields to a step's record after validation (pipeline timings, CPU time, learning-curve probes).</summary>
    public Action<StepResult, JsonObject>? Annotate { get; init; }
    public Action<JsonObject>? Metric { get; init; }
    /// <summary>After every applied step, with its validation loss when one was taken.</summary>
    public Action<StepResult, double?>? Stepped { get; init; }
    /// <summary>After every validation: (step, that step's training loss — NaN before the first step, validation loss).</summary>
    public Action<int, double, double>? Validated { get; init; }
    public Action<string>? Log { get; init; }
}

/// <summary>The curve of one run (this attempt's steps; earlier attempts are in the metrics), its time and tokens.
/// Stopped = the time budget ended it before its last step.</summary>
public sealed record RunResult(IReadOnlyList<(int Step, double Loss)> Train, IReadOnlyList<(int Step, double Loss)> Valid,
    long Tokens, long RealTokens, double Seconds, IReadOnlyList<double> StepSeconds, bool Stopped)
{
    public double TokensPerSecond => Tokens / Math.Max(Seconds, 1e-9);
    public double MedianStepSeconds => StepSeconds.Count == 0 ? double.NaN : StepSeconds.Order().ElementAt(StepSeconds.Count / 2);
}

public static class RunLoop
{
    /// <summary>Trains <paramref name="trainer"/> to its step count, or until out of time (then <see cref="RunResult.Stopped"/>).
    /// Cancellation saves a checkpoint (with a dir) and throws OperationCanceledException. Throws
    /// <see cref="NonFiniteTrainingException"/> after too many rollbacks; the last checkpoint then stays intact.</summary>
    public static RunResult Run(Trainer trainer, RunLoopOptions o, RunLoopHooks h, CancellationToken cancel = default)
    {
        var log = h.Log ?? (_ => { });
        var engine = trainer.Engine;
        string? dir = o.CheckpointDir;
        bool resumed = false;
        if (dir is not null && o.Resume && TrainingCheckpoint.LatestValid(dir, log) is { } latest)
        {
            TrainingCheckpoint.Restore(trainer, latest);
            resumed = true;
            log($"resumed from {latest} at step {trainer.State.Step}");
        }
        h.Metric?.Invoke(new JsonObject { ["event"] = resumed ? "resume" : "start", ["step"] = trainer.State.Step });
        var guard = new NanGuard(o.NanGuard, dir, text => { log(text); h.Metric?.Invoke(new JsonObject { ["event"] = "nan_guard", ["message"] = text }); });
        guard.Attach(trainer);
        int saved = trainer.State.Step;
        void Save()
        {
            // An MPI rank holds only its stage's state current: gather it, rank 0 writes, and no rank runs ahead of the write.
            if (engine is null || engine.Gather(trainer.Model.Weights, trainer.Optimizer.M, trainer.Optimizer.V))
                log($"checkpoint {TrainingCheckpoint.Save(trainer, dir!, o.KeepCheckpoints, o.TokenizerJson)}");
            engine?.Barrier();
            saved = trainer.State.Step;
        }
        if (dir is not null && !resumed) Save(); // step 0: the first rollback point, on disk rather than in memory
        guard.Remember(trainer, onDisk: dir is not null);

        var train = new List<(int, double)>();
        var valid = new List<(int, double)>();
        double Validate()
        {
            engine?.Gather(trainer.Model.Weights); // an MPI rank holds only its stage's weights current
            return h.Validate!();
        }
        if (h.Validate is not null && o.ValidateAtStart)
        {
            valid.Add((trainer.State.Step, Validate()));
            h.Validated?.Invoke(trainer.State.Step, double.NaN, valid[^1].Item2);
        }
        var sw = Stopwatch.StartNew();
        var stepSeconds = new List<double>();
        long tokens = 0, real = 0;
        bool stopped = false;
        while (!trainer.Done)
        {
            if (cancel.IsCancellationRequested)
            {   // Ctrl-C: a checkpoint at this step boundary, so that running again continues exactly
                if (dir is not null && trainer.State.Step != saved) Save();
                cancel.ThrowIfCancellationRequested();
            }
            if (o.MaxSeconds > 0 && sw.Elapsed.TotalSeconds > o.MaxSeconds)
            {
                stopped = true;
                log($"time budget of {o.MaxSeconds:F0} s reached at step {trainer.State.Step}");
                break;
            }
            var r = trainer.Step();
            if (r.NonFinite)
            {
                guard.Recover(trainer, r); // throws NonFiniteTrainingException after too many rollbacks
                continue;
            }
            tokens += r.Tokens;
            real += r.RealTokens;
            stepSeconds.Add(r.Seconds);
            train.Add((r.Step, r.Loss));
            var rec = new JsonObject { ["step"] = r.Step, ["loss"] = r.Loss, ["lr"] = r.Lr, ["grad_norm"] = r.GradNorm };
            double? v = null;
            if (h.Validate is not null && (trainer.Done || (o.ValidEvery > 0 && r.Step % o.ValidEvery == 0)))
            {
                v = Validate();
                valid.Add((r.Step, v.Value));
                rec["valid_loss"] = v;
                h.Validated?.Invoke(r.Step, r.Loss, v.Value);
            }
            rec["step_seconds"] = Math.Round(r.Seconds, 5);
            rec["tokens_per_s"] = Math.Round(tokens / Math.Max(sw.Elapsed.TotalSeconds, 1e-9));
            rec["real_tokens_per_s"] = Math.Round(real / Math.Max(sw.Elapsed.TotalSeconds, 1e-9));
            rec["real_tokens"] = trainer.State.RealTokensSeen;
            h.Annotate?.Invoke(r, rec);
            h.Metric?.Invoke(rec);
            h.Stepped?.Invoke(r, v);
            if (o.CheckpointEvery > 0 && r.Step % o.CheckpointEvery == 0 && !trainer.Done)
            {
                if (dir is not null) Save();
                guard.Remember(trainer, onDisk: dir is not null);
            }
        }
        double seconds = sw.Elapsed.TotalSeconds;
        if (dir is not null && trainer.State.Step != saved) Save();
        return new RunResult(train, valid, tokens, real, seconds, stepSeconds, stopped);
    }
}
