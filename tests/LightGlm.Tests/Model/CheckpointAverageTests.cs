// Checkpoint averaging: the mean of the weights, by step order from a checkpoint folder, refused across models; the CLI
// writes the average as a model directory with the tokenizer of the first.
using LightGlm.Model;
using LightGlm.Model.Checkpoints;
using LightGlm.Tests.Interop;

namespace LightGlm.Tests.Model;

public sealed class CheckpointAverageTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "lightglm-avg-" + Guid.NewGuid().ToString("N"));
    public CheckpointAverageTests() => Directory.CreateDirectory(_dir);
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    string Save(GlmModel m, string name)
    {
        string d = Path.Combine(_dir, name);
        ModelDirectory.Save(m, d);
        return d;
    }

    [Fact]
    public void AverageIsTheElementWiseMean()
    {
        var models = new[] { 1UL, 2UL, 3UL }.Select(s => GlmModel.Create(TinyModels.Glm(), seed: s)).ToArray();
        var dirs = models.Select((m, i) => Save(m, $"step-00000{i}")).ToArray();
        var avg = CheckpointAverage.Average(dirs);
        for (int i = 0; i < avg.Weights.Length; i++)
            Assert.Equal((models[0].Weights[i] + (double)models[1].Weights[i] + models[2].Weights[i]) / 3, avg.Weights[i], 6);
        Assert.NotEqual(models[0].Weights, avg.Weights); // not the first model handed back
    }

    [Fact]
    public void LastPicksTheNewestStepsInStepOrder()
    {
        var m = GlmModel.Create(TinyModels.Glm(), seed: 1);
        foreach (var step in new[] { 900, 1000, 10000, 9500 }) Save(m, $"step-{step:D6}");
        Directory.CreateDirectory(Path.Combine(_dir, "step-000050")); // no config.json: an interrupted write, not a checkpoint
        Assert.Equal(["step-009500", "step-010000"], CheckpointAverage.Last(_dir, 2).Select(Path.GetFileName));
        var e = Assert.Throws<InvalidDataException>(() => CheckpointAverage.Last(_dir, 5));
        Assert.Contains("4 checkpoints", e.Message);
    }

    [Fact]
    public void ModelsOfAnotherShapeAreRefusedByName()
    {
        var a = Save(GlmModel.Create(TinyModels.Glm(), seed: 1), "a");
        var b = Save(GlmModel.Create(TinyModels.Glm(vocab: 17), seed: 1), "b");
        var e = Assert.Throws<InvalidDataException>(() => CheckpointAverage.Average([a, b]));
        Assert.Contains("b: its config.json differs", e.Message);
    }

    [Fact]
    public void CliWritesTheAverageWithTheTokenizer()
    {
        var a = Save(GlmModel.Create(TinyModels.Glm(), seed: 1), "step-000100");
        var b = Save(GlmModel.Create(TinyModels.Glm(), seed: 2), "step-000200");
        File.WriteAllText(Path.Combine(a, "tokenizer.json"), "{}");
        string outDir = Path.Combine(_dir, "out", "avg");
        var (code, stdout, err) = ImportCliTests.Run("average", "--checkpoints", _dir, "--last", "2", "--out", outDir);
        Assert.True(code == 0, err);
        Assert.Contains("averaged 2 checkpoints", stdout);
        Assert.Equal(CheckpointAverage.Average([a, b]).Weights, ModelDirectory.Load(outDir).Weights);
        Assert.True(File.Exists(Path.Combine(outDir, "tokenizer.json")));
        var (bad, _, msg) = ImportCliTests.Run("average", a, "--out", outDir);
        Assert.Equal(2, bad);
        Assert.Contains("at least two", msg);
    }
}
