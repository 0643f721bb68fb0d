// teacher.pretrain_steps on the tiny preset (shrunk): the teacher stage pre-trains on the corpus's monolingual text before
// it trains on the pairs — logged, recorded in the stage's result, and changing the teacher it makes; without monolingual
// text the stage refuses by the setting's name instead of silently skipping it.
using System.Text.Json.Nodes;
using LightGlm.Experiments;
using LightGlm.Experiments.Recipes;
using LightGlm.Experiments.Stages;
using LightGlm.Model.Checkpoints;
using LightGlm.Tests.Text;
using LightGlm.Text.Gettext;

namespace LightGlm.Tests.Experiments;

[Collection(nameof(ThreadSettingsOwners))]
public class TeacherPretrainingTests
{
    /// <summary>Stands in for the corpus stage: pairs of GNU m4's Chinese catalog, and its two sides as monolingual text
    /// (the manual pages' stand-in) when <paramref name="mono"/>.</summary>
    internal sealed class CatalogCorpusStage(bool mono) : IRecipeStage
    {
        public string Name => "corpus";
        public string Description => "pairs and monolingual text from real-m4.zh_CN.mo";

        public JsonObject Run(StageContext c)
        {
            var pairs = GettextCatalog.Load(TextTestData.File("real-m4.zh_CN.mo")).Messages
                .Where(e => !e.IsHeader && e.Translations.Length > 0 && e.Translations[0].Length > 0)
                .Select(e => (En: Clean(e.Id), Zh: Clean(e.Translations[0])))
                .Where(p => p.En.Length is > 0 and <= 40 && p.Zh.Length is > 0 and <= 20)
                .DistinctBy(p => p.En).ToList();
            string dir = c.Run.PathOf("corpus");
            Directory.CreateDirectory(dir);
            string Write(string name, IEnumerable<string> lines)
            {
                string path = Path.Combine(dir, name);
                File.WriteAllLines(path, lines);
                return path;
            }
            string Tsv(string name, IEnumerable<(string En, string Zh)> ps) => Write(name, ps.Select(p => $"{p.En}\t{p.Zh}"));
            var result = new JsonObject
            {
                ["train"] = Tsv("train.tsv", pairs.Skip(24)), ["dev"] = Tsv("dev.tsv", pairs.Take(16)), ["test"] = Tsv("test.tsv", pairs.Skip(16).Take(8)),
            };
            if (mono)
            {
                result["mono_en"] = Write("mono.en.txt", pairs.Select(p => p.En));
                result["mono_zh"] = Write("mono.zh.txt", pairs.Select(p => p.Zh));
            }
            return result;
        }

        static string Clean(string s) => s.Replace('\n', ' ').Replace('\t', ' ').Trim();
    }

    static Recipe TinyRecipe(int pretrainSteps) => Recipe.Load("tiny")
        .With("corpus.max_train_pairs", "0").With("corpus.mono_lines", "400").With("tokenizer.vocab_size", "400")
        .With("teacher.hidden_size", "32").With("teacher.num_hidden_layers", "2").With("teacher.num_attention_heads", "2")
        .With("teacher.num_key_value_heads", "1").With("teacher.intermediate_size", "64").With("teacher.train_steps", "4")
        .With("teacher.checkpoint_every", "0").With("teacher.curve_pairs", "0").With("teacher.pretrain_steps", pretrainSteps.ToString());

    static RunDirectory RunTeacher(string dir, int pretrainSteps, bool mono = true)
    {
        var run = new RunDirectory(dir);
        new RecipeRunner([new CatalogCorpusStage(mono), new TokenizerStage(), new TeacherStage()])
            .Run(TinyRecipe(pretrainSteps), run, _ => NullProgress.Instance, default);
        return run;
    }

    [Fact]
    public void PretrainStepsPretrainTheTeacherOnMonolingualTextFirst()
    {
        string root = Path.Combine(Path.GetTempPath(), $"pretrain-{Guid.NewGuid():N}");
        try
        {
            var with = RunTeacher(Path.Combine(root, "with"), pretrainSteps: 3);
            var result = with.StageResult("teacher")!;
            var pretrain = result["pretrain"]!;
            Assert.Equal(3, (int)pretrain["steps"]!);
            Assert.True((int)pretrain["tokens"]! > 100);
            Assert.True(double.IsFinite((double)pretrain["final_loss"]!));
            Assert.Contains(with.ReadMetrics("teacher.pretrain"), m => (int?)m["step"] == 3 && m["loss"] is not null); // its last step
            Assert.Contains(with.ReadMetrics("teacher"), m => (int?)m["step"] == 4); // then the translation training's own steps

            // The same run without pre-training makes another teacher: the pre-training was not skipped.
            var without = RunTeacher(Path.Combine(root, "without"), pretrainSteps: 0);
            Assert.Null(without.StageResult("teacher")!["pretrain"]);
            Assert.Empty(without.ReadMetrics("teacher.pretrain"));
            var a = ModelDirectory.Load((string)result["model"]!);
            var b = ModelDirectory.Load((string)without.StageResult("teacher")!["model"]!);
            Assert.True(a.Weights.Zip(b.Weights).Max(w => Math.Abs(w.First - w.Second)) > 1e-4);

            // No monolingual text in the corpus: refused by the setting's name, not skipped.
            var e = Assert.Throws<InvalidDataException>(() => RunTeacher(Path.Combine(root, "no-mono"), pretrainSteps: 3, mono: false));
            Assert.Contains("teacher.pretrain_steps", e.Message);
        }
        finally { if (Directory.Exists(root)) Directory.Delete(root, true); }
    }
}
