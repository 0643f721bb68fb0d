// The llama.cpp comparison's procedure (PeerRun.Measure over any ICausalDecoder) and its --json shapes (PeerBenchJson),
// without llama.cpp: a counting decoder whose argmax is the last token + 1. No timing is asserted.
using System.Text.Json.Nodes;
using LightGlm.Evaluation.Bench;
using LightGlm.Interop.Gguf;
using LightGlm.Model.Inference;

namespace LightGlm.Tests.Evaluation.Bench;

public sealed class PeerRunTests
{
    /// <summary>Logits peak at (last token fed + 1) mod V.</summary>
    sealed class Counting(int vocab, int maxTokens) : ICausalDecoder
    {
        readonly float[] _logits = new float[vocab];
        public int VocabSize => vocab;
        public int Length { get; private set; }
        public int MaxTokens => maxTokens;
        public void Reset() => Length = 0;

        public ReadOnlySpan<float> Forward(scoped ReadOnlySpan<int> tokens)
        {
            Assert.True(Length + tokens.Length <= MaxTokens, $"{tokens.Length} tokens after {Length} overflow {MaxTokens}");
            Length += tokens.Length;
            Array.Clear(_logits);
            _logits[(tokens[^1] + 1) % vocab] = 1;
            return _logits;
        }
    }

    [Fact]
    public void MeasureDecodesGreedilyAndRecordsTheArgmaxOnForcedTokens()
    {
        var dec = new Counting(50, 8 + 5 + 1);
        var (prefill, decode, greedy) = PeerRun.Measure(dec, [8, 4], tokens: 5, reps: 2);
        Assert.Equal([4, 8], prefill.Keys.Order());
        Assert.True(decode >= 0);
        int last = PeerRun.Prompt(50, 8)[^1]; // decode follows the first prompt length
        Assert.Equal(Enumerable.Range(1, 5).Select(i => (last + i) % 50), greedy);

        int[] forced = [10, 20, 30, 40, 0];
        var f = PeerRun.Measure(dec, [8], tokens: 5, reps: 1, forced);
        Assert.Equal([(last + 1) % 50, 11, 21, 31, 41], f.Greedy); // step i feeds forced[i - 1]
        Assert.Throws<ArgumentException>(() => PeerRun.Measure(dec, [8], tokens: 6, reps: 1, forced));
    }

    static PeerResult Side(string engine, string format, int[] greedy, int[]? forced = null) =>
        new(engine, format, 0.5, new() { [8] = 1.5, [16] = 2.5 }, 3.5, 100, greedy, forced);

    [Fact]
    public void AgreementCountsTheLeadingRunAndTheForcedSteps()
    {
        var ours = Side("lightglm", "fp32", [1, 2, 3, 4]);
        var peer = Side("llama.cpp", "f32", [1, 2, 9, 4], forced: [1, 2, 9, 4]);
        Assert.Equal(2, PeerResult.Agreeing(ours.Greedy, peer.Greedy));
        Assert.Equal(3, PeerResult.ForcedAgreeing(ours, peer)); // one flipped near-tie ends the leading run, not this count
        Assert.Equal(0, PeerResult.ForcedAgreeing(ours, ours)); // no forced run, nothing counted
    }

    [Fact]
    public void LlamaCppJsonHasTheDocumentedKeys()
    {
        var row = new GgufPeerRow(GgmlType.Q8_0, Side("lightglm", "int8", [1, 2]), Side("llama.cpp", "q8_0", [1, 3], [1, 2]), 4.5, 2_000_000);
        var o = JsonNode.Parse(PeerBenchJson.LlamaCpp("m", 2, [8, 16], 2, [row], ["a note"]))!;
        Assert.Equal("m", (string?)o["model"]);
        Assert.Equal(2, (int)o["threads"]!);
        Assert.NotNull(o["load_average"]);
        foreach (var side in new[] { o["lightglm"]!["int8"]!, o["llamacpp"]!["q8_0"]! })
            Assert.Equal(["decode_ms_per_token", "prefill_ms_8", "prefill_ms_16", "load_s", "peak_rss_mb"], side.AsObject().Select(kv => kv.Key).Take(5));
        Assert.Equal(2.0, (double)o["llamacpp"]!["q8_0"]!["gguf_mb"]!);
        Assert.Equal(4.5, (double)o["llamacpp"]!["q8_0"]!["export_s"]!);
        var g = o["greedy"]!["int8_vs_q8_0"]!;
        Assert.Equal((1, 2, 2), ((int)g["leading_greedy_equal"]!, (int)g["argmax_equal_on_our_tokens"]!, (int)g["tokens"]!));
        Assert.Equal("a note", (string?)o["notes"]![0]);
    }

    [Fact]
    public void LargeDecodeJsonPairsEachFormatWithItsPeerAndItsQuantizedDirectory()
    {
        var config = LightGlm.Tests.Model.TinyModels.Glm(vocab: 17);
        var ours = new Dictionary<string, PeerResult>
        {
            ["int8"] = Side("lightglm", "int8", [1, 2, 3]),
            ["int8" + PeerBenchJson.QuantizedSuffix] = Side("lightglm", "int8", [1, 2, 3]),
        };
        var peers = new Dictionary<string, (string Name, PeerResult Result)> { ["int8"] = ("q8_0", Side("llama.cpp", "q8_0", [1, 2, 4], [1, 2, 3])) };
        var o = JsonNode.Parse(PeerBenchJson.LargeDecode("tiny", config, 1, [8, 16], 3, ours, peers))!;
        Assert.Equal(["shape", "layers", "parameters", "threads", "cores", "load_average", "lightglm", "llamacpp", "greedy"], o.AsObject().Select(kv => kv.Key));
        Assert.Equal(["int8", "int8_quantized_dir"], o["lightglm"]!.AsObject().Select(kv => kv.Key));
        Assert.Equal(1.5, (double)o["llamacpp"]!["q8_0"]!["prefill_ms_8"]!);
        Assert.Equal(2, (int)o["greedy"]!["int8_vs_q8_0"]!["leading_greedy_equal"]!);
        Assert.Equal(3, (int)o["greedy"]!["int8_vs_q8_0"]!["argmax_equal_on_our_tokens"]!);
        Assert.Equal(3, (int)o["greedy"]!["int8_quantized_dir_vs_int8"]!["leading_greedy_equal"]!);
    }

    [Fact]
    public void LoadAverageGivesTheAskedFields()
    {
        if (!File.Exists("/proc/loadavg")) { Assert.Equal("n/a", LoadAverage.Text()); return; }
        Assert.True(double.TryParse(LoadAverage.Text(), System.Globalization.CultureInfo.InvariantCulture, out _), LoadAverage.Text());
        Assert.Equal(3, LoadAverage.Text(3).Split(' ').Length);
    }
}
