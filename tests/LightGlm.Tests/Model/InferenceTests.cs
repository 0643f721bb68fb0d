// KV-cache inference equals the training forward: prefill + one-token decode logits vs full-sequence logits.
using LightGlm.Kernels.Quantized;
using LightGlm.Model;
using LightGlm.Model.Inference;
using Xunit.Abstractions;

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

    internal static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4f + 1e-4f * Math.Abs(expected[i]),
                $"{what}, vocab {i}: full forward {expected[i]}, KV cache {actual[i]}");
    }

    [Fact]
    public void MultiPromptPrefillEqualsOnePromptAtATime()
    {
        var c = TinyModels.Glm();
        var m = GlmModel.Create(c, seed: 5, std: 0.2);
        int[][] prompts = [[1, 2, 3, 4, 5, 6, 7], [8], [9, 10, 11], [3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3]];
        foreach (bool bidi in new[] { false, true })
        {
            var one = new InferenceSession(m, 4, 20);
            var each = new float[4 * c.V];
            for (int i = 0; i < 4; i++) one.Prefill(i, prompts[i], each.AsSpan(i * c.V, c.V), bidi);
            // maxRows 16: the first three prompts share one pass, the fourth gets its own.
            var many = new InferenceSession(m, 4, 20, maxRows: 16);
            var all = new float[4 * c.V];
            many.Prefill([0, 1, 2, 3], prompts, all, bidi);
            AssertClose(each, all, $"prefill logits (bidirectional {bidi})");
            var d1 = new float[4 * c.V]; var d2 = new float[4 * c.V];
            one.Decode([0, 1, 2, 3], [4, 4, 4, 4], d1);
            many.Decode([0, 1, 2, 3], [4, 4, 4, 4], d2);
            AssertClose(d1, d2, $"decode after prefill (bidirectional {bidi})");
        }
    }

    /// <summary>A copy of <paramref name="m"/> whose projections and head hold their dequantized int8/int4 values.</summary>
    internal static GlmModel Dequantized(GlmModel m, QuantFormat f)
    {
        var copy = new GlmModel(m.Config);
        m.Weights.CopyTo(copy.Weights, 0);
        var c = m.Config;
        var lo = m.Layout;
        void Replace(int offset, int rows, int cols)
        {
            var q = QuantizedMatrix.Quantize(m.Weights.AsSpan(offset, rows * cols), rows, cols, f);
            q.Dequantize().CopyTo(copy.Weights, offset);
        }
        foreach (var b in lo.Blocks)
        {
            Replace(b.Qkv, c.QkvDim, c.C);
            Replace(b.O, c.C, c.H * c.D);
            Replace(b.GateUp, 2 * c.F, c.C);
            Replace(b.Down, c.C, c.F);
        }
        Replace(lo.LmHead, c.V, c.C);
        return copy;
    }

    internal static ModelConfig Medium() => new()
    {
        ModelType = "chatglm", VocabSize = 50, HiddenSize = 64, NumHiddenLayers = 2, NumAttentionHeads = 4, NumKeyValueHeads = 2,
        IntermediateSize = 96, PartialRotaryFactor = 0.5, RopeInterleaved = true, AttentionBias = true, PrefixLm = true, MaxPositionEmbeddings = 64,
    };

    /// <summary>Logits of a 12-token bidirectional prefill (quantized prefill = dequantized tiles + GEMM), then 4 decoded
    /// tokens for 3 sequences at once (quantized matrix-vector kernel) and 3 for one (n = 1).</summary>
    internal static List<float[]> Trace(GlmModel m, InferenceWeights? w)
    {
        var s = new InferenceSession(m, 3, 32, weights: w);
        int V = m.Config.V;
        var outs = new List<float[]>();
        int[][] prompts = [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [13, 14], [15, 16, 17, 18, 19]];
        var l = new float[3 * V];
        s.Prefill([0, 1, 2], prompts, l, bidirectional: true);
        outs.Add(l.ToArray());
        for (int t = 0; t < 4; t++) { s.Decode([0, 1, 2], [20 + t, 30 + t, 40 + t], l); outs.Add(l.ToArray()); }
        for (int t = 0; t < 3; t++) { s.Decode([1], [t + 2], l.AsSpan(0, V)); outs.Add(l[..V]); }
        return outs;
    }

    /// <summary>
    /// The stated accuracy of weight-only quantization (group 32, round to nearest) on a random model (2 layers, C 64):
    /// at every prefill/decode step, ‖logits_q − logits‖₂ / ‖logits‖₂ stays under 5% for int8 and 50% for int4.
    /// Per weight the error is ≤ d/2 (d = group max / 127 or / 7), i.e. RMS ≈ 0.5% (int8) or ≈ 9% (int4) of a
    /// Gaussian weight's σ; the layers amplify it a few times.
    /// </summary>
    [Theory]
    [InlineData(WeightFormat.Int8, 0.05)]
    [InlineData(WeightFormat.Int4, 0.50)]
    public void QuantizedLogitsStayWithinTheStatedBoundOfFp32(WeightFormat wf, double bound)
    {
        var m = GlmModel.Create(Medium(), seed: 7, std: 0.1);
        var q = InferenceWeights.Create(m, wf);
        Assert.True(q.ProjectionBytes < InferenceWeights.Fp32(m).ProjectionBytes / (wf == WeightFormat.Int8 ? 3 : 5));
        // What inference holds: fp32 = every parameter; quantized = the rest fp32 plus the projections as stored.
        Assert.Equal(m.Layout.TotalLength * 4L, InferenceWeights.Fp32(m).HeldBytes);
        Assert.Equal(m.Layout.TotalLength * 4L - InferenceWeights.Fp32(m).ProjectionBytes + q.ProjectionBytes, q.HeldBytes);
        var got = Trace(m, q);
        var want = Trace(m, null);
        double worst = 0;
        for (int i = 0; i < got.Count; i++)
        {
            double norm = Math.Sqrt(want[i].Sum(v => (double)v * v));
            double err = Math.Sqrt(want[i].Zip(got[i], (a, b) => (double)(a - b) * (a - b)).Sum());
            worst = Math.Max(worst, err / norm);
        }
        Assert.True(worst > 0, "quantization changed nothing: the quantized weights were not used");
        Assert.True(worst < bound, $"{wf}: relative logit error {worst:F4} exceeds {bound}");
    }

    [Theory]
    [InlineData("glm", 0)]
    [InlineData("glm", 4)]
    [InlineData("llama", 0)]
    public void WholeSequenceLogitsEqualTheTrainingForwardAtEveryPosition(string kind, int prefix)
    {
        var c = kind == "glm" ? TinyModels.Glm() : TinyModels.Llama();
        var m = GlmModel.Create(c, seed: 5, std: 0.2);
        const int T = 9;
        var rng = new Rng(11);
        var tokens = Enumerable.Range(0, T).Select(_ => rng.NextInt(c.V)).ToArray();
        var batch = Batch.From(1, T, tokens);
        batch.PrefixLengths = [prefix];
        var cache = m.CreateCache(1, T);
        m.Forward(cache, batch);
        var full = cache.Logits.Span.ToArray();

        var s = new InferenceSession(m, slots: 1, maxLength: T);
        var logits = new float[T * c.V];
        s.ForwardSequence(tokens, prefix, logits);
        AssertClose(full, logits, $"prefix {prefix}");
        if (prefix > 0) // the prefix mask is the one used: a causal pass differs at the prompt's positions
        {
            var causal = new float[T * c.V];
            s.ForwardSequence(tokens, 0, causal);
            Assert.True(Math.Abs(causal[0] - logits[0]) > 1e-4f);
        }
    }

    [Fact]
    public void BlockByBlockAndAnUnmaskedMaskEqualTheWholeSequenceExactly()
    {
        var c = TinyModels.Glm();
        var m = GlmModel.Create(c, seed: 6, std: 0.2);
        int[] tokens = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5];
        const int prefix = 5;
        var s = new InferenceSession(m, slots: 1, maxLength: 16);
        var whole = new float[tokens.Length * c.V];
        s.ForwardSequence(tokens, prefix, whole);

        var x = new float[tokens.Length * c.C];
        s.Embed(tokens, x);
        for (int l = 0; l < c.L; l++) s.ForwardBlock(l, x, prefix);
        var blocks = new float[tokens.Length * c.V];
        s.Logits(x, blocks);
        Assert.Equal(whole, blocks);

        s.Mask = new StructureMask(c);
        var masked = new float[tokens.Length * c.V];
        s.ForwardSequence(tokens, prefix, masked);
        Assert.Equal(whole, masked);
        s.Mask.Layers[1] = false; // and a mask is read on every pass
        s.ForwardSequence(tokens, prefix, masked);
        Assert.NotEqual(whole, masked);
        Assert.Throws<ArgumentException>(() => s.Mask = new StructureMask(c.L + 1, c.C, c.H, c.KV, c.D, c.F));
    }

    [Fact]
    public void AWholeSequenceWithoutAnObserverAllocatesNoMoreThanAPrefill()
    {
        var c = Medium();
        var m = GlmModel.Create(c, seed: 9, std: 0.1);
        var s = new InferenceSession(m, 1, 32);
        var tokens = Enumerable.Range(0, 24).Select(i => (i * 7) % c.V).ToArray();
        var all = new float[tokens.Length * c.V];
        var last = new float[c.V];
        long Bytes(Action run)
        {
            for (int i = 0; i < 3; i++) run(); // warm-up (thread-local scratch, the attention buffer)
            long before = GC.GetAllocatedBytesForCurrentThread();
            const int reps = 10;
            for (int i = 0; i < reps; i++) run();
            return (GC.GetAllocatedBytesForCurrentThread() - before) / reps;
        }
        long prefill = Bytes(() => { s.Cache.Reset(0); s.Prefill(0, tokens, last, bidirectional: true); });
        long sequence = Bytes(() => s.ForwardSequence(tokens, tokens.Length, all));
        // What both allocate is the kernels' fixed per-call cost (argument checks, closures); a buffer would be a logits,
        // activation or K/V row (≥ 200 bytes here) per position.
        Assert.True(sequence <= prefill + 256, $"a whole sequence allocated {sequence} bytes per pass, a prefill {prefill}");
    }
}

/// <summary>
/// Counts this thread's allocations during decode, so it runs alone: tests that set the kernels' global thread count
/// (KernelParallel.Degree) while it measures would send decode down the threaded path, whose closures it would count.
/// </summary>
[Collection(nameof(LightGlm.Tests.Experiments.ThreadSettingsOwners))]
public class InferenceAllocationTests
{
    [Fact]
    public void DecodingAllocatesNoPerTokenBuffers()
    {
        var c = InferenceTests.Medium();
        c.VocabSize = 1000; // a logits row (4 KB) is above the bound
        var m = GlmModel.Create(c, seed: 8, std: 0.1);
        foreach (var w in new[] { InferenceWeights.Fp32(m), InferenceWeights.Create(m, WeightFormat.Int8) })
        {
            var s = new InferenceSession(m, 1, 64, weights: w);
            var logits = new float[c.V];
            int[] slot = [0], tok = [3];
            s.Prefill(0, [1, 2, 3, 4], logits);
            for (int i = 0; i < 4; i++) s.Decode(slot, tok, logits); // warm-up (thread-local scratch)
            long before = GC.GetAllocatedBytesForCurrentThread();
            const int steps = 40;
            for (int i = 0; i < steps; i++) { tok[0] = (i * 7) % c.V; s.Decode(slot, tok, logits); }
            double perToken = (GC.GetAllocatedBytesForCurrentThread() - before) / (double)steps;
            // No buffers: what remains (~1 KB) is the kernels' argument checks (params arrays) and AttentionDecode's closure,
            // a fixed cost per call. A per-token buffer would be a logits row (V floats) or a K/V row per layer and more.
            Assert.True(perToken < 2048, $"{w.Format}: {perToken:F0} bytes allocated per decoded token");
        }
    }
}

/// <summary>Tests that set <see cref="QuantizedMatVec.Activations"/> (process-wide) run alone: a test beside them that
/// compares two runs bit for bit (a quantized checkpoint vs quantizing at load) would see it change between its runs.</summary>
[CollectionDefinition(nameof(QuantizedActivationsOwners), DisableParallelization = true)]
public sealed class QuantizedActivationsOwners;

[Collection(nameof(QuantizedActivationsOwners))]
public class QuantizedSessionTests(ITestOutputHelper output)
{
    /// <summary>
    /// With fp32 activations the quantized session computes the fp32 session's products on the dequantized weights up
    /// to float rounding (1e-4 absolute + 1e-4 relative per logit), on every path: prefill GEMM tiles, multi-row and
    /// one-row decode. With int8 activations (the default up to 8 rows) each of those products also rounds its inputs to
    /// within 1/254 of their group's max — the same step as int8 weights' — so the logits move by about what int8 weight
    /// rounding moves them: measured worst ‖Δ‖/‖logits‖ over the trace 1.7% (int8 weights) and 1.8% (int4) against the
    /// dequantized session, where int8 weights alone are 1.9% from the fp32 model (2.4% with int8 activations; int4
    /// 34.6% and 34.5%). Asserted under the 5% stated for int8 weights, and above 0 (the activations are quantized).
    /// </summary>
    [Theory]
    [InlineData(QuantFormat.Int8, WeightFormat.Int8, QuantActivations.Float)]
    [InlineData(QuantFormat.Int4, WeightFormat.Int4, QuantActivations.Float)]
    [InlineData(QuantFormat.Int8, WeightFormat.Int8, QuantActivations.Int8)]
    [InlineData(QuantFormat.Int4, WeightFormat.Int4, QuantActivations.Int8)]
    public void QuantizedSessionEqualsFp32SessionOnDequantizedWeights(QuantFormat qf, WeightFormat wf, QuantActivations act)
    {
        var m = GlmModel.Create(InferenceTests.Medium(), seed: 6, std: 0.1);
        List<float[]> Quantized(QuantActivations a)
        {
            var was = QuantizedMatVec.Activations;
            try
            {
                QuantizedMatVec.Activations = a;
                return InferenceTests.Trace(m, InferenceWeights.Create(m, wf));
            }
            finally { QuantizedMatVec.Activations = was; }
        }
        var got = Quantized(act);
        var want = InferenceTests.Trace(InferenceTests.Dequantized(m, qf), null);
        if (act == QuantActivations.Float)
        {
            for (int i = 0; i < got.Count; i++) InferenceTests.AssertClose(want[i], got[i], $"{wf} step {i}");
            return;
        }
        static double Worst(List<float[]> a, List<float[]> b) => a.Zip(b, (x, y) =>
            Math.Sqrt(x.Zip(y, (u, v) => (double)(u - v) * (u - v)).Sum()) / Math.Sqrt(x.Sum(v => (double)v * v))).Max();
        double worst = Worst(want, got);
        var fp32 = InferenceTests.Trace(m, null);
        output.WriteLine($"{wf} weights: worst relative logit error of int8 activations vs the dequantized fp32 session {worst:E3}; " +
            $"vs the fp32 model: fp32 activations {Worst(fp32, Quantized(QuantActivations.Float)):E3}, int8 {Worst(fp32, got):E3}; " +
            $"per step {string.Join(" ", want.Zip(got, (a, b) => Worst([a], [b]).ToString("E1")))}");
        Assert.InRange(worst, 1e-6, 0.05);
    }
}

