// The recipe's downstream stage (Eq. 13 after mixed compression) on a tiny model, through the real stages from the tokenizer on,
// on real pairs (GNU m4's Chinese messages, committed): it trains, writes student/ atomically and leaves compression's student
// beside it, survives an interruption (no half-written model, no marker), reuses the teacher cache, skips when done, and a redo
// (`--redo downstream`) makes the same student again.
using System.Text.Json.Nodes;
using LightGlm.Experiments;
using LightGlm.Experiments.Recipes;
using LightGlm.Experiments.Stages;
using LightGlm.IO;
using LightGlm.Model.Checkpoints;
using LightGlm.Tests.Text;
using LightGlm.Text.Gettext;
using Xunit.Abstractions;

namespace LightGlm.Tests.Experiments;

/// <summary>Tests that compare two runs bit for bit own the process's thread settings: the eval stage's speed probe sets the
/// GEMM and kernel thread counts to 1 while it measures, and a run beside it on other settings rounds differently.</summary>
[CollectionDefinition(nameof(ThreadSettingsOwners), DisableParallelization = true)]
public sealed class ThreadSettingsOwners;

[Collection(nameof(ThreadSettingsOwners))]
public class DownstreamStageTests(ITestOutputHelper output)
{
    [Fact]
    public void ReplayTakesItsShareOfSourceSequencesEvenlyAndDeterministically()
    {
        var ds = Enumerable.Range(0, 1000).Select(i => new LightGlm.Translation.TaskExample([i], [i], 0, LightGlm.Translation.Direction.EnToZh)).ToList();
        Assert.Empty(DownstreamStage.Replay(ds, 100, 0));
        var half = DownstreamStage.Replay(ds, 100, 0.5);          // 0.5 of the training set = as many as D_d
        Assert.Equal(100, half.Count);
        Assert.Equal(Enumerable.Range(0, 100).Select(i => i * 10), half.Select(e => e.Tokens[0]));
        Assert.Equal(half, DownstreamStage.Replay(ds, 100, 0.5));
        Assert.Equal(300, DownstreamStage.Replay(ds, 100, 0.75).Count); // 300 / (300 + 100)
        Assert.Equal(1000, DownstreamStage.Replay(ds, 1000, 0.9).Count); // no more than D_s has
    }

    /// <summary>Stands in for the corpus stage: train/dev/test TSVs of real catalog pairs (the corpus stage needs the .deb cache).</summary>
    sealed class CatalogCorpusStage : IRecipeStage
    {
        public string Name => "corpus";
        public string Description => "pairs from real-m4.zh_CN.mo";

        public JsonObject Run(StageContext c)
        {
            var pairs = GettextCatalog.Load(TextTestData.File("real-m4.zh_CN.mo")).Messages
                .Where(e => !e.IsHeader && e.Translations.Length > 0 && e.Translations[0].Length > 0)
                .Select(e => (En: Clean(e.Id), Zh: Clean(e.Translations[0])))
                .Where(p => p.En.Length is > 0 and <= 40 && p.Zh.Length is > 0 and <= 20)
                .DistinctBy(p => p.En).ToList();
            Assert.True(pairs.Count >= 60, $"only {pairs.Count} short pairs in the catalog");
            string dir = c.Run.PathOf("corpus");
            Directory.CreateDirectory(dir);
            string Write(string name, IEnumerable<(string En, string Zh)> ps)
            {
                string path = Path.Combine(dir, name);
                File.WriteAllLines(path, ps.Select(p => $"{p.En}\t{p.Zh}"));
                return path;
            }
            return new JsonObject
            {
                ["dir"] = dir, ["train"] = Write("train.tsv", pairs.Skip(24)), ["dev"] = Write("dev.tsv", pairs.Take(16)), ["test"] = Write("test.tsv", pairs.Skip(16).Take(8)),
                ["glossary"] = Path.Combine(dir, "glossary.tsv"), ["train_pairs"] = pairs.Count - 24, ["dev_pairs"] = 16, ["test_pairs"] = 8,
            };
        }

        static string Clean(string s) => s.Replace('\n', ' ').Replace('\t', ' ').Trim();
    }

    /// <summary>Cancels the run when the downstream stage reports its step <paramref name="atStep"/> (a Ctrl-C mid-stage).</summary>
    sealed class CancelAt(CancellationTokenSource cts, int atStep) : IStageProgress
    {
        public void Report(double fraction, string detail, double? tokensPerSecond = null)
        {
            if (detail.StartsWith($"step {atStep}/", StringComparison.Ordinal)) cts.Cancel();
        }
    }

    static Recipe TinyRecipe() => Recipe.Load("tiny")
        .With("corpus.max_train_pairs", "0").With("corpus.mono_lines", "0").With("tokenizer.vocab_size", "400")
        .With("teacher.hidden_size", "32").With("teacher.num_hidden_layers", "2").With("teacher.num_attention_heads", "2")
        .With("teacher.num_key_value_heads", "1").With("teacher.intermediate_size", "64").With("teacher.train_steps", "8")
        .With("teacher.checkpoint_every", "0").With("parallel.enabled", "false")
        .With("hybrid.steps", "4").With("hybrid.compare", "false").With("hybrid.target_fraction", "0.25")
        .With("compression.keep_layers", "1").With("compression.distill_steps", "4").With("compression.calibration_pairs", "8")
        .With("compression.baselines", "[]").With("compression.random_baseline", "false").With("compression.no_target_table", "false")
        .With("compression.levels", "[0.5]").With("downstream.steps", "12").With("downstream.learning_rate", "0.003").With("downstream.top_k", "16");

    static RecipeRunner Runner() =>
        new([new CatalogCorpusStage(), new TokenizerStage(), new TeacherStage(), new HybridStage(), new CompressionStage(), new DownstreamStage(), new EvalStage()]);

    [Fact]
    public void TheCatalogPutsDownstreamAfterCompressionAndBeforeEval()
    {
        var names = StageCatalog.Recipe().Select(s => s.Name).ToList();
        Assert.Equal(names.IndexOf("compression") + 1, names.IndexOf("downstream"));
        Assert.Equal(names.IndexOf("downstream") + 1, names.IndexOf("eval"));
        // On in every preset but standard, whose student is distilled on both directions and ends there (docs/QUALITY.md).
        foreach (var preset in Recipe.PresetNames) Assert.True(Recipe.Load(preset).Get<bool>("downstream.enabled") == (preset != "standard"), preset);
        // Sized with the presets: tiny (the end-to-end test) < quick (minutes) < paper (hours).
        int tiny = Recipe.Load("tiny").Get<int>("downstream.steps"), quick = Recipe.Load("quick").Get<int>("downstream.steps"),
            paper = Recipe.Load("paper").Get<int>("downstream.steps");
        Assert.True(tiny > 0 && tiny <= 10 && tiny < quick && quick < paper, $"downstream.steps tiny {tiny}, quick {quick}, paper {paper}");
        // It needs a compressed student and a hybrid teacher; without them compression's student is the final student/.
        var r = Recipe.Load("tiny");
        Assert.True(DownstreamStage.Active(r));
        Assert.Equal("student-compressed", DownstreamStage.CompressedStudentName(r));
        foreach (var off in new[] { "downstream.enabled", "hybrid.enabled", "compression.enabled" })
        {
            Assert.False(DownstreamStage.Active(r.With(off, "false")), off);
            Assert.Equal("student", DownstreamStage.CompressedStudentName(r.With(off, "false")));
        }
    }

    [Fact]
    public void TrainsWritesTheFinalStudentResumesSkipsAndRedoes()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"downstream-{Guid.NewGuid():N}");
        try
        {
            var recipe = TinyRecipe();
            var run = new RunDirectory(dir);

            // 1. Interrupted at downstream step 5: earlier stages finished, no marker, no student/ (nothing half-written).
            using (var cts = new CancellationTokenSource())
            {
                Assert.ThrowsAny<OperationCanceledException>(() => Runner().Run(recipe, run,
                    s => s.Name == "downstream" ? new CancelAt(cts, 5) : NullProgress.Instance, cts.Token, until: "downstream"));
            }
            Assert.True(run.IsStageDone("compression"));
            Assert.False(run.IsStageDone("downstream"));
            Assert.False(Directory.Exists(run.PathOf("student")), "student/ must not exist before the stage finishes");
            Assert.True(File.Exists(run.PathOf("student-compressed", "model.safetensors")));
            Assert.True(File.Exists(run.PathOf("teacher-cache", "downstream.bin")), "the teacher's outputs are cached before the first step");

            // 2. Continued: only the downstream stage runs, and it reuses the cached teacher outputs; --until stops before eval.
            var runner = Runner();
            var ran = new List<string>();
            runner.StageStarting += (s, _, _, skipped) => { if (!skipped) ran.Add(s.Name); };
            runner.Run(recipe, run, _ => NullProgress.Instance, default, until: "downstream");
            Assert.Equal(["downstream"], ran);
            Assert.False(run.IsStageDone("eval"));
            var result = run.StageResult("downstream")!;
            output.WriteLine(result.ToJsonString(new() { WriteIndented = true }));
            Assert.False((bool)result["teacher_cache"]!["built"]!);
            Assert.Equal(run.PathOf("student"), (string)result["student"]!);
            Assert.Equal("student-compressed", (string)result["from"]!);
            Assert.Equal(run.PathOf("teacher-hybrid"), (string)result["teacher"]!);
            Assert.True((int)result["n_target"]! > 0);
            Assert.True((double)result["train_seconds"]! > 0 && (double)result["wall_seconds"]! > 0 && result["cpu_seconds"] is not null);
            Assert.Equal(0.65, (double)result["soft_weight"]!, 5); // λ on the teacher's term (the paper's formula)
            Assert.Equal(0.35, (double)result["hard_weight"]!, 5);
            var curve = result["curve"]!.AsArray();
            Assert.Equal(13, curve.Count); // step 0 and every step of 12 (EvalEvery = max(1, 12/10))
            Assert.All(curve, p => Assert.True(double.IsFinite((double)p![1]!)));
            Assert.Contains(run.ReadMetrics("downstream"), m => m["valid_loss"] is not null);
            // It trains: the target-direction dev loss falls, and the student's weights moved away from compression's.
            Assert.True((double)result["target_dev_loss_after"]! < (double)result["target_dev_loss_before"]!,
                $"target dev loss {result["target_dev_loss_before"]} → {result["target_dev_loss_after"]}");
            var before = ModelDirectory.Load(run.PathOf("student-compressed"));
            var after = ModelDirectory.Load(run.PathOf("student"));
            Assert.Equal(before.Layout.TotalLength, after.Layout.TotalLength);
            Assert.True(before.Weights.Zip(after.Weights).Max(w => Math.Abs(w.First - w.Second)) > 1e-4);
            // The dev loss of the compressed student over both directions is the end of compression's curve (same set, same weights).
            var compressionCurve = run.StageResult("compression")!["curves"]!["student-compressed"]!.AsArray();
            Assert.Equal((double)compressionCurve[^1]![1]!, (double)result["dev_loss_before"]!, 4);
            // compression.levels: one more mixed student at hidden ratio 0.5 (32 → 16 channels), smaller, not a Table 2 row.
            var compression = run.StageResult("compression")!;
            var level = ModelDirectory.Load((string)compression["models"]!["student-h0.5"]!);
            Assert.Equal(16, level.Config.HiddenSize);
            Assert.True(level.Layout.TotalLength < before.Layout.TotalLength);
            Assert.Null(compression["tables"]!["mixed"]!["rows"]!["level:0.5"]);
            // Written atomically: no partial or old directory left, the tokenizer beside the weights.
            Assert.False(Directory.Exists(run.PathOf("student.partial")) || Directory.Exists(run.PathOf("student.old")));
            Assert.True(File.Exists(run.PathOf("student", "tokenizer.json")));
            byte[] weights = File.ReadAllBytes(run.PathOf("student", "model.safetensors"));
            var written = File.GetLastWriteTimeUtc(run.PathOf("student", "model.safetensors"));

            // 3. Done: a further run skips it and leaves the model alone.
            ran.Clear();
            runner.Run(recipe, run, _ => NullProgress.Instance, default, until: "downstream");
            Assert.Empty(ran);
            Assert.Equal(written, File.GetLastWriteTimeUtc(run.PathOf("student", "model.safetensors")));

            // 4. --redo downstream: the stage runs again from compression's student and makes the same model (seeded; cached teacher).
            run.ForgetStage("downstream");
            runner.Run(recipe, run, _ => NullProgress.Instance, default, until: "downstream");
            Assert.Equal(["downstream"], ran);
            Assert.Equal(weights, File.ReadAllBytes(run.PathOf("student", "model.safetensors")));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void EvalReusesAModelsScoresOnlyForTheSameTestSentences()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"eval-resume-{Guid.NewGuid():N}");
        try
        {
            var run = new RunDirectory(dir);
            Runner().Run(TinyRecipe().With("eval.max_sentences", "4"), run, _ => NullProgress.Instance, default);
            Assert.Equal(4, (int)run.StageResult("eval")!["models"]!["student"]!["en-zh"]!["sentences"]!);
            // Interrupted after every model was scored, then continued with other settings (config.json removed by hand):
            // the per-model markers hold 4 sentences, so every model is scored again on 2.
            File.Delete(run.PathOf("stages", "eval.done.json"));
            File.Delete(run.PathOf("config.json"));
            Runner().Run(TinyRecipe().With("eval.max_sentences", "2"), run, _ => NullProgress.Instance, default);
            foreach (var (name, m) in run.StageResult("eval")!["models"]!.AsObject())
                Assert.True((int)m!["en-zh"]!["sentences"]! == 2, $"{name} kept the scores of another test set");
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void AtomicDirectoryKeepsTheOldDirectoryWhenAWriteFailsAndCleansLeftovers()
    {
        string root = Path.Combine(Path.GetTempPath(), $"atomic-dir-{Guid.NewGuid():N}");
        try
        {
            string dir = Path.Combine(root, "student");
            AtomicDirectory.Write(dir, d => File.WriteAllText(Path.Combine(d, "a.txt"), "one"));
            Assert.Throws<IOException>(() => AtomicDirectory.Write(dir, d =>
            {
                File.WriteAllText(Path.Combine(d, "a.txt"), "half");
                throw new IOException("disk full");
            }));
            Assert.Equal("one", File.ReadAllText(Path.Combine(dir, "a.txt")));
            AtomicDirectory.Write(dir, d => File.WriteAllText(Path.Combine(d, "b.txt"), "two")); // the failed .partial is cleaned first
            Assert.Equal(["b.txt"], Directory.GetFiles(dir).Select(Path.GetFileName));
            Assert.Equal(["student"], Directory.GetDirectories(root).Select(Path.GetFileName));
        }
        finally { if (Directory.Exists(root)) Directory.Delete(root, true); }
    }
}
