// kill -9 of every command that writes a model directory over an existing --out (prune, prune --stream, distill,
// finetune, vocab-prune, train): what is left is the old model or the new one, whole, with the other files kept there (a
// note, train's checkpoints) intact, and a rerun finishes the job. Half the rounds kill at the first change of a model
// file in --out (where a per-file writer leaves new weights beside an old config), the others at delays sweeping the write.
using System.Diagnostics;
using LightGlm.Model;
using LightGlm.Model.Checkpoints;
using LightGlm.Text.Tokenizers;
using LightGlm.Tests.Evaluation;
using LightGlm.Training;
using Xunit.Abstractions;

namespace LightGlm.Tests.Reliability;

public sealed class ModelDirectoryKillTests(ITestOutputHelper output) : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("lightglm-modeldir-kill-").FullName;
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    static int Rounds => int.TryParse(Environment.GetEnvironmentVariable("LIGHTGLM_KILL_ROUNDS"), out int n) ? Math.Max(2, n) : 4;
    const string Note = "notes.txt", Checkpoints = "ck";
    static readonly Dictionary<string, string> OneThread = new() { ["OPENBLAS_NUM_THREADS"] = "1", ["OMP_NUM_THREADS"] = "1" };

    string P(params string[] parts) => Path.Combine([_dir, .. parts]);

    /// <summary>base/: a 2-layer GLM (≈ 8 M parameters, so its write takes a while) with a BPE tokenizer; old/: another model, what --out holds before.</summary>
    void Fixture()
    {
        var rng = new Random(5);
        string[] words = ["file", "directory", "permission", "denied", "cannot", "open", "create", "remove", "disk", "full", "error", "warning"];
        string[] zh = ["文件", "目录", "权限", "拒绝", "无法", "打开", "创建", "删除", "磁盘", "已满", "错误", "警告"];
        var pairs = Enumerable.Range(0, 200).Select(i =>
        {
            var idx = Enumerable.Range(0, 2 + rng.Next(3)).Select(_ => rng.Next(words.Length)).ToArray();
            return (En: string.Join(' ', idx.Select(j => words[j])) + $" {i}", Zh: string.Concat(idx.Select(j => zh[j])) + $" {i}");
        }).ToList();
        File.WriteAllLines(P("pairs.tsv"), pairs.Select(p => $"{p.En}\t{p.Zh}"));
        File.WriteAllLines(P("text.txt"), pairs.Select(p => p.En));
        Directory.CreateDirectory(P("tok"));
        using (var fs = File.Create(P("tok", "tokenizer.json")))
            BpeTrainer.Train(pairs.SelectMany(p => new[] { p.En, p.Zh }), new BpeTrainerOptions { VocabSize = 320 }, fs);
        var tok = HfTokenizer.Create(P("tok", "tokenizer.json"));
        var sp = SpecialTokens.From(tok);
        ModelConfig Config(int c, int l, int f) => new()
        {
            ModelType = "chatglm", VocabSize = tok.VocabSize, HiddenSize = c, NumHiddenLayers = l, NumAttentionHeads = 8, NumKeyValueHeads = 2,
            IntermediateSize = f, PartialRotaryFactor = 0.5, RopeInterleaved = true, AttentionBias = true, PrefixLm = true,
            MaxPositionEmbeddings = 64, BosTokenId = sp.Bos, EosTokenId = sp.Eos, PadTokenId = sp.Pad,
        };
        ModelDirectory.Save(GlmModel.Create(Config(512, 2, 2048), seed: 1), P("base"), P("tok", "tokenizer.json"));
        ModelDirectory.Save(GlmModel.Create(Config(64, 1, 128), seed: 2), P("old"), P("tok", "tokenizer.json"));
    }

    string TrainConfig(string outDir)
    {
        string path = P($"train-{Path.GetFileName(outDir)}.json");
        File.WriteAllText(path, $$"""
            {"model": {"model_type": "chatglm", "vocab_size": 0, "hidden_size": 256, "num_hidden_layers": 2, "num_attention_heads": 4,
              "num_key_value_heads": 2, "intermediate_size": 1024, "max_position_embeddings": 64},
             "data": {"train": ["{{P("text.txt")}}"], "tokenizer": "{{P("tok", "tokenizer.json")}}"}, "steps": 4, "batch_size": 2, "seq_len": 16, "optimizer": {"lr": 1e-3},
             "checkpoint_dir": "{{Path.Combine(outDir, Checkpoints)}}", "checkpoint_every": 2, "output_dir": "{{outDir}}"}
            """);
        return path;
    }

    string[] Args(string command, string outDir) => command switch
    {
        "prune" => ["prune", "--teacher", P("base"), "--out", outDir, "--baseline", "top-layer-drop", "--layers", "1"],
        "prune-stream" => ["prune", "--teacher", P("base"), "--out", outDir, "--baseline", "top-layer-drop", "--layers", "1", "--stream"],
        "distill" => ["distill", "--teacher", P("base"), "--student", P("base"), "--out", outDir, "--source", P("text.txt"), "--steps", "1", "--batch", "2", "--max-len", "16"],
        "finetune" => ["finetune", "--model", P("base"), "--data", P("pairs.tsv"), "--out", outDir, "--steps", "1", "--batch", "2", "--seq-len", "32", "--threads", "1"],
        "vocab-prune" => ["vocab-prune", "--model", P("base"), "--corpus", P("pairs.tsv"), "--out", outDir],
        "train" => ["train", "--config", TrainConfig(outDir), "--threads", "1"],
        _ => throw new ArgumentException(command),
    };

    /// <summary>Every file under <paramref name="dir"/> but train's checkpoints (they differ in timings from run to run).</summary>
    static Dictionary<string, byte[]> Snapshot(string dir) => !Directory.Exists(dir) ? [] :
        Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(dir, f))
            .Where(f => !f.StartsWith(Checkpoints + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            .ToDictionary(f => f, f => File.ReadAllBytes(Path.Combine(dir, f)));

    static bool Same(Dictionary<string, byte[]> a, Dictionary<string, byte[]> b) =>
        a.Keys.Order().SequenceEqual(b.Keys.Order()) && a.All(kv => kv.Value.AsSpan().SequenceEqual(b[kv.Key]));

    /// <summary>What a reader of --out sees: which files there are and whether each is the old one's or the new one's.</summary>
    static string Describe(Dictionary<string, byte[]> got, Dictionary<string, byte[]> old, Dictionary<string, byte[]> @new) =>
        string.Join(", ", got.Keys.Order().Select(k => k + (old.TryGetValue(k, out var o) && o.AsSpan().SequenceEqual(got[k]) ? " (old)"
            : @new.TryGetValue(k, out var n) && n.AsSpan().SequenceEqual(got[k]) ? " (new)" : $" ({got[k].Length:N0} bytes, neither)")));

    /// <summary>The top-level files of --out with size and time: changes when a model file is replaced in place or the folder is swapped.</summary>
    static string Fingerprint(string dir)
    {
        try
        {
            return !Directory.Exists(dir) ? "absent" : string.Join("|", new DirectoryInfo(dir).EnumerateFiles().Where(f => !f.Name.StartsWith('.'))
                .OrderBy(f => f.Name, StringComparer.Ordinal).Select(f => $"{f.Name}:{f.Length}:{f.LastWriteTimeUtc.Ticks}"));
        }
        catch (IOException) { return "changing"; }
    }

    /// <summary>The writer has begun: a temp file in --out, a folder beside it, or a changed file.</summary>
    static bool Writing(string dir, string before) =>
        Directory.Exists(dir + ".partial") || Fingerprint(dir) != before ||
        (Directory.Exists(dir) && Directory.EnumerateFiles(dir, ".*.tmp-*").Any());

    void Reset(string outDir)
    {
        foreach (var d in new[] { outDir, outDir + ".partial", outDir + ".old" }) if (Directory.Exists(d)) Directory.Delete(d, true);
        if (File.Exists(outDir + ".partial.carry")) File.Delete(outDir + ".partial.carry");
        Directory.CreateDirectory(outDir);
        foreach (var f in Directory.GetFiles(P("old"))) File.Copy(f, Path.Combine(outDir, Path.GetFileName(f)));
        File.WriteAllText(Path.Combine(outDir, Note), "a file the user keeps beside the model\n");
    }

    static Process Start(string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (k, v) in OneThread) psi.Environment[k] = v;
        foreach (var a in (string[])[Path.Combine(AppContext.BaseDirectory, "LightGlm.Cli.dll"), .. args]) psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        _ = p.StandardOutput.ReadToEndAsync();
        _ = p.StandardError.ReadToEndAsync();
        return p;
    }

    static CliProcess.Result RunToEnd(string[] args)
    {
        var r = CliProcess.Run(TimeSpan.FromMinutes(5), null, null, OneThread, args);
        Assert.True(r.ExitCode == 0, $"lightglm {string.Join(' ', args)} exited {r.ExitCode}: {r.Stderr}");
        return r;
    }

    [Theory]
    [InlineData("prune")]
    [InlineData("prune-stream")]
    [InlineData("distill")]
    [InlineData("finetune")]
    [InlineData("vocab-prune")]
    [InlineData("train")]
    public void AKilledCommandLeavesTheOldModelOrTheNewOneWithTheOtherFilesKept(string command)
    {
        Fixture();
        // The new model: an uninterrupted run over the same old contents.
        string reference = P("ref");
        Reset(reference);
        var watch = Stopwatch.StartNew();
        double started = -1;
        using (var p = Start(Args(command, reference)))
        {
            string initial = Fingerprint(reference);
            while (!p.HasExited) { if (started < 0 && Writing(reference, initial)) started = watch.Elapsed.TotalMilliseconds; Thread.Sleep(1); }
            Assert.True(p.ExitCode == 0, $"lightglm {string.Join(' ', Args(command, reference))} exited {p.ExitCode}");
        }
        double full = watch.Elapsed.TotalMilliseconds, writeMs = full - Math.Max(0, started);
        var expectedNew = Snapshot(reference);
        string outDir = P("out");
        Reset(outDir);
        var expectedOld = Snapshot(outDir);
        Assert.False(Same(expectedOld, expectedNew));
        Assert.Equal(expectedOld[Note], expectedNew[Note]); // the note is kept by an uninterrupted run
        output.WriteLine($"{command}: uninterrupted run {full:F0} ms, writing the last {writeMs:F0} ms; new files [{Describe(expectedNew, expectedOld, expectedNew)}]");

        int olds = 0, news = 0, interrupted = 0;
        for (int round = 0; round < Rounds; round++)
        {
            Reset(outDir);
            string before = Fingerprint(outDir);
            bool atFirstChange = round % 2 == 0;
            using (var p = Start(Args(command, outDir)))
            {
                var wait = Stopwatch.StartNew();
                if (atFirstChange)
                    while (Fingerprint(outDir) == before && !p.HasExited && wait.Elapsed < TimeSpan.FromMinutes(3)) Thread.Yield();
                else
                {
                    while (!Writing(outDir, before) && !p.HasExited && wait.Elapsed < TimeSpan.FromMinutes(3)) Thread.Sleep(1);
                    Thread.Sleep((int)(writeMs * (round / 2 + 0.5) / (Rounds / 2))); // spread over the write
                }
                if (!p.HasExited) { p.Kill(); interrupted++; } // SIGKILL at once (no walk of the process tree first): no handler, no finally runs
                p.WaitForExit();
            }
            var got = Snapshot(outDir);
            bool isOld = Same(got, expectedOld), isNew = Same(got, expectedNew);
            output.WriteLine($"round {round} ({(atFirstChange ? "at the first change" : "swept delay")}): {(isOld ? "old model" : isNew ? "new model" : "MIXED")} [{Describe(got, expectedOld, expectedNew)}]");
            Assert.True(isOld || isNew, $"{command}, round {round}: --out holds neither the old model nor the new one: [{Describe(got, expectedOld, expectedNew)}]");
            if (isOld) olds++; else news++;
        }
        Assert.True(interrupted >= Rounds / 2, $"only {interrupted} of {Rounds} kills landed before the command ended");

        // A rerun after the last kill finishes the job and leaves nothing beside --out; train resumes from its checkpoints.
        var rerun = RunToEnd(Args(command, outDir));
        Assert.True(Same(Snapshot(outDir), expectedNew), $"rerun: [{Describe(Snapshot(outDir), expectedOld, expectedNew)}]");
        Assert.Equal(["out"], Directory.GetFileSystemEntries(_dir, "out*").Select(Path.GetFileName));
        if (command == "train")
        {
            Assert.NotNull(TrainingCheckpoint.LatestValid(Path.Combine(outDir, Checkpoints)));
            Assert.Contains("resumed from", rerun.Stdout);
        }
        output.WriteLine($"{command}: {interrupted} of {Rounds} runs killed mid-run: {olds} left the old model, {news} the new one; rerun complete");
    }
}
