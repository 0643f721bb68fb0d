// Shows the progress of recipe stages: a live Spectre.Console bar per stage on a terminal
// (what it does, how far, tokens/s, ETA), and plain timestamped lines when output is redirected (CI, logs).
using LightGlm.Experiments;
using Spectre.Console;

namespace LightGlm.Cli.Progress;

public sealed class StageProgressDisplay
{
    readonly bool _live = AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected;

    /// <summary>Runs <paramref name="work"/>, giving it a progress sink per stage.</summary>
    public void Run(RecipeRunner runner, Action<Func<IRecipeStage, IStageProgress>> work)
    {
        if (!_live)
        {
            runner.StageStarting += (s, i, n, skipped) =>
                Console.WriteLine(skipped ? $"[{i + 1}/{n}] {s.Name}: already done, skipped" : $"[{i + 1}/{n}] {s.Name}: {s.Description}");
            work(s => new LineProgress(s.Name));
            return;
        }
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                     new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                runner.StageStarting += (s, i, n, skipped) =>
                {
                    if (skipped) ctx.AddTask($"[grey][[{i + 1}/{n}]] {Markup.Escape(s.Name)}: already done[/]").Value(100).StopTask();
                };
                work(s => new BarProgress(ctx.AddTask(Markup.Escape(s.Name), maxValue: 1000), s.Name));
            });
    }

    sealed class BarProgress(ProgressTask task, string name) : IStageProgress
    {
        public void Report(double fraction, string detail, double? tokensPerSecond = null)
        {
            task.Value = Math.Clamp(fraction, 0, 1) * 1000;
            string tps = tokensPerSecond is { } t ? $" {t:N0} tok/s" : "";
            task.Description = Markup.Escape($"{name}: {detail}{tps}");
            if (fraction >= 1) task.StopTask();
        }
    }

    /// <summary>At most one line every few seconds, plus the last one.</summary>
    sealed class LineProgress(string name) : IStageProgress
    {
        readonly ReportThrottle _throttle = new(ReportThrottle.LogInterval);

        public void Report(double fraction, string detail, double? tokensPerSecond = null)
        {
            if (!_throttle.Admit(final: fraction >= 1)) return;
            double now = _throttle.Elapsed.TotalSeconds;
            string eta = fraction is > 0.001 and < 1 ? $", ETA {TimeSpan.FromSeconds(now / fraction - now):mm\\:ss}" : "";
            string tps = tokensPerSecond is { } t ? $", {t:N0} tok/s" : "";
            Console.WriteLine($"  {name}: {fraction * 100,5:F1}% {detail}{tps}{eta}");
        }
    }
}
