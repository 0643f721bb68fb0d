// GGUF as our quantized on-disk format: a file export wrote runs in the one forward pass (InferenceSession) — f32 gives
// the golden logits, q8_0/q4_0 load as our int8/int4 weights without re-quantizing — and `translate` takes the file.
using LightGlm.Interop;
using LightGlm.Interop.Gguf;
using LightGlm.Model.Inference;
using LightGlm.Tests.Evaluation;
using LightGlm.Tests.Translation;

namespace LightGlm.Tests.Interop;

public sealed class GgufInferenceWeightsTests
{
    public static TheoryData<string> Names() => new(HfGolden.All.Where(n => n != "chatglm3-mha")); // H·D ≠ C: export refuses it

    static float[][] Logits(InferenceWeights w, int[] ids)
    {
        var d = new SequenceDecoder(w, 32);
        return ids.Select(t => d.Step(t).ToArray()).ToArray();
    }

    [Theory, MemberData(nameof(Names))]
    public void F32FileGivesTheGoldenLogits(string name)
    {
        var g = HfGolden.Load(name);
        using var tmp = HfGolden.Temp();
        var w = GgufInferenceWeights.Open(GgufTests.Export(tmp, name, GgmlType.F32));
        Assert.Equal(WeightFormat.Fp32, w.Format);
        float diff = HfGolden.MaxDiff(g.Logits, Logits(w, g.InputIds));
        Assert.True(diff < 2e-4f, $"{name}: max |logit diff| = {diff}");
    }

    [Theory]
    [InlineData("llama", GgmlType.Q8_0, WeightFormat.Int8, 0.05)]
    [InlineData("qwen2", GgmlType.Q8_0, WeightFormat.Int8, 0.05)]
    [InlineData("chatglm2", GgmlType.Q4_0, WeightFormat.Int4, 0.35)]
    public void QuantizedFileLoadsAsOurQuantizedWeights(string name, GgmlType type, WeightFormat format, double relTol)
    {
        var g = HfGolden.Load(name);
        using var tmp = HfGolden.Temp();
        string path = GgufTests.Export(tmp, name, type);
        var q = GgufInferenceWeights.Open(path);
        var fp = GgufInferenceWeights.Open(GgufTests.Export(tmp, name, GgmlType.F32));
        Assert.Equal(format, q.Format);
        // (the tiny fixtures keep a few tensors f16 whose rows are not whole blocks of 32)
        Assert.True(q.ProjectionBytes < fp.ProjectionBytes / 2, $"{q.ProjectionBytes} vs fp32 {fp.ProjectionBytes}");
        // The int8/int4 weights are exactly the file's blocks: dequantized, they equal ggml's own decoding of the file.
        var f = GgufFile.Read(path);
        var ours = new float[q.Qkv(0).Out * q.Qkv(0).In];
        q.Qkv(0).ReadRows(0, q.Qkv(0).Out, ours);
        var ggmlQ = f.ReadFloats("blk.0.attn_q.weight");
        Assert.Equal(ggmlQ, ours.AsSpan(0, ggmlQ.Length).ToArray());
        var a = Logits(fp, g.InputIds).SelectMany(x => x).ToArray();
        var b = Logits(q, g.InputIds).SelectMany(x => x).ToArray();
        double err = Math.Sqrt(a.Zip(b, (x, y) => (double)(x - y) * (x - y)).Sum()), norm = Math.Sqrt(a.Sum(x => (double)x * x));
        Assert.True(err / norm < relTol, $"{name} {type}: relative logit error {err / norm}");
        Assert.True(err > 0);
    }

    [Fact]
    public void TranslateTakesAGgufFileWithItsTokenizerInside()
    {
        var dir = TranslatorTests.SaveTinyModel();
        try
        {
            string f32 = Path.Combine(dir, "m-f32.gguf"), q8 = Path.Combine(dir, "m-q8.gguf");
            foreach (var (file, dtype) in new[] { (f32, "f32"), (q8, "q8_0") })
                Assert.Equal(0, CliProcess.Run(null, "export", "--model", dir, "--format", "gguf", "--out", file, "--dtype", dtype).ExitCode);
            string[] args = ["--to", "zh", "--max-new-tokens", "8", "Open file", "Permission denied"];
            var original = CliProcess.Run(null, ["translate", "--model", dir, .. args]);
            var fromFile = CliProcess.Run(null, ["translate", "--model", f32, .. args]);
            Assert.True(fromFile.ExitCode == 0, fromFile.Stderr);
            Assert.Equal(original.Stdout, fromFile.Stdout);
            var quantized = CliProcess.Run(null, ["translate", "--model", q8, .. args]);
            Assert.True(quantized.ExitCode == 0, quantized.Stderr);
            Assert.Equal(2, quantized.Stdout.Split('\n').Length - 1);
        }
        finally { Directory.Delete(dir, true); }
    }
}
