// Thousands of random and mutated argument vectors for the real `lightglm` commands, run in-process through
// CliHost.Run (the exact entry point of the executable) and a handful as real processes. Every outcome must be
// exit 0 (a valid use) or a clear error: non-zero exit, a message, no stack trace, no internal error (exit 70),
// no hang; and a failed command leaves every file that existed before it unchanged.
using System.CommandLine;
using System.Diagnostics;
using System.Security.Cryptography;
using LightGlm.Cli;
using LightGlm.Model.Checkpoints;
using LightGlm.Tests.Translation;
using Xunit.Abstractions;

namespace LightGlm.Tests.Reliability;

/// <summary>The in-process fuzz swaps the process-wide Console: it runs alone, after the parallel tests.</summary>
[CollectionDefinition(nameof(ConsoleOwners), DisableParallelization = true)]
public sealed class ConsoleOwners;

[Collection(nameof(ConsoleOwners))]
public sealed class CliArgumentFuzzTests(ITestOutputHelper output) : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("lightglm-argfuzz-").FullName;
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    /// <summary>Commands whose action runs for real on the sandbox's tiny inputs (a second or less). The others start long
    /// work from defaults alone (quickstart, run, sweep, experiments, benchmarks, corpus build, planning, a server that
    /// listens until stopped), so for them only vectors that the parser rejects, or that ask for help, are invoked.</summary>
    static readonly HashSet<string> Runnable =
    [
        "train", "translate", "eval", "prune", "distill", "vocab-prune", "finetune", "generate", "export", "import", "score",
        "corpus import", "corpus split", "corpus stats", "corpus verify", "tokenizer train", "tokenizer encode", "tokenizer decode",
        "version", "serve",
    ];

    sealed record Sandbox(string Root, string[] Models, string[] BrokenModels, string[] Texts, string[] Outputs, string[] Configs,
                          string[] Tokenizers, string[] Corpora, string[] Junk);

    Sandbox Build()
    {
        string P(string name) => Path.Combine(_dir, name);
        string model = P("model");
        ModelDirectory.Save(TranslatorTests.TinyModel(), model);
        var broken = P("broken-model");
        Directory.CreateDirectory(broken);
        File.WriteAllText(Path.Combine(broken, "config.json"), "{\"hidden_size\": 32, \"num_hidden_layers\": ");
        var corpus = P("corpus");
        Directory.CreateDirectory(corpus);
        string pairs = string.Concat(Enumerable.Range(0, 40).Select(i => $"Cannot open file {i}\t无法打开文件 {i}\nSave as {i % 7}\t另存为 {i % 7}\n"));
        foreach (var split in new[] { "train", "dev", "test" }) File.WriteAllText(Path.Combine(corpus, split + ".tsv"), pairs);
        File.WriteAllText(P("pairs.tsv"), pairs);
        File.WriteAllText(Path.Combine(corpus, "stats.json"), "{\"pairs\": \"many\", \"splits\": []}"); // `corpus stats` on a damaged file
        File.WriteAllText(P("text.txt"), "Open file\nPermission denied\n无法打开\n");
        File.WriteAllText(P("ids.jsonl"), "[1, 2, 3, 4, 5, 6]\n[7, 8, 9]\n");
        File.WriteAllText(P("pairs.jsonl"), "{\"en\": \"Open\", \"zh\": \"打开\"}\n{\"en\": 3}\n");
        File.WriteAllText(P("catalog.po"), "msgid \"\"\nmsgstr \"Content-Type: text/plain; charset=UTF-8\\n\"\n\nmsgid \"Open file\"\nmsgstr \"\"\n\nmsgid \"Cannot read %s\"\nmsgstr \"\"\n");
        File.WriteAllText(P("empty.txt"), "");
        var junk = new byte[3000];
        new Random(5).NextBytes(junk);
        File.WriteAllBytes(P("junk.bin"), junk);
        File.WriteAllText(P("broken.json"), "{\"model\": {\"hidden_size\": [}");
        File.WriteAllText(P("run.json"), """
            {"model": {"model_type": "chatglm", "vocab_size": 0, "hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 2,
              "num_key_value_heads": 1, "intermediate_size": 32, "max_position_embeddings": 32},
             "data": {"train": ["text.txt"]}, "steps": 2, "batch_size": 2, "seq_len": 8, "eval_every": 0,
             "checkpoint_dir": "runs/ck", "checkpoint_every": 1, "output_dir": "runs/model"}
            """);
        // A real tokenizer.json, trained by the CLI itself on the sandbox corpus.
        string tok = P("tokenizer.json");
        int rc = CliHost.Run(["tokenizer", "train", "--corpus", corpus, "--output", tok, "--vocab-size", "300"], TextWriter.Null, TextWriter.Null);
        Assert.True(rc == 0 && File.Exists(tok), "tokenizer train on the sandbox corpus failed");
        return new Sandbox(_dir,
            Models: [model],
            BrokenModels: [broken, P("no-such-model"), P("text.txt"), corpus, ""],
            Texts: [P("pairs.tsv"), P("text.txt"), P("ids.jsonl"), P("pairs.jsonl"), P("catalog.po"), P("empty.txt"), P("junk.bin"), P("missing.tsv"), corpus, tok],
            Outputs: [P("out/a"), P("out/b.tsv"), P("out"), P("no-such-dir/x/y"), P("text.txt"), P("pairs.tsv"), model, "/proc/version", ""],
            Configs: [P("run.json"), P("broken.json"), P("empty.txt"), P("junk.bin"), P("missing.json"), corpus],
            Tokenizers: [tok, P("junk.bin"), P("broken.json"), P("missing.json")],
            Corpora: [corpus, P("no-corpus"), P("pairs.tsv"), model],
            Junk: ["", " ", "-", "--", "-1", "0", "abc", "中文", "\u202e\u0301", new string('x', 5000), "--help", "-x", "NaN", "%s%n", "../../../etc/passwd", "a\tb"]);
    }

    // Values the parser accepts (edge cases for the command's own checks), and ones it must reject.
    static readonly string[] Ints = ["1", "2", "3", "0", "-1", "-2147483648", "2147483647", "100000", "64", "33"];
    static readonly string[] Floats = ["0.5", "1", "0", "-1", "1e-3", "1e308", "1e309", "-1e309", "NaN", "Infinity", "-Infinity", "1e-45", "65504"];
    static readonly string[] Unparsable = ["2147483648", "99999999999999999999", "1e9x", "0x10", "abc", "", " ", "3.5.1", "1,5", "∞"];
    static readonly string[] Words = ["zh", "en", "en-zh", "zh-en", "both", "int8", "int4", "none", "fp32", "bf16", "fp16", "hf-llama", "hf-chatglm", "hf-qwen2", "gguf", "q8_0", "q4_0", "f16",
        "tsv", "jsonl", "wmt-sgm", "iwslt-xml", "mpi", "threads", "1f1b", "gpipe", "activation", "taylor", "magnitude", "random", "stride", "importance",
        "top-layer-drop", "alternate", "wanda-sparsity", "teacher", "student", "per_sample", "loss_share", "13a", "90/5/5", "1/1/1", "0/0/0", "0,1", "0,5,2",
        "quick", "tiny", "paper", "x=y", "teacher.train_steps=2", "Open file", "无法打开"];

    static readonly string[] ModelOpts = ["--model", "--teacher", "--student", "--from"];
    static readonly string[] OutputOpts = ["--out", "--output", "--save-plan", "--log", "--teacher-cache", "--run-dir"];
    static readonly string[] FileOpts = ["--test", "--data", "--dev", "--target-data", "--input", "--ref", "--hyp", "--file", "--en", "--zh", "--calibration",
        "--source", "--target", "--valid", "--glossary", "--po", "--plan"];

    static string[] PoolFor(Option o, string command, Sandbox s)
    {
        var t = Nullable.GetUnderlyingType(o.ValueType) ?? o.ValueType;
        if (t == typeof(int) || t == typeof(long)) return Ints;
        if (t == typeof(float) || t == typeof(double)) return Floats;
        if (t == typeof(bool)) return ["true", "false", "yes"];
        if (t.IsEnum) return [.. Enum.GetNames(t), "nonsense"];
        if (ModelOpts.Contains(o.Name)) return command == "serve" ? s.BrokenModels : [.. s.Models, .. s.Models, .. s.BrokenModels];
        if (OutputOpts.Contains(o.Name)) return s.Outputs;
        if (FileOpts.Contains(o.Name)) return s.Texts;
        if (o.Name == "--config") return s.Configs;
        if (o.Name == "--tokenizer") return s.Tokenizers;
        if (o.Name is "--corpus" or "--cache" or "--dir") return s.Corpora;
        return Words;
    }

    /// <summary>A random argument vector for <paramref name="path"/>: options drawn from the command's own, values from the
    /// pool of their kind (mostly) or from anywhere, then 0–3 token mutations (drop, duplicate, swap, insert junk, cut).</summary>
    static List<string> Vector(string path, Command cmd, Sandbox s, Random rng)
    {
        var v = new List<string>(path.Split(' '));
        foreach (var o in cmd.Options.Where(o => o.Name is not ("--help" or "--version")))
        {
            if (rng.NextDouble() > (o.Required ? 0.92 : 0.3)) continue;
            string name = o.Aliases.Count > 0 && rng.Next(4) == 0 ? o.Aliases.First() : o.Name;
            var t = Nullable.GetUnderlyingType(o.ValueType) ?? o.ValueType;
            if (t == typeof(bool)) { v.Add(name); if (rng.Next(6) == 0) v.Add(Pick(PoolFor(o, path, s), rng)); continue; }
            var pool = rng.Next(10) == 0 ? Pick([Ints, Floats, Unparsable, Words, s.Texts, s.Junk], rng) : PoolFor(o, path, s);
            v.Add(name);
            v.Add(Pick(pool, rng));
        }
        foreach (var a in cmd.Arguments)
            if (rng.Next(3) > 0) v.Add(Pick(rng.Next(3) == 0 ? s.Junk : Words, rng));
        int fixedWords = path.Split(' ').Length;
        for (int m = rng.Next(3) == 0 ? rng.Next(1, 4) : 0; m > 0; m--)
        {
            int at = rng.Next(fixedWords, v.Count + 1);
            switch (rng.Next(6))
            {
                case 0 when at < v.Count: v.RemoveAt(at); break;
                case 1 when at < v.Count: v.Insert(at, v[at]); break;
                case 2 when v.Count > fixedWords + 1:
                {
                    int b = rng.Next(fixedWords, v.Count), c = rng.Next(fixedWords, v.Count);
                    (v[b], v[c]) = (v[c], v[b]);
                    break;
                }
                case 3: v.Insert(at, Pick(s.Junk, rng)); break;
                case 4: v.Insert(at, "--" + Pick(Words, rng)); break;
                case 5 when at < v.Count && v[at].Length > 1: v[at] = v[at][..rng.Next(1, v[at].Length)]; break;
            }
        }
        // Work-amount options (a legitimately long run, not a fault) are held small so that thousands of cases stay fast.
        if (cmd.Options.Any(o => o.Name == "--steps")) v.InsertRange(fixedWords, ["--steps", Pick(["1", "2", "0", "-1"], rng)]);
        return v;
    }

    static T Pick<T>(T[] a, Random rng) => a[rng.Next(a.Length)];

    static List<(string Path, Command Cmd)> Leaves(Command c, string prefix)
    {
        var list = new List<(string, Command)>();
        foreach (var sub in c.Subcommands)
        {
            string p = prefix.Length == 0 ? sub.Name : prefix + " " + sub.Name;
            if (sub.Subcommands.Count == 0) list.Add((p, sub));
            else list.AddRange(Leaves(sub, p));
        }
        return list;
    }

    /// <summary>Size, time and hash of every file under the sandbox: the user's files a failed command must not touch.</summary>
    static Dictionary<string, (long Len, DateTime Time)> Snapshot(string root) =>
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).ToDictionary(f => f, f => { var i = new FileInfo(f); return (i.Length, i.LastWriteTimeUtc); });

    [Fact]
    public void ThousandsOfArgumentVectorsEndInAClearErrorOrSuccess()
    {
        int cases = int.TryParse(Environment.GetEnvironmentVariable("LIGHTGLM_ARGFUZZ_CASES"), out int n) ? n : 3000;
        int seed = int.TryParse(Environment.GetEnvironmentVariable("LIGHTGLM_ARGFUZZ_SEED"), out int sd) ? sd : 11;
        var s = Build();
        var leaves = Leaves(CliHost.BuildRoot(), "");
        Assert.True(leaves.Count > 20, $"only {leaves.Count} commands found");
        string pristine = Path.Combine(Path.GetTempPath(), $"lightglm-argfuzz-pristine-{Guid.NewGuid():N}");
        CopyTree(_dir, pristine);
        // Relative defaults (tokenizer.json, .cache/lightglm/…) resolve in the sandbox: the collection runs alone.
        string oldCwd = Environment.CurrentDirectory;
        Environment.CurrentDirectory = _dir;
        var before = Snapshot(_dir);
        var (oldOut, oldErr, oldIn) = (Console.Out, Console.Error, Console.In);
        int ok = 0, parseErrors = 0, userErrors = 0, helpOnly = 0, skipped = 0;
        var perCommand = new Dictionary<string, int>();
        var crashes = new Dictionary<string, string>();
        var watch = Stopwatch.StartNew();
        try
        {
            for (int c = 0; c < cases; c++)
            {
                var rng = new Random(seed * 1_000_003 + c); // deterministic: a failing case replays with its number
                var (path, cmd) = leaves[rng.Next(leaves.Count)];
                var args = Vector(path, cmd, s, rng);
                bool runnable = Runnable.Contains(path);
                var parse = CliHost.BuildRoot().Parse(args);
                bool help = parse.Errors.Count == 0 && parse.Action != parse.CommandResult.Command.Action; // --help, --version: not the command's own action
                if (!runnable && parse.Errors.Count == 0 && !help) { skipped++; continue; }
                perCommand[path] = perCommand.GetValueOrDefault(path) + 1;
                var outW = new StringWriter();
                var errW = new StringWriter();
                int rc = -1;
                Exception? escaped = null;
                var task = Task.Run(() =>
                {
                    Console.SetOut(outW); Console.SetError(errW); Console.SetIn(new StringReader(""));
                    try { rc = CliHost.Run([.. args], outW, errW); }
                    catch (Exception e) { escaped = e; }
                });
                string shown = string.Join(' ', args.Select(a => a.Length > 60 ? a[..60] + "…" : a).Select(a => a.Contains(' ') || a.Length == 0 ? $"'{a}'" : a));
                if (!task.Wait(TimeSpan.FromSeconds(60)))
                    throw new Xunit.Sdk.XunitException($"case {c}: `lightglm {shown}` did not finish within 60 s (a hang)");
                string err = errW.ToString();
                if (escaped is not null) throw new Xunit.Sdk.XunitException($"case {c}: `lightglm {shown}` threw out of CliHost.Run: {escaped}");
                if (rc == CliHost.InternalError || err.Contains("   at "))
                {
                    // Collect distinct crashes (by message and innermost frame) and report them all at the end.
                    var lines = err.Split('\n');
                    string key = lines[0] + lines.FirstOrDefault(l => l.Contains("   at "), "");
                    if (crashes.TryAdd(key, $"case {c}: `lightglm {shown}` crashed (exit {rc}):\n{string.Join('\n', lines.Take(6))}") && crashes.Count >= 12) break;
                    continue;
                }
                if (rc == 0) { ok++; if (help) helpOnly++; }
                else
                {
                    if (string.IsNullOrWhiteSpace(err)) throw new Xunit.Sdk.XunitException($"case {c}: `lightglm {shown}` exited {rc} without a message");
                    if (parse.Errors.Count > 0) parseErrors++; else userErrors++;
                }
                // A failed command changed no file that existed before; a successful one may have (restored for the next case).
                var after = Snapshot(_dir);
                var changed = before.Keys.Where(f => !after.TryGetValue(f, out var a) || a != before[f]).ToList();
                if (changed.Count > 0)
                {
                    var really = changed.Where(f => !File.Exists(f) || !Same(f, Path.Combine(pristine, Path.GetRelativePath(_dir, f)))).ToList();
                    if (rc != 0 && really.Count > 0)
                        throw new Xunit.Sdk.XunitException($"case {c}: `lightglm {shown}` failed (exit {rc}: {err.Trim()}) and changed {string.Join(", ", really)}");
                    foreach (var f in changed) { Directory.CreateDirectory(Path.GetDirectoryName(f)!); File.Copy(Path.Combine(pristine, Path.GetRelativePath(_dir, f)), f, true); }
                    before = Snapshot(_dir).Where(kv => before.ContainsKey(kv.Key)).ToDictionary();
                }
            }
        }
        finally
        {
            Console.SetOut(oldOut); Console.SetError(oldErr); Console.SetIn(oldIn);
            Environment.CurrentDirectory = oldCwd;
            try { Directory.Delete(pristine, true); } catch { }
        }
        Assert.True(crashes.Count == 0, $"{crashes.Count} distinct crashes:\n\n" + string.Join("\n\n", crashes.Values));
        int run = cases - skipped;
        output.WriteLine($"CLI argument fuzz: {cases} vectors over {leaves.Count} commands in {watch.Elapsed.TotalSeconds:F0} s: {run} invoked " +
                         $"({ok} exit 0 of which {helpOnly} help, {parseErrors} rejected by the parser, {userErrors} rejected by the command with a clear error), " +
                         $"{skipped} not invoked (long-running command, vector valid)");
        output.WriteLine("invoked per command: " + string.Join(", ", perCommand.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key} {kv.Value}")));
        Assert.True(userErrors > run / 10, $"only {userErrors} of {run} vectors reached a command's own validation: the generator is too weak");
        Assert.True(ok > 0, "no vector succeeded: the generator never produces a valid command line");
    }

    /// <summary>A handful of the same kind of vectors through the real executable (a fresh process each, the sandbox as the
    /// working directory): what a user sees is a message and a non-zero exit, never an unhandled-exception dump.</summary>
    [Fact]
    public void RealProcessesEndInAClearErrorToo()
    {
        var s = Build();
        string P(string name) => Path.Combine(_dir, name);
        var vectors = new List<string[]>
        {
            new[] { "train", "--config", P("missing.json") },
            new[] { "train", "--config", P("run.json"), "--pipeline-stages", "0", "--threads", "1" },
            new[] { "train", "--config", P("broken.json") },
            new[] { "translate", "--model", s.Models[0], "--beam", "0", "x" },
            new[] { "eval", "--model", s.BrokenModels[0], "--test", P("pairs.tsv") },
            new[] { "serve", "--model", s.BrokenModels[0] },
            new[] { "prune", "--teacher", s.Models[0], "--out", "" },
            new[] { "distill", "--teacher", s.Models[0], "--student", s.Models[0], "--out", P("out/d"), "--source", P("ids.jsonl"), "--w-hidden", "Infinity" },
            new[] { "corpus", "import", "-f", "jsonl", "-i", P("junk.bin"), "-o", P("out/c.tsv") },
            new[] { "vocab-prune", "--model", s.Models[0], "--out", P("out/v") },
            new[] { "tokenizer", "encode", "-t", P("broken.json"), "x" },
            new[] { "no-such-command", "--steps", "-1" },
        };
        var rng = new Random(99);
        var leaves = Leaves(CliHost.BuildRoot(), "").Where(l => Runnable.Contains(l.Path) && l.Path != "serve").ToList();
        while (vectors.Count < 18) { var (path, cmd) = leaves[rng.Next(leaves.Count)]; vectors.Add([.. Vector(path, cmd, s, rng)]); }
        int failed = 0;
        foreach (var args in vectors)
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false, WorkingDirectory = _dir };
            psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "LightGlm.Cli.dll"));
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            p.StandardInput.Close();
            var err = p.StandardError.ReadToEndAsync();
            _ = p.StandardOutput.ReadToEndAsync();
            string shown = string.Join(' ', args.Select(a => a.Length > 40 ? a[..40] + "…" : a));
            if (!p.WaitForExit(TimeSpan.FromSeconds(90))) { p.Kill(true); throw new Xunit.Sdk.XunitException($"`lightglm {shown}` did not finish in 90 s (a hang)"); }
            string e = err.Result;
            Assert.False(e.Contains("Unhandled exception", StringComparison.OrdinalIgnoreCase) || e.Contains("   at ") || p.ExitCode == CliHost.InternalError,
                $"`lightglm {shown}` crashed (exit {p.ExitCode}):\n{e}");
            if (p.ExitCode != 0)
            {
                failed++;
                Assert.False(string.IsNullOrWhiteSpace(e), $"`lightglm {shown}` exited {p.ExitCode} without a message");
            }
            output.WriteLine($"exit {p.ExitCode}: lightglm {shown}\n    {e.Split('\n').FirstOrDefault(l => l.Trim().Length > 0, "").Trim()}");
        }
        output.WriteLine($"real processes: {vectors.Count} vectors, {failed} clear errors, {vectors.Count - failed} successes, 0 crashes");
        Assert.True(failed >= 12, "the hand-picked bad vectors must all fail");
    }

    static bool Same(string a, string b) =>
        File.Exists(b) && SHA256.HashData(File.ReadAllBytes(a)).AsSpan().SequenceEqual(SHA256.HashData(File.ReadAllBytes(b)));

    static void CopyTree(string from, string to)
    {
        foreach (var d in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories)) Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, d)));
        Directory.CreateDirectory(to);
        foreach (var f in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories)) File.Copy(f, Path.Combine(to, Path.GetRelativePath(from, f)));
    }
}
