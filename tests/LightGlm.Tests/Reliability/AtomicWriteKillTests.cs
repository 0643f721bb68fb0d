// kill -9 of real `lightglm` processes while they write an artifact: what is left is the old output or the complete
// new one (byte-identical to an uninterrupted run), never a truncated file or a half-written directory.
using System.Diagnostics;
using LightGlm.Model;
using LightGlm.Model.Checkpoints;
using LightGlm.Tests.Evaluation;
using Xunit.Abstractions;

namespace LightGlm.Tests.Reliability;

public sealed class AtomicWriteKillTests(ITestOutputHelper output) : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("lightglm-atomic-kill-").FullName;
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    static int Rounds => int.TryParse(Environment.GetEnvironmentVariable("LIGHTGLM_KILL_ROUNDS"), out int n) ? n : 6;

    static Process Start(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])[Path.Combine(AppContext.BaseDirectory, "LightGlm.Cli.dll"), .. args]) psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        _ = p.StandardOutput.ReadToEndAsync();
        _ = p.StandardError.ReadToEndAsync();
        return p;
    }

    static void RunToEnd(params string[] args)
    {
        var r = CliProcess.Run(null, args);
        Assert.True(r.ExitCode == 0, $"lightglm {string.Join(' ', args)} exited {r.ExitCode}: {r.Stderr}");
    }

    /// <summary>
    /// Starts the command, waits until <paramref name="writing"/> says it has begun writing, then kills it after a
    /// delay that grows with the round (0 … the rest of an uninterrupted run), so the kills sweep the whole write.
    /// Returns whether the process was still running when killed.
    /// </summary>
    static bool KillWhileWriting(string[] args, Func<bool> writing, double restMs, int round, int rounds)
    {
        using var p = Start(args);
        var wait = Stopwatch.StartNew();
        while (!writing() && !p.HasExited && wait.Elapsed < TimeSpan.FromMinutes(2)) Thread.Sleep(1);
        Thread.Sleep((int)(restMs * round / Math.Max(1, rounds - 1)));
        bool killed = !p.HasExited;
        if (killed) p.Kill(entireProcessTree: true); // SIGKILL: no handler, no finally runs
        p.WaitForExit();
        return killed;
    }

    static Dictionary<string, byte[]> Snapshot(string dir) =>
        Directory.GetFiles(dir, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(dir, f), File.ReadAllBytes);

    static void AssertSameFiles(Dictionary<string, byte[]> expected, string dir, string what)
    {
        var got = Snapshot(dir);
        Assert.True(expected.Keys.Order().SequenceEqual(got.Keys.Order()),
            $"{what}: files [{string.Join(", ", got.Keys.Order())}], expected [{string.Join(", ", expected.Keys.Order())}]: a half-written output");
        foreach (var (name, bytes) in expected)
            Assert.True(bytes.AsSpan().SequenceEqual(got[name]), $"{what}: {name} ({got[name].Length} bytes) differs from an uninterrupted run's ({bytes.Length} bytes)");
    }

    [Fact]
    public void AKilledExportLeavesNoCheckpointOrTheCompleteOneAndCanBeRerun() =>
        KilledWholeDirectoryWrites(dst => ["export", "--model", BigModel(), "--format", "hf-llama", "--out", dst], "export");

    /// <summary>import writes its --out the same way (AtomicDirectory.Write): the source is an uninterrupted export.</summary>
    [Fact]
    public void AKilledImportLeavesNoModelOrTheCompleteOneAndCanBeRerun()
    {
        string hf = Path.Combine(_dir, "hf");
        RunToEnd("export", "--model", BigModel(), "--format", "hf-llama", "--out", hf);
        KilledWholeDirectoryWrites(dst => ["import", "--from", hf, "--out", dst], "import");
    }

    /// <summary>~130 MB of fp32 weights, so a write lasts long enough to be interrupted on a busy machine.</summary>
    string BigModel()
    {
        string model = Path.Combine(_dir, "model");
        if (Directory.Exists(model)) return model;
        var c = new ModelConfig { VocabSize = 32000, HiddenSize = 512, NumHiddenLayers = 1, NumAttentionHeads = 8, IntermediateSize = 1024, MaxPositionEmbeddings = 64 };
        ModelDirectory.Save(GlmModel.Create(c, seed: 1), model);
        return model;
    }

    void KilledWholeDirectoryWrites(Func<string, string[]> args, string what)
    {
        string reference = Path.Combine(_dir, "ref"), killed = Path.Combine(_dir, "killed");
        var watch = Stopwatch.StartNew();
        double started = -1;
        using (var p = Start(args(reference)))
        {
            while (!p.HasExited) { if (started < 0 && Written(reference)) started = watch.Elapsed.TotalMilliseconds; Thread.Sleep(1); }
            Assert.True(p.ExitCode == 0, $"{what} exited {p.ExitCode}");
        }
        double full = watch.Elapsed.TotalMilliseconds;
        var expected = Snapshot(reference);
        output.WriteLine($"uninterrupted {what}: {full:F0} ms, writing from {started:F0} ms; {expected.Count} files, {expected.Values.Sum(b => (long)b.Length):N0} bytes");

        int interrupted = 0, complete = 0;
        for (int round = 0; round < Rounds; round++)
        {
            if (KillWhileWriting(args(killed), () => Written(killed), full - Math.Max(0, started), round, Rounds)) interrupted++;
            bool written = Directory.Exists(killed) && Directory.EnumerateFileSystemEntries(killed).Any();
            if (written)
            {
                AssertSameFiles(expected, killed, $"round {round}");
                complete++;
                Directory.Delete(killed, true); // the next round writes it again
            }
            output.WriteLine($"round {round}: {(written ? "complete output" : "no output")}");
        }
        output.WriteLine($"{interrupted} of {Rounds} {what}s killed mid-run, {complete} complete outputs");
        Assert.True(interrupted >= Rounds / 3, $"only {interrupted} kills landed mid-{what}");
        // What a kill left behind (a .partial folder) does not stop the rerun.
        RunToEnd(args(killed));
        AssertSameFiles(expected, killed, "rerun after the kills");
    }

    /// <summary>The export has begun writing: its output folder (or its .partial) has appeared.</summary>
    static bool Written(string dst) => Directory.Exists(dst) || Directory.Exists(dst + ".partial");

    [Fact]
    public void AKilledTokenizerTrainLeavesTheOldTokenizerOrTheNewOne()
    {
        string corpus = Path.Combine(_dir, "corpus");
        Directory.CreateDirectory(corpus);
        var rng = new Random(3);
        string Word() => string.Concat(Enumerable.Range(0, rng.Next(2, 9)).Select(_ => (char)('a' + rng.Next(26))));
        string Han() => string.Concat(Enumerable.Range(0, rng.Next(2, 7)).Select(_ => (char)(0x4E00 + rng.Next(3000))));
        File.WriteAllLines(Path.Combine(corpus, "train.tsv"), Enumerable.Range(0, 300).Select(_ =>
            string.Join(' ', Enumerable.Range(0, 8).Select(_ => Word())) + "\t" + string.Concat(Enumerable.Range(0, 6).Select(_ => Han()))));
        string outPath = Path.Combine(_dir, "tok", "tokenizer.json");
        string[] Args(int vocab) => ["tokenizer", "train", "--corpus", corpus, "--output", outPath, "--vocab-size", vocab.ToString()];

        RunToEnd(Args(600));
        var newer = File.ReadAllBytes(outPath);
        RunToEnd(Args(300)); // the good output each killed run writes over
        var old = File.ReadAllBytes(outPath);
        var watch = Stopwatch.StartNew();
        RunToEnd(Args(600));
        double full = watch.Elapsed.TotalMilliseconds;
        File.WriteAllBytes(outPath, old);
        output.WriteLine($"uninterrupted train: {full:F0} ms; old {old.Length:N0} bytes, new {newer.Length:N0} bytes");

        int interrupted = 0;
        for (int round = 0; round < Rounds; round++)
        {
            // From the start: an in-place writer would have truncated the file as soon as it opened it.
            if (KillWhileWriting(Args(600), () => true, full, round, Rounds)) interrupted++;
            var now = File.ReadAllBytes(outPath);
            bool isOld = now.AsSpan().SequenceEqual(old), isNew = now.AsSpan().SequenceEqual(newer);
            Assert.True(isOld || isNew, $"round {round}: tokenizer.json is {now.Length:N0} bytes, neither the old ({old.Length:N0}) nor the new one ({newer.Length:N0})");
            output.WriteLine($"round {round}: {(isOld ? "old" : "new")} tokenizer");
            File.WriteAllBytes(outPath, old);
        }
        output.WriteLine($"{interrupted} of {Rounds} runs killed mid-run");
        Assert.True(interrupted >= Rounds / 3, $"only {interrupted} kills landed mid-run");
    }
}
