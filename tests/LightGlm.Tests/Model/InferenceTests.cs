// KV-cache inference equals the training forward: prefill + one-token decode logits vs full-sequence logits.
using LightGlm.Model;
using LightGlm.Model.Inference;

namespace LightGlm.Tests.Model;

public class InferenceTests
{
    [Theory]
    [InlineData("glm", false)]
    [InlineData("glm", true)]
    [InlineData("llama", false)]
    public void DecodeLogitsEqualFullForwardLogits(string kind, bool prefixLm)
    {
        var c = kind == "glm" ? TinyModels.Glm() : TinyModels.Llama();
        var m = GlmModel.Create(c, seed: 3, std: 0.2);
        const int T = 9, P = 4;
        var rng = new Rng(8);
        var tokens = Enumerable.Range(0, T).Select(_ => rng.NextInt(c.V)).ToArray();

        // Full forward over the whole sequence (training path).
        var batch = Batch.From(1, T, tokens);
        if (prefixLm) batch.PrefixLengths = [P];
        var cache = m.CreateCache(1, T);
        m.Forward(cache, batch);
        var full = cache.Logits.Span.ToArray();

        // Prefill P tokens, then decode one at a time.
        var s = new InferenceSession(m, slots: 1, maxLength: T);
        var logits = new float[c.V];
        s.Prefill(0, tokens.AsSpan(0, P), logits, bidirectional: prefixLm);
        AssertClose(full.AsSpan((P - 1) * c.V, c.V), logits, $"prefill position {P - 1}");
        for (int t = P; t < T; t++)
        {
            s.Decode([0], [tokens[t]], logits);
            AssertClose(full.AsSpan(t * c.V, c.V), logits, $"decode position {t}");
        }
    }

    [Fact]
    public void BatchedDecodeEqualsSingleSequenceDecode()
    {
        var c = TinyModels.Glm();
        var m = GlmModel.Create(c, seed: 4, std: 0.2);
        int[][] prompts = [[1, 2, 3], [4, 5, 6, 7, 8], [9]];
        var single = prompts.Select(p =>
        {
            var s = new InferenceSession(m, 1, 12);
            var l = new float[c.V];
            s.Prefill(0, p, l);
            s.Decode([0], [5], l);
            return l;
        }).ToArray();
        var sb = new InferenceSession(m, 3, 12);
        var scratch = new float[c.V];
        for (int i = 0; i < 3; i++) sb.Prefill(i, prompts[i], scratch);
        var all = new float[3 * c.V];
        sb.Decode([0, 1, 2], [5, 5, 5], all);
        for (int i = 0; i < 3; i++) AssertClose(single[i], all.AsSpan(i * c.V, c.V), $"sequence {i}");
    }

    static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4f + 1e-4f * Math.Abs(expected[i]),
                $"{what}, vocab {i}: full forward {expected[i]}, KV cache {actual[i]}");
    }
}
