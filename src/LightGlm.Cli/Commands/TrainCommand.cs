// `lightglm train --config run.json`: trains a model from a JSON run config with a progress bar (tokens/s, loss, ETA),
// optionally through a pipeline (threads, or MPI ranks under mpirun); --dry-run prints the memory estimate only.
using System.CommandLine;
using LightGlm.Pipeline;
using LightGlm.Training;
using Spectre.Console;

namespace LightGlm.Cli.Commands;

public sealed class TrainCommand : ICliCommand
{
    public string[] Path => ["train"];

    public Command Build()
    {
        var config = new Option<string>("--config") { Description = "JSON run config (model, data, optimizer, schedule, steps, batch, seq, checkpoint_dir, resume); see docs/ENGINE.md", Required = true };
        var threads = new Option<int>("--threads") { Description = "Threads for GEMM and model loops (0 = all cores)", DefaultValueFactory = _ => 0 };
        var noResume = new Option<bool>("--no-resume") { Description = "Start fresh even if checkpoint_dir holds a checkpoint" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the memory estimate (weights, gradients, AdamW, activations per micro-batch) and stop" };
        var memoryLimit = new Option<double?>("--memory-limit-mb") { Description = "Refuse to start above this estimate (default: the config's memory_limit_mb, else the memory available)" };
        var parallel = new ParallelTrainOptions();
        var cmd = new Command("train", "Train a GLM/LLaMA-family model on text (resumes from the last checkpoint; pipeline-parallel with --pipeline-stages).")
        {
            config, threads, noResume, dryRun, memoryLimit,
        };
        parallel.AddTo(cmd);
        cmd.SetAction(r =>
        {
            var rc = RunConfig.Load(r.GetValue(config)!);
            if (r.GetValue(noResume)) rc.Resume = false;
            if (r.GetValue(memoryLimit) is { } mb)
            {
                if (!(mb > 0)) throw new CliException($"--memory-limit-mb must be > 0, got {mb}");
                rc.MemoryLimitMb = mb;
            }
            parallel.ApplyTo(r, rc.Parallel);
            var problems = rc.Parallel.Problems(rc.BatchSize * rc.GradAccum);
            if (problems.Count > 0) throw new CliException(string.Join("; ", problems));
            ModelThreads.Apply(r.GetValue(threads));
            if (rc.Parallel.Transport == "mpi")
                return MpiSession.Run(TimeSpan.FromSeconds(rc.Parallel.TimeoutSeconds), "train", _ => Train(rc, r.GetValue(dryRun), quiet: ParallelTrainOptions.LauncherRank() != 0));
            return Train(rc, r.GetValue(dryRun), quiet: false);
        });
        return cmd;
    }

    static int Train(RunConfig rc, bool dryRun, bool quiet)
    {
        if (dryRun)
        {
            MemoryEstimate est;
            try { est = TrainingRun.Run(rc, quiet ? new QuietProgress() : new LineProgress(), dryRun: true).Memory!; }
            catch (ArgumentException e) { throw new CliException(e.Message); }
            long avail = rc.MemoryLimitMb > 0 ? (long)(rc.MemoryLimitMb * 1048576) : MemoryEstimate.AvailableBytes();
            if (!quiet)
                Console.WriteLine($"dry run: estimate {MemoryEstimate.Mb(est.TotalBytes)}, {(rc.MemoryLimitMb > 0 ? "limit" : "available")} {MemoryEstimate.Mb(avail)}: " +
                                  (est.TotalBytes <= avail ? "fits" : "does NOT fit (train would refuse)"));
            return 0;
        }
        // Where output_dir is swapped by two renames (no exchange on this file system), a kill between them leaves no
        // output_dir but its .old and .partial, both holding the checkpoints kept there: put the new one in place before
        // looking for a checkpoint to resume from.
        if (!quiet && rc.OutputDir is { } outDir) LightGlm.IO.AtomicDirectory.Recover(outDir);
        var s = TrainWithProgress(rc, quiet: quiet);
        if (quiet) return 0;
        Console.WriteLine($"trained {s.Steps} steps in {s.Seconds:F1} s ({s.TokensPerSecond:F0} tokens/s): loss {s.FirstLoss:F4} → {s.LastLoss:F4}, held-out {s.ValidLoss:F4}");
        if (!double.IsNaN(s.PredictedStepSeconds) || !double.IsNaN(s.MeasuredIdle))
            Console.WriteLine($"pipeline: median step {s.MedianStepSeconds:F4} s measured vs {s.PredictedStepSeconds:F4} s predicted; idle {s.MeasuredIdle:F3} measured vs bubble {s.PredictedBubble:F3} predicted");
        if (s.Memory is { } m && s.PeakResidentBytes > 0)
            Console.WriteLine($"memory: estimate {MemoryEstimate.Mb(m.RunBytes)} (+{MemoryEstimate.Mb(m.RuntimeBytes)} runtime allowance); measured peak RSS {MemoryEstimate.Mb(s.PeakResidentBytes)}, " +
                              $"{MemoryEstimate.Mb(s.PeakResidentBytes - s.ResidentBeforeModelBytes)} above the RSS before the model");
        if (s.Rollbacks > 0) Console.WriteLine($"nan_guard: {s.Rollbacks} rollback(s) during the run");
        return 0;
    }

    /// <summary>Runs <paramref name="rc"/> with a live progress bar on a terminal, or a line every few seconds otherwise.</summary>
    internal static TrainingSummary TrainWithProgress(RunConfig rc, string title = "train", bool quiet = false)
    {
        try
        {
            if (quiet) return TrainingRun.Run(rc, new QuietProgress());
            if (!AnsiConsole.Profile.Capabilities.Interactive) return TrainingRun.Run(rc, new LineProgress());
            TrainingSummary? summary = null;
            AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                         new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask(title, maxValue: rc.Steps);
                    summary = TrainingRun.Run(rc, new BarProgress(task, title));
                    task.Value = task.MaxValue;
                });
            return summary!;
        }
        catch (ArgumentException e) { throw new CliException(e.Message); }
        catch (InsufficientMemoryForTrainingException e) { throw new CliException("not enough memory: " + e.Message); }
    }

    /// <summary>MPI ranks other than 0: rank 0 reports for the job.</summary>
    sealed class QuietProgress : ITrainingProgress
    {
        public void Started(Trainer t, int tokens, bool resumed) { }
        public void Stepped(Trainer t, StepResult s) { }
        public void Message(string text) { }
    }

    sealed class BarProgress(ProgressTask task, string title) : ITrainingProgress
    {
        double _tps;
        public void Started(Trainer t, int tokens, bool resumed)
        {
            task.Value = t.State.Step;
            AnsiConsole.MarkupLineInterpolated($"[grey]{tokens:N0} tokens of data, {t.Model.Config.ParameterCount():N0} parameters[/]");
        }
        public void Stepped(Trainer t, StepResult s)
        {
            _tps = _tps == 0 ? s.Tokens / s.Seconds : 0.9 * _tps + 0.1 * s.Tokens / s.Seconds;
            task.Value = s.Step;
            task.Description = $"{title} step {s.Step}/{t.Options.Steps} loss {s.Loss:F3} lr {s.Lr:G3} {_tps:F0} tok/s";
        }
        public void Message(string text) => AnsiConsole.MarkupLineInterpolated($"[grey]{text}[/]");
    }

    internal sealed class LineProgress : ITrainingProgress
    {
        readonly Progress.ReportThrottle _throttle = new(Progress.ReportThrottle.LogInterval);
        double _tps;
        int _startStep;
        public void Started(Trainer t, int tokens, bool resumed)
        {
            _startStep = t.State.Step;
            Console.WriteLine($"{tokens:N0} tokens of data, {t.Model.Config.ParameterCount():N0} parameters, {t.Options.Steps} steps");
        }
        public void Stepped(Trainer t, StepResult s)
        {
            _tps = _tps == 0 ? s.Tokens / s.Seconds : 0.9 * _tps + 0.1 * s.Tokens / s.Seconds;
            if (!_throttle.Admit(final: s.Step == t.Options.Steps)) return;
            double el = _throttle.Elapsed.TotalSeconds;
            double eta = (t.Options.Steps - s.Step) * el / Math.Max(1, s.Step - _startStep);
            Console.WriteLine($"step {s.Step}/{t.Options.Steps}  loss {s.Loss:F4}  lr {s.Lr:G3}  {_tps:F0} tok/s  elapsed {el:F0} s  ETA {eta:F0} s");
        }
        public void Message(string text) => Console.WriteLine(text);
    }
}

/// <summary>One place that applies --threads to the GEMM and the model loops.</summary>
internal static class ModelThreads
{
    public static void Apply(int threads)
    {
        if (threads < 0) throw new CliException($"--threads must be >= 0, got {threads}");
        if (threads > 0) LightGlm.Evaluation.Bench.EngineBench.SetThreads(threads);
    }
}
