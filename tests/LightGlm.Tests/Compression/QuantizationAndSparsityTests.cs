// The one forward pass over a model's named tensors (fp32 = the reference forward; int8/int4 close to it), and the
// unstructured sparsity baselines.
using LightGlm.Model;
using LightGlm.Compression;
using LightGlm.Compression.Baselines;
using LightGlm.Compression.Importance;
using LightGlm.Model.Inference;

namespace LightGlm.Tests.Compression;

public class QuantizationAndSparsityTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void DecoderPrefillAndDecodeEqualTheReferenceForward(bool glm)
    {
        var m = TinyTeacher.Create(glm, seed: 41, C: 32, D: 8, F: 40);
        var tokens = TinyTeacher.Tokens(10, m.Config.V);
        var reference = new ReferenceForward(m).Logits(tokens);
        int V = m.Config.V;
        var dec = new SequenceDecoder(m.InferenceWeights(), 16);
        var prefill = dec.Forward(tokens.AsSpan(0, 6)).ToArray();
        TinyTeacher.AssertClose(reference[(5 * V)..(6 * V)], prefill);
        for (int i = 6; i < 10; i++)
            TinyTeacher.AssertClose(reference[(i * V)..((i + 1) * V)], dec.Forward(tokens.AsSpan(i, 1)).ToArray());
    }

    [Theory]
    [InlineData(WeightFormat.Int8, 0.02)]
    [InlineData(WeightFormat.Int4, 0.25)]
    public void QuantizedDecoderStaysCloseAndIsSmaller(WeightFormat f, double relTol)
    {
        var m = TinyTeacher.Create(glm: true, seed: 42, C: 64, H: 4, KV: 2, D: 16, F: 96, V: 50);
        var tokens = TinyTeacher.Tokens(8, m.Config.V);
        var fp = new SequenceDecoder(m.InferenceWeights(), 8);
        var q = new SequenceDecoder(InferenceWeights.Quantize(m.InferenceWeights(), f), 8);
        var a = fp.Forward(tokens).ToArray(); var b = q.Forward(tokens).ToArray();
        double err = Math.Sqrt(a.Zip(b, (x, y) => (double)(x - y) * (x - y)).Sum()), norm = Math.Sqrt(a.Sum(x => (double)x * x));
        Assert.True(err / norm < relTol, $"{f}: relative logit error {err / norm}");
        Assert.True(err > 0);
        Assert.True(q.Weights.HeldBytes < fp.Weights.HeldBytes);
    }

    [Fact]
    public void MagnitudeSparsityZerosTheSmallestFraction()
    {
        var m = TinyTeacher.Create(glm: false, seed: 43);
        var s = UnstructuredSparsity.Magnitude(m, 0.5);
        Assert.InRange(UnstructuredSparsity.Sparsity(s), 0.49, 0.51);
        Assert.InRange(UnstructuredSparsity.Sparsity(m), 0, 0.01); // the teacher is untouched
        var before = m.Weights.Get(TensorNames.Up(0)).Data; var after = s.Weights.Get(TensorNames.Up(0)).Data;
        float maxZeroed = before.Where((x, i) => after[i] == 0).Max(MathF.Abs), minKept = after.Where(x => x != 0).Min(MathF.Abs);
        Assert.True(maxZeroed <= minKept);
    }

    [Fact]
    public void WandaPrunesPerRowByWeightTimesInputNorm()
    {
        var m = TinyTeacher.Create(glm: true, seed: 44);
        var cal = Enumerable.Range(0, 2).Select(i => { var t = TinyTeacher.Tokens(8, m.Config.V, 50 + i); return new CalibrationSample(t, t); }).ToList();
        var s = UnstructuredSparsity.Wanda(m, 0.25, cal);
        Assert.InRange(UnstructuredSparsity.Sparsity(s), 0.2, 0.26);
        var q = s.Weights.Get(TensorNames.Q(0));
        for (int r = 0; r < q.Rows; r++) Assert.Equal(q.Cols / 4, Enumerable.Range(0, q.Cols).Count(j => q.Data[r * q.Cols + j] == 0));
        var tokens = TinyTeacher.Tokens(6, m.Config.V);
        Assert.True(TinyTeacher.MaxAbsDiff(TinyTeacher.Logits(m, tokens), TinyTeacher.Logits(s, tokens)) > 0);
    }
}
