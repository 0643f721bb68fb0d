// `lightglm export --format onnx`: a LightGlm model directory as model.onnx (KV-cache decoder graph, fp32 weights
// inside the file) + config.json + its tokenizer files, each written atomically.
using LightGlm.IO;
using LightGlm.Model;
using LightGlm.Model.Checkpoints;

namespace LightGlm.Interop.Onnx;

/// <summary>What an ONNX export wrote.</summary>
public sealed record OnnxExportReport(string ModelPath, long Bytes, long Parameters, IReadOnlyList<(string Name, string Kind)> TokenizerFiles);

public static class OnnxExporter
{
    public const string ModelFile = "model.onnx";

    /// <summary>Protobuf's message limit; we write no external data, so every weight must fit in the one file.</summary>
    public const long MaxBytes = int.MaxValue;

    /// <summary>
    /// Why <paramref name="c"/> cannot be exported (empty = it can): the config's own problems, and the file size —
    /// the weights (an untied copy of the head for tied models) and rotary tables must stay under 2 GB.
    /// </summary>
    public static List<string> Problems(ModelConfig c)
    {
        var p = c.Problems();
        if (p.Count > 0) return p;
        double bytes = 4 * (c.ParameterEstimate() + (c.TieWordEmbeddings ? (double)c.V * c.C : 0) + 2.0 * c.MaxPositionEmbeddings * c.R);
        if (bytes > MaxBytes - (1 << 20))
            p.Add($"the ONNX file would hold {bytes / 1e9:F2} GB of fp32 weights ({c.ParameterEstimate():N0} parameters, L={c.L}, C={c.C}, V={c.V}); " +
                  "a single .onnx file (protobuf) is limited to 2 GB and this exporter writes no external data: export a smaller (pruned) model, " +
                  "or use `--format hf-llama|hf-chatglm|hf-qwen2` and a Hugging Face exporter");
        return p;
    }

    /// <summary>Writes <paramref name="model"/> as an ONNX file at <paramref name="path"/> (temp file + fsync + rename).</summary>
    public static long Write(GlmModel model, string path)
    {
        var problems = Problems(model.Config);
        if (problems.Count > 0) throw new NotSupportedException(string.Join("; ", problems));
        var graph = OnnxDecoderGraph.Build(model);
        var c = model.Config;
        var proto = graph.ToModel("lightglm_decoder", typeof(OnnxExporter).Assembly.GetName().Version?.ToString() ?? "0",
            "LightGlm decoder with a KV cache; inputs and outputs: docs/INTEROP.md (ONNX).",
            [
                new("lightglm.config", c.ToJson()),
                new("lightglm.attention_bias", "additive, (batch, 1, seq, past_seq + seq): 0 = visible, -1e9 = hidden; GLM prefix: prompt keys visible to every prompt query"),
            ]);
        if (proto.Size > MaxBytes) throw new NotSupportedException($"the ONNX model would be {proto.Size:N0} bytes; a single .onnx file is limited to 2 GB");
        AtomicFile.Write(path, proto.WriteTo);
        return proto.Size;
    }

    /// <summary>
    /// Exports the model directory <paramref name="modelDir"/> into <paramref name="outDir"/>: model.onnx, config.json
    /// (ours, for the tokenizer ids and sizes) and the tokenizer files. The config is checked before the weights load.
    /// </summary>
    public static OnnxExportReport Export(string modelDir, string outDir)
    {
        var configPath = Path.Combine(modelDir, ModelDirectory.ConfigFile);
        if (!File.Exists(configPath)) throw new FileNotFoundException($"{configPath}: not found; --model must be a LightGlm model directory", configPath);
        var problems = Problems(ModelConfig.Load(configPath));
        if (problems.Count > 0) throw new NotSupportedException($"{modelDir}: cannot export as ONNX: {string.Join("; ", problems)}");
        var model = ModelDirectory.Load(modelDir);
        Directory.CreateDirectory(outDir);
        var path = Path.Combine(outDir, ModelFile);
        long bytes = Write(model, path);
        AtomicFile.WriteAllText(Path.Combine(outDir, ModelDirectory.ConfigFile), model.Config.ToJson());
        var tok = TokenizerFiles.Copy(modelDir, outDir);
        return new OnnxExportReport(path, bytes, model.Layout.TotalLength, tok);
    }
}
