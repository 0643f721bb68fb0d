// Each architecture's tiny checkpoint, as PyTorch's faithful re-implementation saved it, gives the golden logits and greedy tokens here.
using LightGlm.Interop;
using LightGlm.Interop.Inference;
using LightGlm.Model.Inference;

namespace LightGlm.Tests.Interop;

public sealed class HfGoldenTests
{
    /// <summary>fp32 compute on both sides, different summation orders: logits of magnitude ≲ 10 agree to ~1e-5.</summary>
    const float Tolerance = 2e-4f;

    public static TheoryData<string> Names() => new(HfGolden.All);

    static float[][] Logits(SequenceDecoder d, int[] ids)
    {
        d.Reset();
        return ids.Select(t => d.Step(t).ToArray()).ToArray();
    }

    /// <summary>The one forward pass over the checkpoint's weights left mapped in their stored dtype.</summary>
    internal static SequenceDecoder Mapped(MappedWeights w, int maxTokens = 32) => new(MappedInferenceWeights.Create(w), maxTokens);

    [Theory, MemberData(nameof(Names))]
    public void HfCheckpointRunsInPlaceAndMatchesGolden(string name)
    {
        var g = HfGolden.Load(name);
        using var w = MappedWeights.Open(g.Dir);
        var d = Mapped(w);
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
        var d = Mapped(w);
        float diff = HfGolden.MaxDiff(g.Logits, Logits(d, g.InputIds));
        Assert.True(diff < Tolerance, $"{name}: max |logit diff| = {diff}");
        Assert.Equal(g.Greedy, d.Greedy(g.InputIds, g.Greedy.Length));
        Assert.Equal(report.Config.ModelJson(), w.Config.ModelJson().Replace("\"lightglm\"", $"\"{report.Config.ModelType}\""));
        Assert.True(w.Config.OtherFields?.ContainsKey("imported_from"), "the provenance written by import is kept in the config");
    }

    /// <summary>
    /// The whole prompt in one prefill (one GEMM per projection over widened tiles of the mapped rows) gives the golden
    /// logits of its last token; and int8 weights quantized straight from the mapped checkpoint match the same int8
    /// weights quantized from the engine's arena of the imported model.
    /// </summary>
    [Theory, MemberData(nameof(Names))]
    public void MappedPrefillAndQuantizationAgreeWithTheEngine(string name)
    {
        var g = HfGolden.Load(name);
        using var w = MappedWeights.Open(g.Dir);
        var d = Mapped(w);
        var last = d.Forward(g.InputIds).ToArray();
        Assert.True(HfGolden.MaxDiff([g.Logits[^1]], [last]) < Tolerance, $"{name}: prefill's last logits differ from the golden ones");

        using var tmp = HfGolden.Temp();
        HfImporter.Import(g.Dir, tmp.Path);
        var model = LightGlm.Model.Checkpoints.ModelDirectory.Load(tmp.Path);
        var fromArena = new SequenceDecoder(InferenceWeights.Create(model, WeightFormat.Int8), 32).Forward(g.InputIds).ToArray();
        var fromMapped = new SequenceDecoder(InferenceWeights.Quantize(MappedInferenceWeights.Create(w), WeightFormat.Int8), 32).Forward(g.InputIds).ToArray();
        Assert.True(HfGolden.MaxDiff([fromArena], [fromMapped]) < Tolerance, $"{name}: int8 from the mapped checkpoint differs from int8 from the arena");
        Assert.True(HfGolden.MaxDiff([g.Logits[^1]], [fromMapped]) > 0, "int8 should not be bit-identical to fp32");
    }
}
