// ONNX export run in ONNX Runtime against our own engine: prefill under the GLM prefix mask (or causal) and decode
// steps through the KV cache, for GQA + q/k/v bias + partial interleaved rotary and for LLaMA-style configs; bad cases.
using LightGlm.Interop.Onnx;
using LightGlm.Model;
using LightGlm.Model.Checkpoints;
using LightGlm.Model.Inference;
using LightGlm.Tests.Model;
using Ort = Microsoft.ML.OnnxRuntime;

namespace LightGlm.Tests.Interop;

[Collection("Console")]
public sealed class OnnxExportTests
{
    const double Tolerance = 1e-4; // max |ours − ORT| / max |ours| over a logit vector

    public static TheoryData<string> Configs() => ["glm-gqa-bias-prefix", "llama-mha-causal", "halfsplit-partial-tied-gqa"];

    static ModelConfig Config(string name)
    {
        var c = name switch
        {
            "glm-gqa-bias-prefix" => TinyModels.Glm(vocab: 29),  // H 4, KV 2, q/k/v bias, R = D/2 interleaved, prefix LM
            "llama-mha-causal" => TinyModels.Llama(vocab: 31),   // H = KV 2, full rotate_half rotary, no bias
            "halfsplit-partial-tied-gqa" => TinyModels.Llama(vocab: 23),
            _ => throw new ArgumentException(name),
        };
        if (name == "halfsplit-partial-tied-gqa")
        {   // multi-query (KV 1 of 4 heads), R = D/2 in rotate_half pairs, tied head, head_dim ≠ C/H
            c.NumAttentionHeads = 4; c.NumKeyValueHeads = 1; c.HeadDim = 6; c.PartialRotaryFactor = 0.5; c.TieWordEmbeddings = true;
            c.RopeTheta = 500;
        }
        return c;
    }

    /// <summary>A random model with weights large enough (std 0.3) that logits are O(1) and a wrong mask or rotation shows.</summary>
    static GlmModel RandomModel(ModelConfig c) => GlmModel.Create(c, seed: 7, std: 0.3);

    static void AssertClose(ReadOnlySpan<float> ours, ReadOnlySpan<float> theirs, string what)
    {
        Assert.Equal(ours.Length, theirs.Length);
        double max = 0, diff = 0;
        for (int i = 0; i < ours.Length; i++) { max = Math.Max(max, Math.Abs(ours[i])); diff = Math.Max(diff, Math.Abs(ours[i] - theirs[i])); }
        Assert.True(max > 0.1, $"{what}: logits too small to compare ({max})");
        Assert.True(diff <= Tolerance * max, $"{what}: max |ours − onnxruntime| = {diff:G3}, {diff / max:G3} of max |logit| {max:G3}");
    }

    [Theory, MemberData(nameof(Configs))]
    public void PrefillAndDecodeMatchOurEngine(string name)
    {
        var c = Config(name);
        var m = RandomModel(c);
        using var tmp = HfGolden.Temp();
        string path = tmp.Sub("model.onnx");
        OnnxExporter.Write(m, path);
        int[] prompt = [3, 9, 4, 1, 15, 2, 7];
        bool prefix = c.PrefixLm;
        int V = c.V;

        // Every prompt row against the training forward with the same mask (prefix length = prompt length, or causal).
        var batch = Batch.From(1, prompt.Length, prompt, Enumerable.Repeat(-1, prompt.Length).ToArray());
        if (prefix) batch.PrefixLengths = [prompt.Length];
        var cache = m.CreateCache(1, prompt.Length);
        m.Forward(cache, batch);
        using var ort = new OnnxDecoder(path, threads: 1);
        var rows = ort.Prefill(prompt, bidirectional: prefix);
        for (int t = 0; t < prompt.Length; t++)
            AssertClose(cache.Logits.Span.Slice(t * V, V), rows.AsSpan(t * V, V), $"{name} prefill row {t}");

        // Then InferenceSession's prefill + 3 greedy decode steps, each against ORT through its KV cache.
        var session = new InferenceSession(m, 1, 32);
        var logits = new float[V];
        session.Prefill(0, prompt, logits, bidirectional: prefix);
        AssertClose(logits, rows.AsSpan((prompt.Length - 1) * V, V), $"{name} session prefill");
        for (int step = 0; step < 3; step++)
        {
            int token = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(logits);
            session.Decode([0], [token], logits);
            AssertClose(logits, ort.Decode(token), $"{name} decode step {step}");
        }
        Assert.Equal(prompt.Length + 3, ort.Length);
        var e = Assert.Throws<InvalidOperationException>(() => ort.Prefill(new int[c.MaxPositionEmbeddings]));
        Assert.Contains("max_position_embeddings", e.Message);
    }

    [Fact]
    public void ThePrefixMaskMatters()
    {
        // The same prompt as a prefix and causally gives different logits on its first row in both engines: the
        // graph reads attention_bias (a test of the test: a graph ignoring the bias would fail the parity above only
        // for prefix models).
        var c = Config("glm-gqa-bias-prefix");
        var m = RandomModel(c);
        using var tmp = HfGolden.Temp();
        OnnxExporter.Write(m, tmp.Sub("m.onnx"));
        using var ort = new OnnxDecoder(tmp.Sub("m.onnx"), threads: 1);
        var bi = ort.Prefill([3, 9, 4], bidirectional: true);
        ort.Reset();
        var causal = ort.Prefill([3, 9, 4], bidirectional: false);
        double d = 0;
        for (int i = 0; i < c.V; i++) d = Math.Max(d, Math.Abs(bi[i] - causal[i]));
        Assert.True(d > 1e-2, $"first-row logits differ by only {d}");
    }

    [Fact]
    public void ABatchWithLeftPaddingMatchesEachSequenceAlone()
    {
        // Batch 2 through the raw graph: sequence 1 is left-padded (2 pads), its positions start at 0 on its first real
        // token, pad keys carry −1e9; GLM prefix over each real prompt. Then one decode step for both.
        var c = Config("glm-gqa-bias-prefix");
        var m = RandomModel(c);
        using var tmp = HfGolden.Temp();
        OnnxExporter.Write(m, tmp.Sub("m.onnx"));
        int[][] prompts = [[3, 9, 4, 1, 15], [7, 2, 11]];
        int T = 5, V = c.V, L = c.L, KV = c.KV, D = c.D;
        var ids = new long[2 * T];
        var pos = new long[2 * T];
        var bias = new float[2 * T * T];
        for (int b = 0; b < 2; b++)
        {
            int pad = T - prompts[b].Length;
            for (int t = 0; t < T; t++)
            {
                ids[b * T + t] = t < pad ? 0 : prompts[b][t - pad];
                pos[b * T + t] = Math.Max(0, t - pad);
                for (int j = 0; j < T; j++) bias[(b * T + t) * T + j] = j < pad ? OnnxDecoder.Hidden : 0f;
            }
        }
        using var ort = new Ort.InferenceSession(tmp.Sub("m.onnx"));
        var inputs = new Dictionary<string, Ort.OrtValue>
        {
            ["input_ids"] = Ort.OrtValue.CreateTensorValueFromMemory(ids, [2, T]),
            ["position_ids"] = Ort.OrtValue.CreateTensorValueFromMemory(pos, [2, T]),
            ["attention_bias"] = Ort.OrtValue.CreateTensorValueFromMemory(bias, [2, 1, T, T]),
        };
        for (int l = 0; l < L; l++)
        {
            inputs[OnnxDecoderGraph.PastKey(l)] = Ort.OrtValue.CreateTensorValueFromMemory(Array.Empty<float>(), [2, KV, 0, D]);
            inputs[OnnxDecoderGraph.PastValue(l)] = Ort.OrtValue.CreateTensorValueFromMemory(Array.Empty<float>(), [2, KV, 0, D]);
        }
        var names = ort.OutputNames.ToArray();
        using var run = new Ort.RunOptions();
        using var first = ort.Run(run, inputs.Keys.ToArray(), inputs.Values.ToArray(), names);
        var logits = first[0].GetTensorDataAsSpan<float>().ToArray();

        var session = new InferenceSession(m, 2, 16);
        var ours = new float[2 * V];
        session.Prefill([0, 1], prompts, ours, bidirectional: true);
        for (int b = 0; b < 2; b++)
            AssertClose(ours.AsSpan(b * V, V), logits.AsSpan((b * T + T - 1) * V, V), $"padded batch prefill, sequence {b}");

        // Decode: sequence 0 at position 5, sequence 1 at position 3 (its pads stay hidden).
        int[] next = [4, 8];
        session.Decode([0, 1], next, ours);
        var step = new Dictionary<string, Ort.OrtValue>
        {
            ["input_ids"] = Ort.OrtValue.CreateTensorValueFromMemory(new long[] { next[0], next[1] }, [2, 1]),
            ["position_ids"] = Ort.OrtValue.CreateTensorValueFromMemory(new long[] { 5, 3 }, [2, 1]),
            ["attention_bias"] = Ort.OrtValue.CreateTensorValueFromMemory(
                new float[] { 0, 0, 0, 0, 0, 0, OnnxDecoder.Hidden, OnnxDecoder.Hidden, 0, 0, 0, 0 }, [2, 1, 1, T + 1]),
        };
        for (int l = 0; l < L; l++)
        {
            step[OnnxDecoderGraph.PastKey(l)] = first[1 + 2 * l];
            step[OnnxDecoderGraph.PastValue(l)] = first[2 + 2 * l];
        }
        using var second = ort.Run(run, step.Keys.ToArray(), step.Values.ToArray(), names);
        var decoded = second[0].GetTensorDataAsSpan<float>().ToArray();
        for (int b = 0; b < 2; b++) AssertClose(ours.AsSpan(b * V, V), decoded.AsSpan(b * V, V), $"padded batch decode, sequence {b}");
        foreach (var v in inputs.Values) v.Dispose();
        foreach (var k in new[] { "input_ids", "position_ids", "attention_bias" }) step[k].Dispose();
    }

    [Fact]
    public void TooLargeForOneFileIsRefusedWithItsSize()
    {
        var c = TinyModels.Llama(vocab: 32000);
        c.HiddenSize = 4096; c.NumAttentionHeads = 32; c.NumKeyValueHeads = 32; c.IntermediateSize = 11008; c.NumHiddenLayers = 8;
        var p = OnnxExporter.Problems(c);
        Assert.Single(p);
        Assert.Contains("limited to 2 GB", p[0]);
        Assert.Contains("GB of fp32 weights", p[0]);
    }

    static (int Code, string Out, string Err) Cli(params string[] args) => ImportCliTests.Run(args);

    [Fact]
    public void CliExportsAModelDirectoryAndRefusesBadInput()
    {
        var c = Config("glm-gqa-bias-prefix");
        var m = RandomModel(c);
        using var tmp = HfGolden.Temp();
        ModelDirectory.Save(m, tmp.Sub("model"));
        var (code, stdout, err) = Cli("export", "--model", tmp.Sub("model"), "--format", "onnx", "--out", tmp.Sub("onnx"));
        Assert.True(code == 0, err);
        Assert.Contains("model.onnx", stdout);
        Assert.True(File.Exists(Path.Combine(tmp.Sub("onnx"), "config.json")));
        Assert.Empty(Directory.GetFiles(tmp.Sub("onnx"), ".*tmp*")); // the temp file was renamed
        using (var ort = new OnnxDecoder(Path.Combine(tmp.Sub("onnx"), OnnxExporter.ModelFile), threads: 1))
        {
            var session = new InferenceSession(m, 1, 16);
            var logits = new float[c.V];
            session.Prefill(0, [5, 6, 7], logits, bidirectional: true);
            AssertClose(logits, ort.Prefill([5, 6, 7], bidirectional: true).AsSpan(2 * c.V), "cli export");
        }

        // A truncated weights file: the loader's message names the file, exit 2, nothing written.
        var weights = Path.Combine(tmp.Sub("model"), ModelDirectory.WeightsFile);
        var bytes = File.ReadAllBytes(weights);
        File.WriteAllBytes(weights, bytes[..(bytes.Length / 2)]);
        (code, _, err) = Cli("export", "--model", tmp.Sub("model"), "--format", "onnx", "--out", tmp.Sub("bad"));
        Assert.Equal(2, code);
        Assert.Contains("model.safetensors", err);
        Assert.False(File.Exists(Path.Combine(tmp.Sub("bad"), OnnxExporter.ModelFile)));

        // ONNX is fp32 only.
        (code, _, err) = Cli("export", "--model", tmp.Sub("model"), "--format", "onnx", "--out", tmp.Sub("bf"), "--dtype", "bf16");
        Assert.Equal(2, code);
        Assert.Contains("--dtype", err);
    }

    [Fact]
    public void ACorruptedOnnxFileIsAClearError()
    {
        var m = RandomModel(Config("llama-mha-causal"));
        using var tmp = HfGolden.Temp();
        OnnxExporter.Write(m, tmp.Sub("m.onnx"));
        var bytes = File.ReadAllBytes(tmp.Sub("m.onnx"));
        File.WriteAllBytes(tmp.Sub("cut.onnx"), bytes[..(bytes.Length / 3)]);
        var e = Assert.Throws<InvalidDataException>(() => new OnnxDecoder(tmp.Sub("cut.onnx")));
        Assert.Contains("cut.onnx", e.Message);
    }
}
