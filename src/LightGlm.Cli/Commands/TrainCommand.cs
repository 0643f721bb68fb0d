// `lightglm train --config run.json`: trains a model from a JSON run config with a progress bar (tokens/s, loss, ETA).
using System.CommandLine;
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
        var cmd = new Command("train", "Train a GLM/LLaMA-family model on text (resumes from the last checkpoint).") { config, threads, noResume };
        cmd.SetAction(r =>
        {
            var rc = RunConfig.Load(r.GetValue(config)!);
            if (r.GetValue(noResume)) rc.Resume = false;
            ModelThreads.Apply(r.GetValue(threads));
            var s = TrainWithProgress(rc);
            Console.WriteLine($"trained {s.Steps} steps in {s.Seconds:F1} s ({s.TokensPerSecond:F0} tokens/s): loss {s.FirstLoss:F4} → {s.LastLoss:F4}, held-out {s.ValidLoss:F4}");
            return 0;
        });
        return cmd;
    }

    /// <summary>Runs <paramref name="rc"/> with a live progress bar on a terminal, or a line every few seconds otherwise.</summary>
    internal static TrainingSummary TrainWithProgress(RunConfig rc, string title = "train")
    {
        try
        {
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

    sealed class LineProgress : ITrainingProgress
    {
        readonly System.Diagnostics.Stopwatch _sw = System.Diagnostics.Stopwatch.StartNew();
        double _next, _tps;
        int _startStep;
        public void Started(Trainer t, int tokens, bool resumed)
        {
            _startStep = t.State.Step;
            Console.WriteLine($"{tokens:N0} tokens of data, {t.Model.Config.ParameterCount():N0} parameters, {t.Options.Steps} steps");
        }
        public void Stepped(Trainer t, StepResult s)
        {
            _tps = _tps == 0 ? s.Tokens / s.Seconds : 0.9 * _tps + 0.1 * s.Tokens / s.Seconds;
            double el = _sw.Elapsed.TotalSeconds;
            if (el < _next && s.Step != t.Options.Steps) return;
            _next = el + 5;
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
