// `lightglm import`: a Hugging Face checkpoint directory -> a normal LightGlm model directory.
using LightGlm.Model;
using System.Text.Json.Nodes;
using LightGlm.IO;
using LightGlm.Model.Checkpoints;

namespace LightGlm.Interop;

/// <summary>What an import did, for the command to print and tests to check.</summary>
public sealed record ImportReport(HfArchitecture Architecture, ModelConfig Config, IReadOnlyList<string> Defaults,
    IReadOnlyList<string> WeightFiles, IReadOnlyList<(string Name, string Kind)> TokenizerFiles, long Parameters, string? SourceDType);

public static class HfImporter
{
    /// <summary>Largest single weights file written before sharding (transformers' default max_shard_size is 5 GB).</summary>
    public const long DefaultMaxShardBytes = 5_000_000_000;

    /// <summary>
    /// Reads <paramref name="from"/> (config.json + safetensors, sharded or not, F32/F16/BF16), maps every tensor to
    /// our names and layout (fused q|k|v and gate|up split), and writes <paramref name="outDir"/>: config.json
    /// (model_type lightglm, the contract's fields), model.safetensors in <paramref name="dtype"/> (sharded with an
    /// index when larger than <paramref name="maxShardBytes"/>), and the tokenizer files. Tensors are streamed
    /// row-block by row-block, so memory stays small however large the checkpoint.
    /// </summary>
    /// <remarks>
    /// With <paramref name="quantize"/>, <paramref name="outDir"/> is a quantized checkpoint instead
    /// (<see cref="QuantizedCheckpointWriter"/>): each projection quantized as it is read from the map, a tile of rows at a
    /// time, so a 6B bf16 checkpoint never exists in fp32; the embedding in <paramref name="dtype"/>, norms and biases F32.
    /// </remarks>
    public static ImportReport Import(string from, string outDir, TensorDType dtype = TensorDType.F32, long maxShardBytes = DefaultMaxShardBytes,
        QuantizationEntry? quantize = null)
    {
        if (Path.GetFullPath(from).TrimEnd('/') == Path.GetFullPath(outDir).TrimEnd('/'))
            throw new IOException($"--out {outDir} is the source directory; choose a new directory");
        string cfgPath = Path.Combine(from, "config.json");
        if (File.Exists(cfgPath) && LightGlm.Model.Checkpoints.JsonFile.Read(cfgPath) is JsonObject raw && MappedWeights.IsLightGlmConfig(raw))
            throw new InvalidDataException($"{cfgPath}: this is already a LightGlm model directory (contract config); use it directly, no import needed");
        using var w = MappedWeights.Open(from);
        if (w.Architecture is not { } arch)
            throw new InvalidDataException($"{from}: model_type 'lightglm' is already a LightGlm model directory; use it directly");
        Directory.CreateDirectory(outDir);
        var ours = w.Config.Clone();
        var imported = JsonNode.Parse(ours.ToJson())!.AsObject();
        imported["model_type"] = "lightglm";
        imported["imported_from"] = new JsonObject
        {
            ["architecture"] = arch.FormatName(),
            ["model_type"] = w.RawConfig["model_type"]?.DeepClone(),
            ["name_or_path"] = w.RawConfig["_name_or_path"]?.DeepClone(),
            ["torch_dtype"] = w.RawConfig["torch_dtype"]?.DeepClone(),
        }; // list-valued token ids (GLM-4's three eos ids) are in the config itself (ModelConfig.EosTokenIds)
        var names = Distinct(w.Layout.Mappings.Select(m => m.Ours)).ToList();
        long parameters = names.Sum(n => w[n].Map.OurShape.Aggregate(1L, (a, b) => a * b));
        List<string> files;
        if (quantize is not null)
            files = QuantizedCheckpointWriter.Write(Inference.MappedInferenceWeights.Create(w), imported, outDir, quantize, dtype, maxShardBytes);
        else
        {
            files = SafeTensorsWriter.WriteSharded(outDir, WriteList(w, names, dtype), maxShardBytes, new Dictionary<string, string> { ["format"] = "pt" });
            AtomicFile.WriteAllText(Path.Combine(outDir, "config.json"), imported.ToJsonString(ModelConfig.JsonOptions) + "\n");
        }
        var tok = TokenizerFiles.Copy(from, outDir);
        return new ImportReport(arch, ours, w.Reading!.Notes.Defaults, files, tok, parameters, w.Reading.Notes.TorchDType);
    }

    static IEnumerable<string> Distinct(IEnumerable<string> names)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var n in names) if (seen.Add(n)) yield return n;
    }

    /// <summary>Our tensors as writer entries that pull rows through the map.</summary>
    internal static List<TensorToWrite> WriteList(MappedWeights w, IEnumerable<string> names, TensorDType dtype)
    {
        var list = new List<TensorToWrite>();
        byte[]? shared = null; // the writer fills one tensor at a time: one scratch for all
        foreach (var n in names)
        {
            var t = w[n];
            list.Add(new TensorToWrite(n, dtype, t.Map.OurShape, (row, count, dst) =>
            {
                if (shared is null || shared.Length < dst.Length * 2) shared = new byte[dst.Length * 2];
                w.ReadRows(t, (int)row, count, dst, shared);
            }));
        }
        return list;
    }
}
