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
