// `lightglm score` end to end on the sacreBLEU vectors: the printed lines and JSON equal sacreBLEU's.
using System.Text.Json;

namespace LightGlm.Tests.Evaluation;

public sealed class ScoreCommandTests
{
    static readonly string Dir = Path.Combine(AppContext.BaseDirectory, "Data", "sacrebleu");
    static JsonElement Expected => JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, "expected.json"))).RootElement;

    [Fact]
    public void TextOutputHasSacreBleuLines()
    {
        var r = CliProcess.Run(null, "score", "--ref", Path.Combine(Dir, "zh.ref"), "--hyp", Path.Combine(Dir, "zh.hyp"), "--tokenize", "zh");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var c = Expected.GetProperty("zh").GetProperty("corpus");
        Assert.Equal(c.GetProperty("bleu").GetProperty("line").GetString(), lines[0]);
        Assert.Equal($"chrF2|{c.GetProperty("chrf2").GetProperty("signature_short").GetString()} = {c.GetProperty("chrf2").GetProperty("formatted").GetString()}", lines[1]);
        Assert.Equal($"chrF2++|{c.GetProperty("chrf++").GetProperty("signature_short").GetString()} = {c.GetProperty("chrf++").GetProperty("formatted").GetString()}", lines[2]);
        Assert.Equal($"TER|{c.GetProperty("ter").GetProperty("signature_short").GetString()} = {c.GetProperty("ter").GetProperty("formatted").GetString()}", lines[3]);
    }

    [Fact]
    public void JsonOutputHasTheIssueKeys()
    {
        var r = CliProcess.Run(null, "score", "--ref", Path.Combine(Dir, "en.ref"), "--hyp", Path.Combine(Dir, "en.hyp"), "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var j = JsonDocument.Parse(r.Stdout).RootElement;
        Assert.Equal(["bleu", "chrf2", "chrf2pp", "ter"], j.EnumerateObject().Select(p => p.Name).ToArray());
        var c = Expected.GetProperty("en").GetProperty("corpus");
        foreach (var (ours, theirs) in new[] { ("bleu", "bleu"), ("chrf2", "chrf2"), ("chrf2pp", "chrf++"), ("ter", "ter") })
        {
            Assert.Equal(["score", "signature"], j.GetProperty(ours).EnumerateObject().Select(p => p.Name).ToArray());
            Assert.Equal(c.GetProperty(theirs).GetProperty("score").GetDouble(), j.GetProperty(ours).GetProperty("score").GetDouble(), 9);
            Assert.Equal(c.GetProperty(theirs).GetProperty("signature").GetString(), j.GetProperty(ours).GetProperty("signature").GetString());
        }
    }

    [Fact]
    public void MismatchedLineCountsAreAUserError()
    {
        var dir = Directory.CreateTempSubdirectory("lightglm-score-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "r"), "a\nb\n");
            File.WriteAllText(Path.Combine(dir.FullName, "h"), "a\n");
            var r = CliProcess.Run(null, "score", "--ref", Path.Combine(dir.FullName, "r"), "--hyp", Path.Combine(dir.FullName, "h"));
            Assert.Equal(2, r.ExitCode);
            Assert.Contains("has 2 lines", r.Stderr);
            var missing = CliProcess.Run(null, "score", "--ref", Path.Combine(dir.FullName, "nope"), "--hyp", Path.Combine(dir.FullName, "h"));
            Assert.Equal(2, missing.ExitCode);
            Assert.Contains("nope", missing.Stderr);
        }
        finally { dir.Delete(true); }
    }
}
