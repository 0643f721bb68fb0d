// A model over a frozen weight source (GlmModel(InferenceWeights)), the way a 6B teacher is fine-tuned with LoRA in the
// memory of its 16-bit or int8 weights: over the model's own fp32 weights it is that model (loss and LoRA gradients,
// which LoraTests checks by finite differences); over a memory-mapped bf16 checkpoint it is the bf16-rounded model,
// through the tile path (rows widened to fp32, one sgemm per tile); over int8 weights its forward is the inference pass's.
using LightGlm.Interop;
using LightGlm.Interop.Inference;
using LightGlm.Kernels.Quantized;
using LightGlm.Model;
using LightGlm.Model.Checkpoints;
using LightGlm.Model.Inference;
using LightGlm.Model.Lora;

namespace LightGlm.Tests.Model.Lora;

public sealed class FrozenBaseTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("lightglm-frozen-").FullName;
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    /// <summary>The same adapters (B drawn, so dA ≠ 0) attached to <paramref name="model"/>.</summary>
    static LoraAdapters Attach(GlmModel model, ulong seed = 11)
    {
        var l = new LoraAdapters(model.Config, new LoraOptions(Rank: 3, Alpha: 6, Attention: true, Mlp: true), seed);
        var rng = new Rng(seed + 1);
        foreach (var t in l.Tensors)
            if (t.Name.EndsWith(".lora_B.weight", StringComparison.Ordinal))
                for (int i = 0; i < t.Length; i++) l.Weights[t.Offset + i] = (float)(rng.NextGaussian() * 0.3);
        model.AttachLora(l);
        return l;
    }

    static (double Loss, float[] Grads) Step(GlmModel model, LoraAdapters lora, Batch batch)
    {
        var cache = model.CreateCache(batch.B, batch.T, dropout: false);
        Array.Clear(lora.Grads);
        double loss = model.ForwardLoss(cache, batch);
        model.Backward(cache, batch);
        return (loss, (float[])lora.Grads.Clone());
    }

    internal static void Close(float[] expected, float[] actual, float tol)
    {
        Assert.Equal(expected.Length, actual.Length);
        float scale = Math.Max(1e-3f, expected.Max(Math.Abs));
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol * scale, $"[{i}]: expected {expected[i]}, got {actual[i]} (scale {scale})");
    }

    [Theory]
    [InlineData("glm")]
    [InlineData("llama")]
    public void AFrozenBaseOverTheModelsOwnWeightsIsTheModel(string kind)
    {
        var c = kind == "glm" ? TinyModels.Glm() : TinyModels.Llama();
        var model = GlmModel.Create(c, seed: 7, std: 0.3);
        var frozen = new GlmModel(InferenceWeights.Fp32(model));
        Assert.True(frozen.Weights.Length < model.Weights.Length / 10, $"the frozen model's arena holds {frozen.Weights.Length} values");
        var batch = TinyModels.RandomBatch(c, 3, 6, seed: 3, prefix: kind == "glm");
        var a = Step(model, Attach(model), batch);
        var frozenLora = Attach(frozen);
        var b = Step(frozen, frozenLora, batch);
        Assert.Equal(a.Loss, b.Loss, 5);
        Close(a.Grads, b.Grads, 1e-4f);
        Assert.False(frozen.HasGrads, "the frozen base's gradient arena was allocated");
        Assert.Throws<InvalidOperationException>(() => frozen.MergeLora());
        var bare = new GlmModel(InferenceWeights.Fp32(model));
        var cache = bare.CreateCache(3, 6, dropout: false);
        bare.ForwardLoss(cache, batch);
        Assert.Throws<InvalidOperationException>(() => bare.Backward(cache, batch));
    }

    [Fact]
    public void AFrozenBaseOverAMappedBf16CheckpointIsTheBf16RoundedModel()
    {
        var c = TinyModels.Llama(vocab: 40);
        var model = GlmModel.Create(c, seed: 9, std: 0.3);
        ModelDirectory.Save(model, Path.Combine(_dir, "fp32"));
        HfExporter.Export(Path.Combine(_dir, "fp32"), HfArchitecture.Llama, Path.Combine(_dir, "bf16"), TensorDType.BF16);
        // The reference: the same weights rounded to bf16 as the export rounds them, in an ordinary fp32 model.
        var bits = new ushort[model.Weights.Length];
        TensorDTypes.SingleToBFloat16(model.Weights, bits);
        TensorDTypes.BFloat16ToSingle(bits, model.Weights);
        using var mapped = MappedWeights.Open(Path.Combine(_dir, "bf16"));
        var frozen = new GlmModel(MappedInferenceWeights.Create(mapped));
        // 4 × 5 = 20 rows: more than Projection.SmallRows, so every projection and the head run the widened-tile GEMMs.
        var batch = TinyModels.RandomBatch(c, 4, 5, seed: 5);
        var a = Step(model, Attach(model), batch);
        var b = Step(frozen, Attach(frozen), batch);
        Assert.Equal(a.Loss, b.Loss, 4);
        Close(a.Grads, b.Grads, 1e-3f);
    }

    [Theory]
    [InlineData("glm")]
    [InlineData("llama")]
    public void TheMergedCopyOfAFrozenBaseGivesTheAdaptedLogits(string kind)
    {
        var c = kind == "glm" ? TinyModels.Glm(vocab: 40) : TinyModels.Llama(vocab: 40);
        var model = GlmModel.Create(c, seed: 21, std: 0.3);
        var frozen = new GlmModel(InferenceWeights.Fp32(model));
        Attach(frozen);
        var batch = TinyModels.RandomBatch(c, 2, 6, seed: 23, prefix: kind == "glm");
        var cache = frozen.CreateCache(2, 6, dropout: false);
        frozen.Forward(cache, batch);
        var adapted = cache.Logits.Span.ToArray();
        FrozenMerge.Save(frozen, Path.Combine(_dir, "merged"), _dir, TensorDType.F32);
        var merged = ModelDirectory.Load(Path.Combine(_dir, "merged"));
        var mc = merged.CreateCache(2, 6, dropout: false);
        merged.Forward(mc, batch);
        Close(adapted, mc.Logits.Span.ToArray(), 1e-5f);
        // Without the update the copy is the base: the adapters did change the logits.
        var bc = model.CreateCache(2, 6, dropout: false);
        model.Forward(bc, batch);
        Assert.Contains(Enumerable.Range(0, adapted.Length), i => Math.Abs(adapted[i] - bc.Logits.Span[i]) > 1e-3);
    }
}

/// <summary>The frozen base runs GEMMs over dequantized tiles; the inference pass, on T ≤ 8 rows, would quantize its
/// inputs to int8 (QuantizedMatVec's default). Equality holds for its fp32-activation kernel, so this test sets it and
/// runs alone (QuantizedActivationsOwners).</summary>
[Collection(nameof(QuantizedActivationsOwners))]
public class FrozenBaseOverQuantizedWeightsTests
{
    [Theory]
    [InlineData(WeightFormat.Int8)]
    [InlineData(WeightFormat.Int4)]
    public void AFrozenBaseForwardOverQuantizedWeightsIsTheInferencePass(WeightFormat format)
    {
        var c = TinyModels.Glm(vocab: 40);
        var model = GlmModel.Create(c, seed: 13, std: 0.3);
        var q = InferenceWeights.Create(model, format, 32);
        var frozen = new GlmModel(q);
        int B = 2, T = 6;
        var batch = TinyModels.RandomBatch(c, B, T, seed: 17, prefix: true);
        var cache = frozen.CreateCache(B, T, dropout: false);
        frozen.Forward(cache, batch);
        var session = new InferenceSession(q, 1, T);
        var logits = new float[T * c.V];
        var was = QuantizedMatVec.Activations;
        try
        {
            QuantizedMatVec.Activations = QuantActivations.Float;
            for (int b = 0; b < B; b++)
            {
                session.ForwardSequence(batch.Tokens.AsSpan(b * T, T), batch.PrefixLengths![b], logits);
                FrozenBaseTests.Close(logits, cache.Logits.Span.Slice(b * T * c.V, T * c.V).ToArray(), 2e-4f);
            }
        }
        finally { QuantizedMatVec.Activations = was; }
    }
}
