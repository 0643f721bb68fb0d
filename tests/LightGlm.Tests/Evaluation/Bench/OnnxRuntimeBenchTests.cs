// `bench decode --vs-onnxruntime`: the ONNX Runtime peer decodes the same greedy tokens as our engine, and its JSON key
// appears only when it ran.
using System.Text.Json;
using LightGlm.Evaluation.Bench;
using LightGlm.Tests.Model;

namespace LightGlm.Tests.Evaluation.Bench;

public sealed class OnnxRuntimeBenchTests
{
    [Fact]
    public void DecodesTheSameTokensAsOurEngineAndTimesBothPhases()
    {
        var c = TinyModels.Llama(vocab: 50);
        c.NumKeyValueHeads = 1; // GQA, as the bench models
        var spec = new BenchSpec("test", c, 1, 16, 6, 5);
        var r = OnnxRuntimeBench.Decode(spec, [1]);
        Assert.Equal(5, r.Tokens);
        Assert.Equal(r.Tokens, r.TokensAgreeing);
        Assert.True(r.PrefillMs > 0 && double.IsFinite(r.PrefillMs), $"prefill {r.PrefillMs}");
        Assert.True(r.DecodeMsPerToken > 0 && double.IsFinite(r.DecodeMsPerToken), $"decode {r.DecodeMsPerToken}");
        Assert.Equal((1, 1), (r.PrefillThreads, r.DecodeThreads));
        Assert.True(r.FileBytes > 4L * c.V * c.C, $"{r.FileBytes} bytes cannot hold the weights");
    }

    [Fact]
    public void JsonHasTheOnnxRuntimeSideOnlyWhenMeasured()
    {
        var ours = new SideResult { DecodeMsPerToken = 1, PrefillMs = 2 };
        var without = new BenchReport(BenchSpec.Get("tiny"), 50, ours, null);
        using (var doc = JsonDocument.Parse(without.ToJson()))
            Assert.False(doc.RootElement.TryGetProperty("onnxruntime", out _));
        var with = without with { OnnxRuntime = ours with { DecodeMsPerToken = 3 } };
        using (var doc = JsonDocument.Parse(with.ToJson()))
        {
            Assert.Equal(["sgemm_peak_gflops", "lightglm", "pytorch", "onnxruntime"], doc.RootElement.EnumerateObject().Select(p => p.Name));
            Assert.Equal(3, doc.RootElement.GetProperty("onnxruntime").GetProperty("decode_ms_per_token").GetDouble());
        }
    }
}
