// `lightglm export --quantize int8|int4`: a LightGlm model directory (fp32, or bf16/fp16, sharded or not) written as a
// quantized checkpoint (Model/Checkpoints/QuantizedCheckpoint.cs), so inference loads it without quantizing.
using LightGlm.Interop.Inference;
using LightGlm.Model.Checkpoints;

namespace LightGlm.Interop;

public sealed record QuantizedExportReport(IReadOnlyList<string> WeightFiles, IReadOnlyList<(string Name, string Kind)> TokenizerFiles, long Bytes);

public static class QuantizedExport
{
    /// <summary>
    /// Reads <paramref name="model"/> through the map (rows widened exactly: the values quantizing at load would see) and
    /// writes <paramref name="outDir"/>: its config.json with the "quantization" entry, the quantized shards, the tokenizer files.
    /// </summary>
    public static QuantizedExportReport Export(string model, string outDir, QuantizationEntry q, TensorDType embedDType = TensorDType.F32,
        long maxShardBytes = QuantizedCheckpointWriter.DefaultMaxShardBytes)
    {
        if (Path.GetFullPath(model).TrimEnd('/') == Path.GetFullPath(outDir).TrimEnd('/'))
            throw new IOException($"--out {outDir} is the model directory; choose a new directory");
        using var w = MappedWeights.Open(model); // a quantized directory is refused here, with what to do
        if (w.Architecture is { } arch)
            throw new InvalidDataException($"{model}: a Hugging Face {arch.FormatName()} checkpoint, not a LightGlm model directory; quantize it while " +
                                           $"importing: `lightglm import --from {model} --out DIR --quantize {Model.Inference.InferenceWeights.Name(q.Format)}`");
        var source = MappedInferenceWeights.Create(w);
        var files = QuantizedCheckpointWriter.Write(source, w.RawConfig, outDir, q, embedDType, maxShardBytes);
        var tok = TokenizerFiles.Copy(model, outDir);
        long bytes = Directory.EnumerateFiles(outDir, "*.safetensors").Sum(f => new FileInfo(f).Length);
        return new QuantizedExportReport(files, tok, bytes);
    }
}
