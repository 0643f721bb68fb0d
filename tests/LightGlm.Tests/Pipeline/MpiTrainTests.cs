// `lightglm train --transport mpi` under real mpirun: the loss curve equals one-process training, checkpoints are
// written once (rank 0) from every stage's range and verify, the job resumes from them, and a rank killed with
// SIGKILL ends the job within seconds, after which the run resumes from its last checkpoint.
using System.Diagnostics;
using LightGlm.Training;

namespace LightGlm.Tests.Pipeline;

public sealed class MpiTrainTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("lightglm-mpitrain-").FullName;
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    string Config(string name, int steps)
    {
        File.WriteAllText(Path.Combine(_dir, "text.txt"), string.Concat(Enumerable.Range(0, 500).Select(i => $"row {i % 31}: pipelines over ranks {i % 5}. ")));
        var path = Path.Combine(_dir, name + ".json");
        File.WriteAllText(path, $$"""
            {"model": {"model_type": "chatglm", "vocab_size": 0, "hidden_size": 32, "num_hidden_layers": 4, "num_attention_heads": 4,
              "num_key_value_heads": 2, "intermediate_size": 64, "max_position_embeddings": 64, "prefix_lm": true},
             "data": {"train": ["text.txt"]}, "steps": {{steps}}, "batch_size": 4, "seq_len": 16, "grad_accum": 2,
             "optimizer": {"lr": 3e-3}, "schedule": {"warmup_steps": 2}, "eval_every": 4,
             "checkpoint_dir": "{{name}}/ck", "checkpoint_every": 4, "output_dir": "{{name}}/model"}
            """);
        return path;
    }

    static SortedDictionary<int, double> Curve(string metrics) =>
        new(MetricsLog.Read(metrics).Where(r => r["loss"] is not null).GroupBy(r => (int)r["step"]!).ToDictionary(g => g.Key, g => (double)g.Last()["loss"]!));

    static void AssertClose(SortedDictionary<int, double> want, SortedDictionary<int, double> got)
    {
        Assert.Equal(want.Keys, got.Keys);
        foreach (var (step, loss) in want)
            Assert.True(Math.Abs(loss - got[step]) <= 1e-6 * Math.Abs(loss), $"step {step}: loss {loss} (one process) vs {got[step]} (MPI)");
    }

    const string Flags = "--transport mpi --pipeline-stages 2 --micro-batches 4 --no-predict";

    /// <summary>A 2-rank training job of <paramref name="cfg"/> (ranks tagged for RankPid), read until its third checkpoint
    /// (steps 0, 4, 8) is saved; <paramref name="err"/> collects its stderr.</summary>
    static Process StartUntilThirdCheckpoint(string cfg, string extra, string tag, out Task<string> err)
    {
        var job = MpiRun.Start(2, $"train --config {cfg} {Flags}{extra}", new Dictionary<string, string> { ["LIGHTGLM_TEST_TAG"] = tag });
        err = job.StandardError.ReadToEndAsync();
        string? line;
        int checkpoints = 0;
        while ((line = job.StandardOutput.ReadLine()) is not null)
            if (line.StartsWith("checkpoint ", StringComparison.Ordinal) && ++checkpoints == 3) break;
        Assert.NotNull(line);
        return job;
    }

    [MpiFact]
    public void MpiTrainingEqualsOneProcessAndResumes()
    {
        var single = MpiRun.Run(0, $"train --config {Config("single", 8)} --threads 1", TimeSpan.FromMinutes(3));
        Assert.True(single.ExitCode == 0, single.Stderr);
        var mpi = MpiRun.Run(2, $"train --config {Config("mpi", 8)} {Flags}", TimeSpan.FromMinutes(3));
        Assert.True(mpi.ExitCode == 0, mpi.Stdout + mpi.Stderr);
        Assert.Contains("over MPI rank 0 of 2", mpi.Stdout);
        Assert.DoesNotContain("rank 1 of 2", mpi.Stdout); // rank 1 is quiet: rank 0 reports for the job
        AssertClose(Curve(Path.Combine(_dir, "single/ck/metrics.jsonl")), Curve(Path.Combine(_dir, "mpi/ck/metrics.jsonl")));
        var ck = TrainingCheckpoint.LatestValid(Path.Combine(_dir, "mpi/ck"));
        Assert.EndsWith("step-000008", ck);
        // The checkpoint holds both stages' ranges: its weights match the one-process run's.
        var a = LightGlm.Model.Checkpoints.ModelDirectory.Load(Path.Combine(_dir, "single/model")).Weights;
        var b = LightGlm.Model.Checkpoints.ModelDirectory.Load(ck!).Weights;
        Assert.True(LightGlm.Pipeline.PipelineCheck.MaxRelDiff(a, b, 0, a.Length) < 1e-4);

        // Longer runs resume from step 8 and keep agreeing.
        Assert.Equal(0, MpiRun.Run(0, $"train --config {Config("single", 12)} --threads 1", TimeSpan.FromMinutes(3)).ExitCode);
        var resumed = MpiRun.Run(2, $"train --config {Config("mpi", 12)} {Flags}", TimeSpan.FromMinutes(3));
        Assert.True(resumed.ExitCode == 0, resumed.Stdout + resumed.Stderr);
        Assert.Contains("at step 8", resumed.Stdout);
        AssertClose(Curve(Path.Combine(_dir, "single/ck/metrics.jsonl")), Curve(Path.Combine(_dir, "mpi/ck/metrics.jsonl")));
    }

    [MpiFact]
    public void ARankKilledWithSigkillEndsTheJobAndTheRunResumes()
    {
        string tag = Guid.NewGuid().ToString("N");
        var cfg = Config("killed", 400);
        using var job = StartUntilThirdCheckpoint(cfg, "", tag, out var err);
        int rank1 = RankPid(tag, 1);
        Process.GetProcessById(rank1).Kill(); // SIGKILL: the rank dies without a word
        var watch = Stopwatch.StartNew();
        _ = job.StandardOutput.ReadToEndAsync();
        bool ended = job.WaitForExit(TimeSpan.FromSeconds(60));
        if (!ended) job.Kill(entireProcessTree: true);
        Assert.True(ended, "the job did not end within 60 s of a rank dying: a hang");
        Assert.NotEqual(0, job.ExitCode);
        Assert.Matches("(exited|non-zero status|terminated|killed|signal)", err.Result);
        var latest = TrainingCheckpoint.LatestValid(Path.Combine(_dir, "killed/ck"));
        Assert.NotNull(latest);

        File.WriteAllText(cfg, File.ReadAllText(cfg).Replace("\"steps\": 400", "\"steps\": 12"));
        var resumed = MpiRun.Run(2, $"train --config {cfg} {Flags}", TimeSpan.FromMinutes(3));
        Assert.True(resumed.ExitCode == 0, resumed.Stdout + resumed.Stderr);
        Assert.Contains("resumed from", resumed.Stdout);
        Assert.Contains("trained 12 steps", resumed.Stdout);
        _ = watch;
    }

    /// <summary>
    /// A rank that hangs without dying (SIGSTOP: mpirun sees nothing wrong) is caught by the other rank's receive/collective
    /// deadline (--mpi-timeout-seconds): it names the wait, aborts the job, mpirun ends every rank — the stopped one too — and
    /// the run resumes from its last checkpoint.
    /// </summary>
    /// <summary>Seconds; short for the test, long enough that a loaded 2-core machine never trips it on a healthy rank.</summary>
    const int HangTimeout = 10;

    [MpiFact]
    public void AHungRankEndsTheJobWithinTheTimeoutAndTheRunResumes()
    {
        string tag = Guid.NewGuid().ToString("N");
        var cfg = Config("hung", 400);
        using var job = StartUntilThirdCheckpoint(cfg, $" --mpi-timeout-seconds {HangTimeout}", tag, out var err);
        int rank1 = RankPid(tag, 1);
        Signal(rank1, "STOP"); // alive, holding its sockets, answering nothing
        var watch = Stopwatch.StartNew();
        _ = job.StandardOutput.ReadToEndAsync();
        bool ended = job.WaitForExit(TimeSpan.FromSeconds(60));
        var elapsed = watch.Elapsed;
        // mpirun ends once it has sent the kill; the stopped rank is reaped a moment later (later still on a loaded machine):
        // wait for it with a deadline instead of sampling the instant the job ends
        bool rankGone = Eventually.Holds(() => !ProcessAlive(rank1), TimeSpan.FromSeconds(20));
        if (!ended) job.Kill(entireProcessTree: true);
        if (!rankGone) Signal(rank1, "KILL");
        Assert.True(ended, $"the job did not end within 60 s of a rank hanging (timeout {HangTimeout} s)");
        Assert.NotEqual(0, job.ExitCode);
        Assert.True(rankGone, "the stopped rank outlived the job");
        Assert.Contains("rank 0 of 2 failed: MpiTimeoutException", err.Result);
        Assert.Contains("hung", err.Result);
        Assert.True(elapsed < TimeSpan.FromSeconds(HangTimeout + 30), $"the job took {elapsed.TotalSeconds:F0} s to end after the hang (timeout {HangTimeout} s)");
        Assert.NotNull(TrainingCheckpoint.LatestValid(Path.Combine(_dir, "hung/ck")));
        output.WriteLine($"rank 1 stopped after checkpoint line 3; job ended {elapsed.TotalSeconds:F1} s later (timeout {HangTimeout} s), exit {job.ExitCode}:\n" +
                         string.Join('\n', err.Result.Split('\n').Where(l => l.StartsWith("lightglm:", StringComparison.Ordinal))));

        File.WriteAllText(cfg, File.ReadAllText(cfg).Replace("\"steps\": 400", "\"steps\": 12"));
        var resumed = MpiRun.Run(2, $"train --config {cfg} {Flags}", TimeSpan.FromMinutes(3));
        Assert.True(resumed.ExitCode == 0, resumed.Stdout + resumed.Stderr);
        Assert.Contains("resumed from", resumed.Stdout);
        Assert.Contains("trained 12 steps", resumed.Stdout);
    }

    static void Signal(int pid, string signal)
    {
        using var p = Process.Start(new ProcessStartInfo("kill", $"-{signal} {pid}") { UseShellExecute = false })!;
        p.WaitForExit();
    }

    /// <summary>True while the process exists and is not a zombie.</summary>
    static bool ProcessAlive(int pid)
    {
        try { return !File.ReadAllText($"/proc/{pid}/stat").Split(") ")[1].StartsWith('Z'); }
        catch (IOException) { return false; }
    }

    /// <summary>The pid of the rank started with LIGHTGLM_TEST_TAG = tag and OMPI_COMM_WORLD_RANK = rank.</summary>
    static int RankPid(string tag, int rank)
    {
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
            string env;
            try { env = File.ReadAllText(Path.Combine(dir, "environ")); } catch (Exception) { continue; }
            var vars = env.Split('\0');
            if (vars.Contains($"LIGHTGLM_TEST_TAG={tag}") && vars.Contains($"OMPI_COMM_WORLD_RANK={rank}")) return pid;
        }
        throw new InvalidOperationException($"no process of rank {rank} with tag {tag}");
    }
}
