// The memory estimate: its activation formula is the cache's own (checked for every range/shape), `train --dry-run`
// prints it, `train` refuses a run that does not fit, and the estimate matches the measured peak of a real run.
using LightGlm.Model;
using LightGlm.Tests.Evaluation;
using LightGlm.Tests.Model;
using LightGlm.Training;
using Xunit.Abstractions;

namespace LightGlm.Tests.Training;

public sealed class MemoryEstimateTests(ITestOutputHelper output) : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("lightglm-mem-").FullName;
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void CacheFormulaEqualsTheCache(bool dropout)
    {
        foreach (var c in new[] { TinyModels.Glm(), TinyModels.Llama(vocab: 31) })
        {
            c.NumHiddenLayers = 3;
            foreach (var (b, t) in new[] { (1, 1), (2, 5), (3, 8) })
                foreach (var r in new LayerRange[] { LayerRange.Full(c), new(0, 1, true, false), new(1, 2, false, false), new(2, 3, false, true), new(1, 3, false, true) })
                    Assert.Equal(new ActivationCache(c, b, t, r, dropout).ArenaFloats, MemoryEstimator.CacheFloats(c, b, t, r, dropout));
        }
    }

    [Fact]
    public void OneF1BHoldsFewerActivationsThanGPipe()
    {
        var c = TinyModels.Glm();
        c.NumHiddenLayers = 4;
        var o = new TrainerOptions { BatchSize = 8, SeqLen = 16 };
        long Act(bool gpipe) => MemoryEstimator.Estimate(c, o, new PipelineShape(2, 8, 1, gpipe, [0, 2, 4]), false, 0).Items.Single(i => i.What.StartsWith("activations")).Bytes;
        Assert.True(Act(gpipe: true) > 3 * Act(gpipe: false)); // M = 8 in flight vs at most 2
    }

    string WriteConfig(int hidden, int layers, int steps, string extra = "")
    {
        File.WriteAllText(Path.Combine(_dir, "text.txt"), string.Concat(Enumerable.Range(0, 400).Select(i => $"sentence {i % 23} of the test text. ")));
        var path = Path.Combine(_dir, "run.json");
        File.WriteAllText(path, $$"""
            {"model": {"model_type": "chatglm", "vocab_size": 0, "hidden_size": {{hidden}}, "num_hidden_layers": {{layers}}, "num_attention_heads": 8,
              "num_key_value_heads": 2, "intermediate_size": {{hidden * 8 / 3}}, "max_position_embeddings": 64},
             "data": {"train": ["text.txt"], "valid_fraction": 0}, "steps": {{steps}}, "batch_size": 4, "seq_len": 64,
             "checkpoint_dir": "ck", "checkpoint_every": 0, "schedule": {"warmup_steps": 1} {{extra}}}
            """);
        return path;
    }

    [Fact]
    public void DryRunPrintsTheEstimateAndTrainsNothing()
    {
        var cfg = WriteConfig(64, 2, 5);
        var r = CliProcess.Run(null, "train", "--config", cfg, "--dry-run", "--pipeline-stages", "2", "--micro-batches", "2", "--schedule", "gpipe");
        Assert.True(r.ExitCode == 0, r.Stderr);
        foreach (var part in new[] { "weights", "gradients", "AdamW moments", "activations (pipeline)", "GPipe: M", "total", "dry run: estimate", "fits" })
            Assert.Contains(part, r.Stdout);
        Assert.False(Directory.Exists(Path.Combine(_dir, "ck")));
    }

    [Fact]
    public void TrainRefusesARunThatDoesNotFit()
    {
        var cfg = WriteConfig(512, 4, 5);
        var r = CliProcess.Run(null, "train", "--config", cfg, "--memory-limit-mb", "150");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("not enough memory", r.Stderr);
        Assert.Contains("150.0 MB", r.Stderr);
        Assert.Contains("batch_size", r.Stderr);
        Assert.Contains("--pipeline-stages", r.Stderr);
        Assert.False(Directory.Exists(Path.Combine(_dir, "ck"))); // refused before anything was written
    }

    /// <summary>Bound (docs/PARALLEL.md): the peak RSS above the RSS before the model is within 10% + 32 MB of the
    /// estimate, and the whole peak stays under the estimate with its runtime allowance.</summary>
    [Theory]
    [InlineData("")]
    [InlineData("--pipeline-stages 2 --micro-batches 2 --no-predict")]
    public void EstimateMatchesTheMeasuredPeak(string flags)
    {
        var cfg = WriteConfig(512, 4, 1); // 11.3M parameters: 182 MB of weights, gradients and moments
        var r = CliProcess.Run(null, ["train", "--config", cfg, .. flags.Split(' ', StringSplitOptions.RemoveEmptyEntries)]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var end = MetricsLog.Read(Path.Combine(_dir, "ck", "metrics.jsonl")).Last(x => (string?)x["event"] == "end");
        long est = (long)end["memory_estimate_bytes"]!, peak = (long)end["peak_rss_bytes"]!, before = (long)end["rss_before_model_bytes"]!;
        double mb = 1 << 20;
        output.WriteLine($"{flags}: estimate {est / mb:F1} MB, measured peak {peak / mb:F1} MB, {(peak - before) / mb:F1} MB above {before / mb:F1} MB before the model");
        Assert.True(Math.Abs(peak - before - est) <= 0.10 * est + 32 * mb, $"estimate {est / mb:F1} MB vs measured {(peak - before) / mb:F1} MB");
        Assert.True(peak <= est + MemoryEstimator.RuntimeAllowance, $"peak {peak / mb:F1} MB above the estimate with allowance");
    }

    /// <summary>The fine-tune estimate of ChatGLM2-6B from its config alone: the full fine-tune holds weights, gradients,
    /// moments and the NaN guard's copy of all 6.24B parameters; LoRA only the base (frozen) and 14.8M adapter parameters
    /// with their gradients and moments. Only a LoRA over the base kept in bf16 fits one 24 GiB card.</summary>
    [Fact]
    public void LoraFineTuneEstimateOfChatGlm2_6BNeedsNoArena()
    {
        var c = LightGlm.Interop.SyntheticCheckpoint.Shape("chatglm2-6b").Config;
        var lora = LightGlm.Model.Lora.LoraOptions.Create(8);
        // 28 layers · r · (in + out) of q|k|v (4096 + 4608), o (4096 + 4096), gate|up (4096 + 27392), down (13696 + 4096)
        Assert.Equal(28L * 8 * (4096 + 4608 + 4096 + 4096 + 4096 + 27392 + 13696 + 4096), lora.ParameterCount(c));
        Assert.Equal(28L * 8 * (4096 + 4608 + 4096 + 4096), LightGlm.Model.Lora.LoraOptions.Create(8, targets: ["attention"]).ParameterCount(c));
        var o = new TrainerOptions { BatchSize = 1, SeqLen = 512 };
        var full = MemoryEstimator.FineTune(c, o, null);
        var fp32 = MemoryEstimator.FineTune(c, o, lora);
        var bf16 = MemoryEstimator.FineTune(c, o, lora, baseBytes: 2);
        long P = 6_243_584_000, p = lora.ParameterCount(c);
        long Item(MemoryEstimate e, string what) => e.Items.Single(i => i.What == what).Bytes;
        Assert.Equal(4 * P, Item(full, "base weights"));
        Assert.Equal(4 * P, Item(full, "gradients"));
        Assert.Equal(8 * P, Item(full, "AdamW moments m, v"));
        Assert.Equal(12 * P, Item(full, "NaN-guard snapshot"));
        Assert.Equal(4 * P, Item(fp32, "base weights"));
        Assert.Equal(2 * P, Item(bf16, "base weights"));
        Assert.Equal(4 * p, Item(fp32, "adapter weights"));
        Assert.Equal(4 * p, Item(fp32, "gradients"));
        Assert.Equal(8 * p, Item(fp32, "AdamW moments m, v"));
        Assert.Equal(Item(full, "activations") + 8L * 512 * 8, Item(fp32, "activations")); // + the (N, r) adapter scratch
        Assert.DoesNotContain(full.Items, i => i.What == "adapter weights");
        long card = 24L << 30;
        Assert.True(full.TotalBytes > 6 * card && fp32.TotalBytes > card && bf16.TotalBytes < card,
            $"full {MemoryEstimate.Size(full.TotalBytes)}, LoRA fp32 base {MemoryEstimate.Size(fp32.TotalBytes)}, LoRA bf16 base {MemoryEstimate.Size(bf16.TotalBytes)}");
        output.WriteLine(MemoryEstimate.SideBySide([("full", full), ("LoRA r=8", fp32), ("LoRA r=8, bf16 base", bf16)]));
    }
}
