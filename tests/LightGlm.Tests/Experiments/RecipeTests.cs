using System.Text.Json.Nodes;
using LightGlm.Experiments.Recipes;

namespace LightGlm.Tests.Experiments;

public class RecipeTests
{
    [Fact]
    public void PresetsOverlayDefaults()
    {
        Assert.Contains("quick", Recipe.PresetNames);
        Assert.Contains("paper", Recipe.PresetNames);
        var quick = Recipe.Load("quick");
        var paper = Recipe.Load("paper");
        Assert.Equal("quick", quick.Name);
        Assert.Equal(2, quick.Get<int>("teacher.num_hidden_layers")); // the defaults have 6
        Assert.Equal(512, paper.Get<int>("teacher.hidden_size"));
        Assert.Equal(0.65, paper.Get<double>("hybrid.alpha"), 12);
        // A setting the paper preset leaves alone keeps the default.
        Assert.Equal(quick.Get<double>("teacher.grad_clip"), paper.Get<double>("teacher.grad_clip"));
    }

    [Fact]
    public void YamlFileOverlaysItsBasePreset()
    {
        string path = Path.Combine(Path.GetTempPath(), $"recipe-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, "base: paper\nname: mine\nteacher:\n  learning_rate: 0.0003\n  pipeline_stages: 4\nhybrid:\n  enabled: false\n");
        try
        {
            var r = Recipe.Load(path);
            Assert.Equal("mine", r.Name);
            Assert.Equal(0.0003, r.Get<double>("teacher.learning_rate"), 12);
            Assert.Equal(4, r.Get<int>("teacher.pipeline_stages"));
            Assert.False(r.Get<bool>("hybrid.enabled"));
            Assert.Equal(512, r.Get<int>("teacher.hidden_size")); // from the paper preset
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void UnknownKeysAndWrongKindsAreAllReported()
    {
        var e = Assert.Throws<InvalidDataException>(() =>
            Recipe.FromJson("""{ "teacher": { "hiden_size": 3, "learning_rate": "fast" }, "nonsense": 1 }"""));
        Assert.Contains("teacher.hiden_size", e.Message);
        Assert.Contains("teacher.learning_rate", e.Message);
        Assert.Contains("nonsense", e.Message);
        Assert.Contains("3 problem(s)", e.Message);
    }

    [Fact]
    public void WithReplacesOneSettingAndChecksIt()
    {
        var r = Recipe.Load("quick");
        var r2 = r.With("compression.temperature", "2.5");
        Assert.Equal(2.5, r2.Get<double>("compression.temperature"), 12);
        Assert.Equal(1.0, r.Get<double>("compression.temperature"), 12); // original untouched
        Assert.Throws<InvalidDataException>(() => r.With("compression.temprature", "2"));
        Assert.Throws<InvalidDataException>(() => r.With("compression.temperature", "\"hot\""));
    }

    [Fact]
    public void MissingFileNamesTheRecipeAndThePresets()
    {
        var e = Assert.Throws<FileNotFoundException>(() => Recipe.Load("/nonexistent/r.json"));
        Assert.Contains("/nonexistent/r.json", e.Message);
        Assert.Contains("quick", e.Message);
    }
}
