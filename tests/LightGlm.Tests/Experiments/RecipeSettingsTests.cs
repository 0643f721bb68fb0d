// Typed recipe settings: every preset binds; every problem is reported at once, before any stage runs; a setting that
// no typed field reads cannot exist, and every typed field is read by the code that runs the recipe.
using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using LightGlm.Experiments;
using LightGlm.Experiments.Recipes;
using LightGlm.Text.Corpus;

namespace LightGlm.Tests.Experiments;

public class RecipeSettingsTests
{
    [Fact]
    public void EveryPresetBindsWithoutProblems()
    {
        foreach (var preset in Recipe.PresetNames)
        {
            var r = Recipe.Load(preset);
            Assert.Empty(r.Problems());
            Assert.Equal(preset, r.Settings.Name);
        }
        var paper = Recipe.Load("paper").Settings;
        Assert.Equal(4000, paper.Teacher.PretrainSteps);
        Assert.Equal(4, paper.Eval.Beam);
        Assert.Equal(0.65, paper.Hybrid.Alpha);
        Assert.Equal(0, Recipe.Load("quick").Settings.Teacher.PretrainSteps);
    }

    [Fact]
    public void EveryProblemIsReportedAtOnceBeforeAnyStageRuns()
    {
        var recipe = Recipe.Load("tiny")
            .With("compression.distill_data", "soft")       // a choice
            .With("teacher.lr_schedule", "step")            // a choice
            .With("compression.baselines", "[\"int4\"]")    // a list of choices
            .With("teacher.learning_rate", "-1")            // a range
            .With("corpus.split", "[0.9, 0.1]")             // a shape
            .With("hybrid.target_direction", "en-zh")       // a rule between settings: the same as the source direction
            .With("hybrid.alpha", "null");                  // null is allowed here (α from the set sizes)
        var e = Assert.Throws<InvalidDataException>(() => recipe.Settings);
        foreach (var key in new[] { "compression.distill_data", "teacher.lr_schedule", "compression.baselines", "teacher.learning_rate", "corpus.split" })
            Assert.Contains(key, e.Message);
        Assert.Contains("5 problem(s)", e.Message); // the cross-field rules wait for valid values; then they are reported too
        Assert.Contains("one of hybrid, all", e.Message);
        Assert.Contains("one of constant, cosine, linear, inverse_sqrt", e.Message);

        var rules = Recipe.Load("tiny").With("hybrid.target_direction", "en-zh").With("teacher.hidden_size", "130")
            .With("teacher.pretrain_steps", "10").With("corpus.mono_lines", "0").With("teacher.pipeline_stages", "1");
        var r = Assert.Throws<InvalidDataException>(() => rules.Settings);
        Assert.Contains("hybrid.source_direction", r.Message);
        Assert.Contains("hidden_size = 130 is not divisible by num_attention_heads = 4", r.Message);
        Assert.Contains("corpus.mono_lines", r.Message);
        Assert.Contains("Figure 3 needs at least 2 pipeline stages", r.Message);
        Assert.Contains("4 problem(s)", r.Message);
        Assert.Null(Record.Exception(() => Recipe.Load("tiny").With("hybrid.alpha", "null").Settings));

        // The runner checks them before the first stage: nothing runs, nothing is written.
        string dir = Path.Combine(Path.GetTempPath(), $"settings-{Guid.NewGuid():N}");
        try
        {
            var stage = new CountingStage();
            var run = new RunDirectory(dir);
            Assert.Throws<InvalidDataException>(() => new RecipeRunner([stage]).Run(recipe, run, _ => NullProgress.Instance, default));
            Assert.Equal(0, stage.Runs);
            Assert.False(File.Exists(run.PathOf("config.json")));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    sealed class CountingStage : IRecipeStage
    {
        public int Runs;
        public string Name => "corpus";
        public string Description => "counts";
        public JsonObject Run(StageContext c) { Runs++; return []; }
    }

    [Fact]
    public void ASettingNoFieldReadsIsRefused()
    {
        // Overlays refuse keys the defaults lack; a key in the defaults that no typed field read would be refused by binding.
        var root = (JsonObject)JsonNode.Parse(Recipe.Load("tiny").ToJson())!;
        ((JsonObject)root["teacher"]!)["warmup_steps"] = 10;
        root["extra"] = new JsonObject { ["x"] = 1 };
        var (_, problems) = RecipeSettings.Bind(root);
        Assert.Contains(problems, p => p.Contains("'teacher.warmup_steps' is not a setting any stage reads"));
        Assert.Contains(problems, p => p.Contains("'extra.x' is not a setting any stage reads"));
    }

    [Fact]
    public void HybridLoraSettingsAreTypedAndChecked()
    {
        var tiny = Recipe.Load("tiny");
        Assert.Equal(0, tiny.Settings.Hybrid.LoraRank); // off by default
        Assert.Null(tiny.Settings.Hybrid.LoraAlpha);     // α = r
        var on = tiny.With("hybrid.lora_rank", "4").With("hybrid.lora_alpha", "8").With("hybrid.lora_targets", "[\"mlp\"]").Settings.Hybrid;
        Assert.Equal((4, 8.0), (on.LoraRank, on.LoraAlpha!.Value));
        Assert.Equal(["mlp"], on.LoraTargets);
        var bad = tiny.With("hybrid.lora_rank", "-1").With("hybrid.lora_alpha", "0").With("hybrid.lora_targets", "[\"embeddings\"]");
        var e = Assert.Throws<InvalidDataException>(() => bad.Settings);
        foreach (var key in new[] { "hybrid.lora_rank", "hybrid.lora_alpha", "hybrid.lora_targets" }) Assert.Contains(key, e.Message);
    }

    [Fact]
    public void TeacherFuzzySettingsAreTypedAndChecked()
    {
        var tiny = Recipe.Load("tiny");
        Assert.Equal((0.0, 0.5), (tiny.Settings.Teacher.Fuzzy, tiny.Settings.Teacher.FuzzyThreshold)); // off by default
        var on = tiny.With("teacher.fuzzy", "0.5").With("teacher.fuzzy_threshold", "0.7").Settings.Teacher;
        Assert.Equal((0.5, 0.7), (on.Fuzzy, on.FuzzyThreshold));
        var bad = tiny.With("teacher.fuzzy", "1.5").With("teacher.fuzzy_threshold", "0");
        var e = Assert.Throws<InvalidDataException>(() => bad.Settings);
        foreach (var key in new[] { "teacher.fuzzy", "teacher.fuzzy_threshold" }) Assert.Contains($"'{key}'", e.Message);
    }

    /// <summary>Each leaf of defaults.json binds to one typed field (no key left over, none missing), and each typed field is
    /// used outside the binding: a setting can be neither accepted and ignored nor typed and ignored.</summary>
    [Fact]
    public void EveryDefaultKeyBindsToATypedFieldAndEveryFieldIsRead()
    {
        var root = (JsonObject)JsonNode.Parse(Recipe.FromJson("{}").ToJson())!;
        var (_, problems) = RecipeSettings.Bind(root);
        Assert.Empty(problems);

        var fields = Fields(typeof(RecipeSettings)).ToList();
        Assert.Equal(Leaves(root).Count(), fields.Count);

        string src = Path.Combine(RepoPaths.FindRepoRoot()!, "src");
        // Binding never names a field as ".Field" (it assigns "Field = r.Int(...)" or passes positional arguments), so a
        // ".Field" anywhere in src/ is a use. A name also used by other types (Steps, Enabled) is a weaker check than a
        // distinct one (PretrainSteps, DistillData); a field only a rule reads (a teacher size, in Config) counts as read.
        string code = string.Join("\n", Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories).Select(File.ReadAllText));
        var unread = fields.Where(f => !Regex.IsMatch(code, $@"\.{f.Name}\b")).Select(f => $"{f.DeclaringType!.Name}.{f.Name}").ToList();
        Assert.True(unread.Count == 0, "typed settings nothing reads: " + string.Join(", ", unread));
    }

    static IEnumerable<PropertyInfo> Fields(Type t) =>
        t.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.Name != "EqualityContract")
            .SelectMany(p => p.PropertyType.Name.EndsWith("Settings", StringComparison.Ordinal) && p.PropertyType != t ? Fields(p.PropertyType) : [p])
            .Where(p => p.GetMethod!.GetCustomAttribute<System.Runtime.CompilerServices.CompilerGeneratedAttribute>() is not null);

    static IEnumerable<string> Leaves(JsonObject o, string prefix = "") =>
        o.SelectMany(kv => kv.Value is JsonObject section ? Leaves(section, prefix + kv.Key + ".") : [prefix + kv.Key]);
}
