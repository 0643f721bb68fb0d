// An imported checkpoint is a normal LightGlm model directory: the model engine (GlmModel + InferenceSession) loads it and reproduces the golden logits.
using LightGlm.Interop;
using LightGlm.Model.Checkpoints;
using LightGlm.Model.Inference;

namespace LightGlm.Tests.Interop;

public sealed class ImportedModelEngineTests
{
    public static TheoryData<string> Names() => new(HfGolden.All);

    [Theory, MemberData(nameof(Names))]
    public void EngineForwardOfImportedModelMatchesGolden(string name)
    {
        var g = HfGolden.Load(name);
        using var tmp = HfGolden.Temp();
        HfImporter.Import(g.Dir, tmp.Path);
        var model = ModelDirectory.Load(tmp.Path);
        var session = new InferenceSession(model, 1, g.InputIds.Length + g.Greedy.Length);
        var logits = new float[model.Config.V];
        var ours = new float[g.InputIds.Length][];
        for (int t = 0; t < g.InputIds.Length; t++)
        {
            session.Prefill(0, [g.InputIds[t]], logits);
            ours[t] = (float[])logits.Clone();
        }
        float diff = HfGolden.MaxDiff(g.Logits, ours);
        Assert.True(diff < 2e-4f, $"{name}: engine max |logit diff| = {diff}");
        var greedy = new List<int>();
        for (int i = 0; i < g.Greedy.Length; i++)
        {
            int next = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(logits);
            greedy.Add(next);
            if (i + 1 < g.Greedy.Length) session.Prefill(0, [next], logits);
        }
        Assert.Equal(g.Greedy, greedy);
    }
}
