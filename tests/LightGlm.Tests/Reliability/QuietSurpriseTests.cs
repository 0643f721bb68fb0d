// Quiet surprises and half-written outputs (issue 18, classes 4 and 5), on real processes: an empty text is an error,
// a text longer than the window is translated with a warning, `serve` on a taken port fails before saying "listening",
// `corpus build` with no usable pair fails and leaves the old corpus, and a killed `corpus build` leaves the old
// corpus or the new one — never train/dev/test without stats.json.
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using LightGlm.Tests.Evaluation;
using LightGlm.Tests.Text;
using LightGlm.Tests.Translation;
using Xunit.Abstractions;

namespace LightGlm.Tests.Reliability;

public sealed class QuietSurpriseTests(ITestOutputHelper output) : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("lightglm-quiet-").FullName;
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    static readonly string[] CorpusFiles = ["train.tsv", "dev.tsv", "test.tsv", "glossary.tsv", "stats.json"];

    [Fact]
    public void AnEmptyTextIsAnErrorAndAnOverlongOneIsTranslatedWithAWarning()
    {
        var model = TranslatorTests.SaveTinyModel();
        try
        {
            var empty = CliProcess.Run(null, "translate", "--model", model, "");
            Assert.Equal(2, empty.ExitCode);
            Assert.Contains("TEXT is empty: nothing to translate", empty.Stderr);
            Assert.Equal("", empty.Stdout);
            var blank = CliProcess.Run("\n  \n", "translate", "--model", model);
            Assert.Equal(2, blank.ExitCode);
            Assert.Contains("standard input had no non-blank line", blank.Stderr);

            var f = Path.Combine(_dir, "long.txt");
            File.WriteAllText(f, "Open file\n" + string.Concat(Enumerable.Repeat("Cannot open the file. ", 5000)) + "\n");
            var r = CliProcess.Run(null, "translate", "--model", model, "--to", "zh", "--max-new-tokens", "4", "--file", f);
            Assert.True(r.ExitCode == 0, r.Stderr);
            Assert.Equal(2, r.Stdout.Split('\n').Length - 1);
            Assert.Matches(@"warning: line 2 is \d+ tokens; only the first \d+ fit the model's window", r.Stderr);
            Assert.DoesNotContain("line 1 ", r.Stderr);
        }
        finally { Directory.Delete(model, true); }
    }

    [Fact]
    public void ServeOnAPortInUseFailsBeforeSayingListening()
    {
        var model = TranslatorTests.SaveTinyModel();
        var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        try
        {
            int port = ((IPEndPoint)taken.LocalEndpoint).Port;
            var r = CliProcess.Run(TimeSpan.FromMinutes(1), null, "serve", "--model", model, "--urls", $"http://127.0.0.1:{port}");
            Assert.Equal(2, r.ExitCode);
            Assert.Contains(port.ToString(), r.Stderr);
            Assert.DoesNotContain("listening", r.Stderr);
        }
        finally { taken.Stop(); Directory.Delete(model, true); }
    }

    /// <summary>A locale tree holding the real m4 catalog (and, optionally, unreadable ones).</summary>
    string LocaleTree(string name, bool good, int broken)
    {
        string root = Path.Combine(_dir, name);
        string lc = Path.Combine(root, "zh_CN", "LC_MESSAGES");
        Directory.CreateDirectory(lc);
        if (good) File.Copy(TextTestData.File("real-m4.zh_CN.mo"), Path.Combine(lc, "m4.mo"));
        for (int i = 0; i < broken; i++) File.WriteAllText(Path.Combine(lc, $"broken{i}.mo"), "this is not a catalog");
        return root;
    }

    [Fact]
    public void CorpusBuildWithNoUsablePairFailsAndLeavesTheOldCorpus()
    {
        string outDir = Path.Combine(_dir, "corpus"), cache = Path.Combine(_dir, "cache");
        var ok = CliProcess.Run(null, "corpus", "build", "--from-dir", LocaleTree("good", true, 0), "--output", outDir, "--cache", cache, "--no-mono");
        Assert.True(ok.ExitCode == 0, ok.Stderr);
        var before = CorpusFiles.ToDictionary(f => f, f => File.ReadAllBytes(Path.Combine(outDir, f)));
        Assert.False(Directory.Exists(outDir + ".partial"));

        var bad = CliProcess.Run(null, "corpus", "build", "--from-dir", LocaleTree("bad", false, 3), "--output", outDir, "--cache", cache, "--no-mono");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("no usable translation pairs", bad.Stderr);
        Assert.Contains("3 unreadable", bad.Stderr);
        foreach (var (f, bytes) in before) Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(outDir, f)));

        // --output must not be a directory with other files: it is replaced whole
        string mine = Directory.CreateDirectory(Path.Combine(_dir, "mine")).FullName;
        File.WriteAllText(Path.Combine(mine, "notes.txt"), "mine");
        var foreign = CliProcess.Run(null, "corpus", "build", "--from-dir", LocaleTree("good2", true, 0), "--output", mine, "--cache", cache, "--no-mono");
        Assert.Equal(2, foreign.ExitCode);
        Assert.Contains("holds files that are not a corpus (notes.txt)", foreign.Stderr);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(mine, "notes.txt")));
        var holdsCache = CliProcess.Run(null, "corpus", "build", "--from-dir", LocaleTree("good3", true, 0), "--output", _dir, "--cache", cache, "--no-mono");
        Assert.Equal(2, holdsCache.ExitCode);
        Assert.Contains("holds the package cache", holdsCache.Stderr);
    }

    /// <summary>kill -9 of `corpus build` at random points: the output is absent, or complete and identical to an uninterrupted build.</summary>
    [Fact]
    public void AKilledCorpusBuildLeavesTheOldCorpusOrTheNewOne()
    {
        string tree = LocaleTree("tree", true, 0), cache = Path.Combine(_dir, "cache");
        for (int i = 0; i < 20; i++) // more catalogs: a build that takes long enough to be interrupted
        {
            string lc = Path.Combine(tree, $"zh_CN.v{i}", "LC_MESSAGES");
            Directory.CreateDirectory(lc);
            File.Copy(TextTestData.File("real-m4.zh_CN.mo"), Path.Combine(lc, $"m4x{i}.mo"));
        }
        string reference = Path.Combine(_dir, "ref");
        var watch = Stopwatch.StartNew();
        var r = CliProcess.Run(null, "corpus", "build", "--from-dir", tree, "--output", reference, "--cache", cache, "--no-mono");
        Assert.True(r.ExitCode == 0, r.Stderr);
        long full = watch.ElapsedMilliseconds;
        string killed = Path.Combine(_dir, "killed");
        var rng = new Random(5);
        int rounds = int.TryParse(Environment.GetEnvironmentVariable("LIGHTGLM_KILL_ROUNDS"), out int n) ? n : 6, interrupted = 0;
        for (int round = 0; round < rounds; round++)
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in (string[])[Path.Combine(AppContext.BaseDirectory, "LightGlm.Cli.dll"), "corpus", "build", "--from-dir", tree,
                                         "--output", killed, "--cache", cache, "--no-mono"]) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            _ = p.StandardOutput.ReadToEndAsync();
            _ = p.StandardError.ReadToEndAsync();
            Thread.Sleep(rng.Next(0, (int)Math.Max(200, full)));
            if (!p.HasExited) { p.Kill(); interrupted++; } // SIGKILL: no handler runs
            p.WaitForExit();
            if (!Directory.Exists(killed)) { output.WriteLine($"round {round}: no corpus yet"); continue; }
            foreach (var f in CorpusFiles)
                Assert.True(File.Exists(Path.Combine(killed, f)) && File.ReadAllBytes(Path.Combine(killed, f)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(reference, f))),
                            $"round {round}: {f} is missing or differs from an uninterrupted build: a half-written corpus");
            output.WriteLine($"round {round}: complete corpus");
        }
        output.WriteLine($"{interrupted} of {rounds} builds killed mid-run (an uninterrupted build takes {full} ms)");
        Assert.True(interrupted >= rounds / 3, $"only {interrupted} kills landed mid-build");
    }
}
