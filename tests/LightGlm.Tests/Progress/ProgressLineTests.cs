// Progress that reads well in a log file: plain lines at most every few seconds plus the last, never a '\r' redraw,
// when the stream is redirected; redrawn in place on a terminal. Also `lightglm eval` end to end with stderr redirected.
using LightGlm.Cli.Progress;
using LightGlm.Tests.Evaluation;
using LightGlm.Tests.Translation;

namespace LightGlm.Tests.Progress;

public sealed class ProgressLineTests
{
    /// <summary>100 reports 0.1 s apart (10 s) through a 5 s throttle on a fake clock: t = 0, t = 5 and the final one.</summary>
    [Fact]
    public void RedirectedWritesALineEveryIntervalPlusTheLast()
    {
        var now = TimeSpan.Zero;
        var log = new StringWriter();
        var line = new ProgressLine(log, redraw: false, new ReportThrottle(TimeSpan.FromSeconds(5), () => now));
        for (int i = 1; i <= 100; i++)
        {
            line.Report(i / 100.0, $"en-zh {i}/100");
            now += TimeSpan.FromSeconds(0.1);
        }
        line.Finish();
        string text = log.ToString();
        Assert.DoesNotContain('\r', text);
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["en-zh 1/100", "en-zh 51/100", "en-zh 100/100"], lines.Select(l => l.Split("] ")[1].Split(" (")[0]));
        Assert.Contains("(100.0%", lines[^1]);
    }

    [Fact]
    public void ATerminalGetsOneRedrawnLineEndedByFinish()
    {
        var term = new StringWriter();
        var line = new ProgressLine(term, redraw: true);
        for (int i = 1; i <= 10; i++) line.Report(i / 10.0, $"{i}/10");
        line.Finish();
        string text = term.ToString();
        Assert.Equal(10, text.Count(c => c == '\r'));
        Assert.Equal(1, text.Count(c => c == '\n'));
        Assert.EndsWith("\n", text);
    }

    [Fact]
    public void ThrottleAdmitsTheFirstAndEveryFinalReport()
    {
        var now = TimeSpan.Zero;
        var t = new ReportThrottle(TimeSpan.FromSeconds(5), () => now);
        Assert.True(t.Admit(final: false));
        Assert.False(t.Admit(final: false));
        Assert.True(t.Admit(final: true));
        now = TimeSpan.FromSeconds(4.9);
        Assert.False(t.Admit(final: false));
        now = TimeSpan.FromSeconds(5);
        Assert.True(t.Admit(final: false));
    }

    /// <summary>The bug this fixes: `lightglm eval 2> log` wrote one endless '\r'-redrawn line into the log.</summary>
    [Fact]
    public void EvalWithStderrRedirectedWritesPlainLines()
    {
        var dir = TranslatorTests.SaveTinyModel();
        try
        {
            var test = Path.Combine(dir, "test.tsv");
            File.WriteAllText(test, "Cannot open file\t无法打开文件\nPermission denied\t权限不足\nSave as\t另存为\n");
            var r = CliProcess.Run(null, "eval", "--model", dir, "--test", test, "--max-new-tokens", "4");
            Assert.True(r.ExitCode == 0, r.Stderr);
            Assert.DoesNotContain('\r', r.Stderr);
            var progress = r.Stderr.Split('\n').Where(l => l.StartsWith('[')).ToList();
            Assert.True(progress.Count >= 2, r.Stderr); // the first report and the final one at least
            Assert.Contains("(100.0%", progress[^1]);
        }
        finally { Directory.Delete(dir, true); }
    }
}
