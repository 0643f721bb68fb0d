// `lightglm translate` and `lightglm eval` end to end on a saved random-weight model.
using System.Text.Json;
using LightGlm.Tests.Evaluation;

namespace LightGlm.Tests.Translation;

public sealed class TranslateEvalCommandTests
{
    [Fact]
    public void TranslateReadsArgsStdinAndFile()
    {
        var dir = TranslatorTests.SaveTinyModel();
        try
        {
            var a = CliProcess.Run(null, "translate", "--model", dir, "--to", "zh", "--max-new-tokens", "8", "Open file", "Close");
            Assert.True(a.ExitCode == 0, a.Stderr);
            Assert.Equal(2, a.Stdout.Split('\n').Length - 1);
            var s = CliProcess.Run("Open file\nClose\n", "translate", "--model", dir, "--to", "zh", "--max-new-tokens", "8");
            Assert.Equal(a.Stdout, s.Stdout); // same texts, same greedy outputs
            var f = Path.Combine(dir, "in.txt");
            File.WriteAllText(f, "Open file\nClose\n");
            Assert.Equal(a.Stdout, CliProcess.Run(null, "translate", "--model", dir, "--to", "zh", "--max-new-tokens", "8", "--file", f).Stdout);
            var bad = CliProcess.Run(null, "translate", "--model", Path.Combine(dir, "nope"), "x");
            Assert.Equal(2, bad.ExitCode);
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>
    /// translate and eval on a Hugging Face directory (our model exported as hf-llama): opened memory-mapped in place and
    /// run by the same forward pass — f32 gives the original's outputs, bf16 runs with its weights left in bf16.
    /// </summary>
    [Fact]
    public void TranslateAndEvalRunOnAHuggingFaceDirectoryInPlace()
    {
        var dir = TranslatorTests.SaveTinyModel();
        try
        {
            string f32 = Path.Combine(dir, "hf-f32"), bf16 = Path.Combine(dir, "hf-bf16");
            foreach (var (outDir, dtype) in new[] { (f32, "f32"), (bf16, "bf16") })
            {
                var e = CliProcess.Run(null, "export", "--model", dir, "--format", "hf-llama", "--out", outDir, "--dtype", dtype);
                Assert.True(e.ExitCode == 0, e.Stderr);
            }
            Assert.True(LightGlm.Interop.MappedWeights.ShouldMap(f32));
            Assert.False(LightGlm.Interop.MappedWeights.ShouldMap(dir));
            string[] args = ["--to", "zh", "--max-new-tokens", "8", "Open file", "Permission denied"];
            var original = CliProcess.Run(null, ["translate", "--model", dir, .. args]);
            var mapped = CliProcess.Run(null, ["translate", "--model", f32, .. args]);
            Assert.True(mapped.ExitCode == 0, mapped.Stderr);
            Assert.Equal(original.Stdout, mapped.Stdout);
            var half = CliProcess.Run(null, ["translate", "--model", bf16, "--quantize", "int8", .. args]);
            Assert.True(half.ExitCode == 0, half.Stderr);
            Assert.Equal(2, half.Stdout.Split('\n').Length - 1);
            var test = Path.Combine(dir, "test.tsv");
            File.WriteAllText(test, "Cannot open file\t无法打开文件\nPermission denied\t权限不足\n");
            var ev = CliProcess.Run(null, "eval", "--model", bf16, "--test", test, "--max-new-tokens", "8", "--json");
            Assert.True(ev.ExitCode == 0, ev.Stderr);
            Assert.Equal(TranslatorTests.TinyModel().Layout.TotalLength, JsonDocument.Parse(ev.Stdout).RootElement.GetProperty("params").GetInt64());
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void EvalJsonHasTheIssueKeys()
    {
        var dir = TranslatorTests.SaveTinyModel();
        try
        {
            var test = Path.Combine(dir, "test.tsv");
            File.WriteAllText(test, "Cannot open file\t无法打开文件\nPermission denied\t权限不足\n");
            var gl = Path.Combine(dir, "glossary.tsv");
            File.WriteAllText(gl, "file\t文件\n");
            var r = CliProcess.Run(null, "eval", "--model", dir, "--test", test, "--glossary", gl, "--max-new-tokens", "8", "--json");
            Assert.True(r.ExitCode == 0, r.Stderr);
            var j = JsonDocument.Parse(r.Stdout).RootElement;
            foreach (var d in new[] { "en-zh", "zh-en" })
            {
                var x = j.GetProperty(d);
                foreach (var k in new[] { "bleu", "chrf", "ter", "term_accuracy", "translation_accuracy", "sentences", "latency_p50_ms", "latency_p95_ms" })
                    Assert.True(x.TryGetProperty(k, out _), $"{d}.{k} missing");
                Assert.Equal(2, x.GetProperty("sentences").GetInt32());
                var acc = x.GetProperty("translation_accuracy").GetDouble();
                Assert.InRange(acc, 0, 1);
            }
            Assert.True(j.GetProperty("params").GetInt64() > 0);
            Assert.True(j.GetProperty("checkpoint_bytes").GetInt64() > 0);
            Assert.True(j.GetProperty("peak_rss_mb").GetDouble() > 0);
            var bad = Path.Combine(dir, "bad.tsv");
            File.WriteAllText(bad, "only one column\n");
            var e = CliProcess.Run(null, "eval", "--model", dir, "--test", bad);
            Assert.Equal(2, e.ExitCode);
            Assert.Contains("bad.tsv:1", e.Stderr);
        }
        finally { Directory.Delete(dir, true); }
    }
}
