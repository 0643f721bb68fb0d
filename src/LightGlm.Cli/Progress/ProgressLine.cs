// One line of progress for commands without a stage display (`eval`): redrawn in place with '\r' on a terminal; when
// the stream is redirected (a log file, CI) a plain line at most every few seconds, plus the last one, so the log reads
// as lines instead of one endless redrawn line.
using System.Diagnostics;

namespace LightGlm.Cli.Progress;

/// <summary>Lets a report through at most once per interval, and always the first and the final one. The one rule for
/// every progress writer that prints lines (eval, recipe stages, training).</summary>
public sealed class ReportThrottle(TimeSpan interval, Func<TimeSpan>? clock = null)
{
    public static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(5);
    readonly Func<TimeSpan> _clock = clock ?? StartClock();
    TimeSpan? _last;

    public TimeSpan Elapsed => _clock();

    static Func<TimeSpan> StartClock()
    {
        var sw = Stopwatch.StartNew();
        return () => sw.Elapsed;
    }

    public bool Admit(bool final)
    {
        var now = _clock();
        if (!final && _last is { } last && now - last < interval) return false;
        _last = now;
        return true;
    }
}

public sealed class ProgressLine(TextWriter writer, bool redraw, ReportThrottle? throttle = null)
{
    readonly ReportThrottle _throttle = throttle ?? new ReportThrottle(ReportThrottle.LogInterval);
    bool _open;

    /// <summary>On standard error: redrawn on a terminal, plain lines when stderr is redirected.</summary>
    public static ProgressLine ForStandardError() => new(Console.Error, redraw: !Console.IsErrorRedirected);

    public void Report(double fraction, string what)
    {
        string bar = $"[{new string('#', (int)(30 * Math.Clamp(fraction, 0, 1))).PadRight(30)}] {what}";
        if (redraw)
        {
            writer.Write($"\r{bar}   ");
            _open = true;
            return;
        }
        if (!_throttle.Admit(final: fraction >= 1)) return;
        var el = _throttle.Elapsed.TotalSeconds;
        string eta = fraction is > 0.001 and < 1 ? $", ETA {el / fraction - el:F0} s" : "";
        writer.WriteLine($"{bar} ({fraction * 100:F1}%, {el:F0} s{eta})");
    }

    /// <summary>Ends a redrawn line so that what follows starts on a line of its own.</summary>
    public void Finish()
    {
        if (_open) writer.WriteLine();
        _open = false;
    }
}
