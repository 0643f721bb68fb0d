// Each architecture's tiny checkpoint, as PyTorch's faithful re-implementation saved it, gives the golden logits and greedy tokens here.
using LightGlm.Interop;
using LightGlm.Interop.Inference;

namespace LightGlm.Tests.Interop;

public sealed class HfGoldenTests
{
    /// <summary>fp32 compute on both sides, different summation orders: logits of magnitude ≲ 10 agree to ~1e-5.</summary>
    const float Tolerance = 2e-4f;

    public static TheoryData<string> Names() => new(HfGolden.All);

    static float[][] Logits(MappedDecoder d, int[] ids)
    {
        d.Reset();
        return ids.Select(t => d.Step(t).ToArray()).ToArray();
    }

    [Theory, MemberData(nameof(Names))]
    public void HfCheckpointRunsInPlaceAndMatchesGolden(string name)
    {
        var g = HfGolden.Load(name);
        using var w = MappedWeights.Open(g.Dir);
        var d = new MappedDecoder(w, 32);
        float diff = HfGolden.MaxDiff(g.Logits, Logits(d, g.InputIds));
        Assert.True(diff < Tolerance, $"{name}: max |logit diff| = {diff}");
        Assert.Equal(g.Greedy, d.Greedy(g.InputIds, g.Greedy.Length));
    }

    [Theory, MemberData(nameof(Names))]
    public void ImportedModelMatchesGolden(string name)
    {
        var g = HfGolden.Load(name);
        using var tmp = HfGolden.Temp();
        var report = HfImporter.Import(g.Dir, tmp.Path);
        Assert.True(File.Exists(Path.Combine(tmp.Path, "model.safetensors")));
        using var w = MappedWeights.Open(tmp.Path);
        Assert.Null(w.Architecture); // a LightGlm directory: our names, no mapping
        var d = new MappedDecoder(w, 32);
        float diff = HfGolden.MaxDiff(g.Logits, Logits(d, g.InputIds));
        Assert.True(diff < Tolerance, $"{name}: max |logit diff| = {diff}");
        Assert.Equal(g.Greedy, d.Greedy(g.InputIds, g.Greedy.Length));
        Assert.Equal(report.Config.ToJson(), w.Config.ToJson().Replace("\"lightglm\"", $"\"{report.Config.ModelType}\""));
    }
}
