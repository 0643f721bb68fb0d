using System.Text.Json.Nodes;
using LightGlm.Experiments;
using LightGlm.Experiments.Recipes;

namespace LightGlm.Tests.Experiments;

public class RecipeRunnerTests
{
    sealed class CountingStage(string name, Func<StageContext, JsonObject>? body = null) : IRecipeStage
    {
        public int Runs;
        public string Name => name;
        public string Description => name;
        public JsonObject Run(StageContext c) { Runs++; return body?.Invoke(c) ?? new JsonObject { ["n"] = Runs }; }
    }

    [Fact]
    public void SecondRunContinuesAfterTheLastFinishedStage()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"runner-{Guid.NewGuid():N}");
        try
        {
            var a = new CountingStage("a");
            bool fail = true;
            var b = new CountingStage("b", c => fail ? throw new OperationCanceledException() : new JsonObject { ["from_a"] = c.ResultOf("a")["n"]!.DeepClone() });
            var runner = new RecipeRunner([a, b]);
            var recipe = Recipe.Load("quick");
            Assert.Throws<OperationCanceledException>(() => runner.Run(recipe, new RunDirectory(dir), _ => NullProgress.Instance, default));
            Assert.Equal(1, a.Runs);
            fail = false;
            runner.Run(recipe, new RunDirectory(dir), _ => NullProgress.Instance, default);
            Assert.Equal(1, a.Runs); // not repeated
            Assert.Equal(2, b.Runs);
            var run = new RunDirectory(dir);
            Assert.Equal(1, (int)run.StageResult("b")!["from_a"]!);
            Assert.True(File.Exists(run.PathOf("config.json")));
            Assert.True(File.Exists(run.PathOf("machine.json")));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void UntilStopsAfterTheNamedStageAndRejectsUnknownNames()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"runner-{Guid.NewGuid():N}");
        try
        {
            var a = new CountingStage("a");
            var b = new CountingStage("b");
            var runner = new RecipeRunner([a, b]);
            runner.Run(Recipe.Load("quick"), new RunDirectory(dir), _ => NullProgress.Instance, default, until: "a");
            Assert.Equal((1, 0), (a.Runs, b.Runs));
            Assert.Throws<ArgumentException>(() => runner.Run(Recipe.Load("quick"), new RunDirectory(dir), _ => NullProgress.Instance, default, until: "zzz"));
        }
        finally { Directory.Delete(dir, true); }
    }
}

public class StageSharingTests
{
    sealed class Stage(string name, string[] reads) : IRecipeStage
    {
        public int Runs;
        public string Name => name;
        public string Description => name;
        public IReadOnlyList<string> Reads => reads;
        public JsonObject Run(StageContext c) { Runs++; return new JsonObject { ["made_in"] = c.Run.Root }; }
    }

    [Fact]
    public void ARunTakesOverTheStagesWhoseSettingsAreUnchangedAndRedoesTheRest()
    {
        string root = Path.Combine(Path.GetTempPath(), $"share-{Guid.NewGuid():N}");
        try
        {
            var corpus = new Stage("corpus", ["corpus"]);
            var teacher = new Stage("teacher", ["teacher"]);
            var hybrid = new Stage("hybrid", ["hybrid"]);
            var report = new Stage("report", ["*"]);
            var runner = new RecipeRunner([corpus, teacher, hybrid, report]);
            var a = new RunDirectory(Path.Combine(root, "a"));
            var recipe = Recipe.Load("tiny");
            runner.Run(recipe, a, _ => NullProgress.Instance, default);
            Assert.Equal((1, 1, 1, 1), (corpus.Runs, teacher.Runs, hybrid.Runs, report.Runs));

            // Another hybrid setting: corpus and teacher are shared, hybrid and report run again.
            var b = new RunDirectory(Path.Combine(root, "b"));
            runner.Run(recipe.With("hybrid.alpha", "0.5"), b, _ => NullProgress.Instance, default, donors: [a]);
            Assert.Equal((1, 1, 2, 2), (corpus.Runs, teacher.Runs, hybrid.Runs, report.Runs));
            Assert.Equal(a.Root, (string)b.StageResult("teacher")!["made_in"]!);
            Assert.Equal(a.Root, (string)b.StageResult("teacher")!["shared_from"]!);
            Assert.Equal(b.Root, (string)b.StageResult("hybrid")!["made_in"]!);

            // A teacher setting changes everything from the teacher on.
            var c = new RunDirectory(Path.Combine(root, "c"));
            runner.Run(recipe.With("teacher.learning_rate", "0.001"), c, _ => NullProgress.Instance, default, donors: [a, b]);
            Assert.Equal((1, 2, 3, 3), (corpus.Runs, teacher.Runs, hybrid.Runs, report.Runs));

            // Switching a stage off changes which stages come before the later ones: nothing after it is shared.
            var d = new RunDirectory(Path.Combine(root, "d"));
            var noHybrid = recipe.With("hybrid.enabled", "false");
            var runner2 = new RecipeRunner([corpus, teacher, new HybridSwitch(hybrid), report]);
            runner2.Run(noHybrid, d, _ => NullProgress.Instance, default, donors: [a]);
            Assert.Equal((1, 2, 3, 4), (corpus.Runs, teacher.Runs, hybrid.Runs, report.Runs));
        }
        finally { Directory.Delete(root, true); }
    }

    sealed class HybridSwitch(Stage inner) : IRecipeStage
    {
        public string Name => inner.Name;
        public string Description => inner.Description;
        public IReadOnlyList<string> Reads => inner.Reads;
        public bool IsEnabled(Recipe recipe) => recipe.Get<bool>("hybrid.enabled");
        public JsonObject Run(StageContext c) => inner.Run(c);
    }

    [Fact]
    public void ARunDirectoryRefusesToContinueWithOtherSettings()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"cfg-{Guid.NewGuid():N}");
        try
        {
            var runner = new RecipeRunner([new Stage("corpus", ["corpus"])]);
            runner.Run(Recipe.Load("tiny"), new RunDirectory(dir), _ => NullProgress.Instance, default);
            var e = Assert.Throws<InvalidOperationException>(() =>
                runner.Run(Recipe.Load("tiny").With("seed", "7"), new RunDirectory(dir), _ => NullProgress.Instance, default));
            Assert.Contains("other settings", e.Message);
            Assert.Contains("seed (1234 → 7)", e.Message); // which setting, so the user knows which --set continues the run
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>
    /// A run started by an older build lacks the settings added since: at their defaults the run continues (as before
    /// teacher.fuzzy existed), set to anything else it is refused as a changed setting.
    /// </summary>
    [Fact]
    public void ARunStartedBeforeASettingExistedContinuesAtItsDefault()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"cfg-old-{Guid.NewGuid():N}");
        try
        {
            var runner = new RecipeRunner([new Stage("corpus", ["corpus"]), new Stage("teacher", ["teacher"])]);
            runner.Run(Recipe.Load("tiny"), new RunDirectory(dir), _ => NullProgress.Instance, default, until: "corpus");
            string cfg = Path.Combine(dir, "config.json");
            var saved = JsonNode.Parse(File.ReadAllText(cfg))!.AsObject();
            Assert.True(saved["teacher"]!.AsObject().Remove("fuzzy")); // as an older build wrote it
            File.WriteAllText(cfg, saved.ToJsonString());
            var e = Assert.Throws<InvalidOperationException>(() =>
                runner.Run(Recipe.Load("tiny").With("teacher.fuzzy", "0.5"), new RunDirectory(dir), _ => NullProgress.Instance, default));
            Assert.Contains("teacher.fuzzy", e.Message);
            runner.Run(Recipe.Load("tiny"), new RunDirectory(dir), _ => NullProgress.Instance, default);
            Assert.True(new RunDirectory(dir).IsStageDone("teacher"));
        }
        finally { Directory.Delete(dir, true); }
    }
}

public class SweepTests
{
    [Fact]
    public void GridIsEveryCombinationAndRandomDrawsAreSeededAndDistinct()
    {
        var axes = new[] { SweepAxis.Parse("teacher.learning_rate=0.001,0.002"), SweepAxis.Parse("hybrid.alpha=0.5,0.65,0.8") };
        var grid = Sweep.Trials(axes, null, 1);
        Assert.Equal(6, grid.Count);
        Assert.Equal(6, grid.Select(t => string.Join(";", t.Values)).Distinct().Count());
        var r1 = Sweep.Trials(axes, 4, seed: 3);
        var r2 = Sweep.Trials(axes, 4, seed: 3);
        Assert.Equal(4, r1.Count);
        Assert.Equal(r1.Select(t => string.Join(";", t.Values)), r2.Select(t => string.Join(";", t.Values)));
        Assert.Equal(4, r1.Select(t => string.Join(";", t.Values)).Distinct().Count());

        var ranges = new[] { SweepAxis.Parse("compression.temperature=1:4"), SweepAxis.Parse("teacher.learning_rate=log:1e-4:1e-2"), SweepAxis.Parse("compression.distill_steps=10:20") };
        foreach (var t in Sweep.Trials(ranges, 20, seed: 1))
        {
            Assert.InRange(double.Parse(t["compression.temperature"], System.Globalization.CultureInfo.InvariantCulture), 1, 4);
            Assert.InRange(double.Parse(t["teacher.learning_rate"], System.Globalization.CultureInfo.InvariantCulture), 1e-4, 1e-2);
            Assert.InRange(int.Parse(t["compression.distill_steps"]), 10, 20); // integer bounds draw integers
        }
    }

    [Fact]
    public void BadAxesAreRejectedWithWhatToWrite()
    {
        Assert.Contains("field=v1,v2", Assert.Throws<ArgumentException>(() => SweepAxis.Parse("teacher.learning_rate")).Message);
        Assert.Contains("lo ≤ hi", Assert.Throws<ArgumentException>(() => SweepAxis.Parse("x=5:1")).Message);
        Assert.Contains("--random", Assert.Throws<ArgumentException>(() => Sweep.Trials([SweepAxis.Parse("x=1:2")], null, 1)).Message);
        Assert.Throws<ArgumentException>(() => Sweep.Trials([], null, 1));
    }
}
