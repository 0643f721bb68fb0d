// The bench harness's arithmetic and output shape (no timing is asserted: speed is shown by `lightglm bench`).
using System.Text.Json;
using LightGlm.Cli;
using LightGlm.Evaluation.Bench;
using LightGlm.Model;

namespace LightGlm.Tests.Evaluation.Bench;

public sealed class BenchTests
{
    [Theory, InlineData("tiny"), InlineData("small")]
    public void Matmul_params_are_the_layouts_matrices_except_the_embedding(string name)
    {
        var spec = BenchSpec.Get(name);
        var layout = ParameterLayout.Build(spec.Config);
        long fromLayout = layout.Tensors.Where(t => t.Shape.Length == 2 && t.Name != "model.embed_tokens.weight").Sum(t => (long)t.Length);
        Assert.Equal(fromLayout, BenchSpec.MatmulParams(spec.Config));
        Assert.Contains(layout.Tensors, t => t.Name == "lm_head.weight"); // untied, as issue 2 asks
    }

    [Fact]
    public void Train_flops_follow_6N_plus_attention()
    {
        var spec = BenchSpec.Get("tiny"); // N = 4·(128·128 + 2·128·64 + 128·128 + 3·128·344) + 4096·128
        long n = 4L * (128 * 128 + 2 * 128 * 64 + 128 * 128 + 3 * 128 * 344) + 4096L * 128;
        Assert.Equal(n, BenchSpec.MatmulParams(spec.Config));
        Assert.Equal(16.0 * 64 * (6.0 * n + 12.0 * 4 * 4 * 32 * 64), spec.TrainFlopsPerStep());
        var small = BenchSpec.Get("small");
        Assert.Equal((8, 128, 64, 64), (small.Batch, small.Seq, small.PromptLength, small.GenLength));
    }

    [Fact]
    public void Json_has_exactly_the_issue_keys_with_nulls_for_what_was_not_measured()
    {
        var ours = new SideResult { TrainMsPerStep = 100, TrainTokensPerS = 10240, PeakRssMb = 150 };
        var report = new BenchReport(BenchSpec.Get("tiny"), 50, ours, ours with { TrainMsPerStep = 200 });
        using var doc = JsonDocument.Parse(report.ToJson());
        var root = doc.RootElement;
        Assert.Equal(["sgemm_peak_gflops", "lightglm", "pytorch"], root.EnumerateObject().Select(p => p.Name));
        string[] keys = ["train_tokens_per_s", "train_ms_per_step", "decode_ms_per_token", "prefill_ms", "peak_rss_mb"];
        foreach (var side in new[] { "lightglm", "pytorch" })
            Assert.Equal(keys, root.GetProperty(side).EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonValueKind.Null, root.GetProperty("lightglm").GetProperty("decode_ms_per_token").ValueKind);
        Assert.Equal(200, root.GetProperty("pytorch").GetProperty("train_ms_per_step").GetDouble());
        // GFLOP/s = FLOPs/step / seconds/step; % of peak against the measured sgemm peak.
        Assert.Equal(report.Spec.TrainFlopsPerStep() / 0.1 / 1e9, report.Gflops(ours)!.Value, 6);
        Assert.Equal(100 * report.Gflops(ours)!.Value / 50, report.PercentOfPeak(ours)!.Value, 6);
    }

    [Fact]
    public void Without_pytorch_the_json_says_null()
    {
        var report = new BenchReport(BenchSpec.Get("tiny"), 50, new SideResult(), null);
        using var doc = JsonDocument.Parse(report.ToJson());
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("pytorch").ValueKind);
    }

    [Fact]
    public void Peak_memory_is_read_from_proc()
    {
        if (!File.Exists("/proc/self/status")) return;
        double mb = PeakMemory.ProcessPeakMb();
        Assert.InRange(mb, 10, 1 << 20);
    }

    [Fact]
    public void Bad_options_are_user_errors_naming_the_value()
    {
        var e = Assert.Throws<CliException>(() => CliHost.BuildRoot().Parse(["bench", "train", "--config", "huge", "--steps", "0"])
            .Invoke(new System.CommandLine.InvocationConfiguration { EnableDefaultExceptionHandler = false }));
        Assert.Contains("'huge'", e.Message);
        Assert.Contains("tiny, small", e.Message);
        Assert.Contains("--steps must be >= 1, got 0", e.Message);
        Assert.Throws<ArgumentException>(() => BenchSpec.Get("medium"));
    }
}
