// kill -9 of a real `lightglm train` process at random points, again and again: every restart resumes from the last
// complete checkpoint, no checkpoint is ever corrupt, and the final weights and the loss curve equal an uninterrupted run.
using System.Diagnostics;
using LightGlm.Training;
using Xunit.Abstractions;

namespace LightGlm.Tests.Reliability;

public sealed class TrainingKillTests(ITestOutputHelper output) : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("lightglm-kill-").FullName;
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    static string Cli => Path.Combine(AppContext.BaseDirectory, "LightGlm.Cli.dll");

    string Config(string name, string extra = "")
    {
        File.WriteAllText(Path.Combine(_dir, "text.txt"), string.Concat(Enumerable.Range(0, 500).Select(i => $"line {i % 29}: the quick brown fox {i % 7}. ")));
        var path = Path.Combine(_dir, name + ".json");
        File.WriteAllText(path, $$"""
            {"model": {"model_type": "chatglm", "vocab_size": 0, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
              "num_key_value_heads": 2, "intermediate_size": 64, "max_position_embeddings": 64, "hidden_dropout": 0.1},
             "data": {"train": ["text.txt"]}, "steps": 40, "batch_size": 4, "seq_len": 32, "grad_accum": 2,
             "optimizer": {"lr": 3e-3}, "schedule": {"warmup_steps": 4}, "eval_every": 10,
             "checkpoint_dir": "{{name}}/ck", "checkpoint_every": 3, "keep_checkpoints": 2, "output_dir": "{{name}}/model" {{extra}}}
            """);
        return path;
    }

    static Process Start(string config, params string[] flags)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])[Cli, "train", "--config", config, "--threads", "1", .. flags]) psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }

    static (int Code, string Out, string Err) RunToEnd(string config, params string[] flags)
    {
        using var p = Start(config, flags);
        var err = p.StandardError.ReadToEndAsync();
        string o = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(TimeSpan.FromMinutes(3))) { p.Kill(true); throw new TimeoutException("train did not finish in 3 minutes"); }
        return (p.ExitCode, o, err.Result);
    }

    static SortedDictionary<int, double> Curve(string metrics) =>
        new(MetricsLog.Read(metrics).Where(r => r["loss"] is not null).GroupBy(r => (int)r["step"]!).ToDictionary(g => g.Key, g => (double)g.Last()["loss"]!));

    [Theory]
    [InlineData("")]
    [InlineData("--pipeline-stages 2 --micro-batches 4 --no-predict")]
    public void KilledAtRandomPointsTheRunResumesAndEndsBitIdentical(string flags)
    {
        var f = flags.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        int rounds = int.TryParse(Environment.GetEnvironmentVariable("LIGHTGLM_KILL_ROUNDS"), out int n) ? n : 3;
        var reference = RunToEnd(Config("ref"), f);
        Assert.True(reference.Code == 0, reference.Err);

        var cfg = Config("killed");
        string ck = Path.Combine(_dir, "killed", "ck");
        var rng = new Random(rounds * 31 + flags.Length);
        int kills = 0;
        for (int round = 0; round < rounds; round++)
        {
            using var p = Start(cfg, f);
            _ = p.StandardError.ReadToEndAsync();
            // Kill after a random number of checkpoint lines (1–2) plus a random delay: sometimes mid-step, sometimes mid-save.
            int waitFor = rng.Next(1, 3), seen = 0;
            string? line;
            bool ended = false;
            while ((line = p.StandardOutput.ReadLine()) is not null)
            {
                if (line.StartsWith("checkpoint ", StringComparison.Ordinal) && ++seen >= waitFor) break;
                if (line.StartsWith("trained ", StringComparison.Ordinal)) ended = true;
            }
            if (line is null || ended) { p.WaitForExit(); break; } // finished before we could kill it
            Thread.Sleep(rng.Next(0, 40));
            p.Kill(); // SIGKILL on Linux: no handler runs, no cleanup
            p.WaitForExit();
            kills++;
            // Whatever the kill interrupted, the newest usable checkpoint verifies (checksums) and names its step.
            var latest = TrainingCheckpoint.LatestValid(ck, s => output.WriteLine("round " + round + ": " + s));
            Assert.NotNull(latest);
            output.WriteLine($"round {round}: killed after checkpoint line {seen}; newest intact checkpoint {Path.GetFileName(latest)}");
        }
        var last = RunToEnd(cfg, f);
        Assert.True(last.Code == 0, last.Err);
        Assert.True(kills >= Math.Min(rounds, 2), $"only {kills} kills landed mid-run");
        if (kills > 0) Assert.Contains("resumed from", last.Out);

        byte[] want = File.ReadAllBytes(Path.Combine(_dir, "ref", "model", "model.safetensors"));
        byte[] got = File.ReadAllBytes(Path.Combine(_dir, "killed", "model", "model.safetensors"));
        Assert.True(want.AsSpan().SequenceEqual(got), "final weights differ from the uninterrupted run");
        var a = Curve(Path.Combine(_dir, "ref", "ck", "metrics.jsonl"));
        var b = Curve(Path.Combine(ck, "metrics.jsonl"));
        Assert.Equal(Enumerable.Range(1, 40), b.Keys);
        Assert.Equal(a, b); // the same loss at every step, bit for bit
        output.WriteLine($"{kills} kills ({flags}), final weights and the 40-step loss curve identical to the uninterrupted run");
    }
}
