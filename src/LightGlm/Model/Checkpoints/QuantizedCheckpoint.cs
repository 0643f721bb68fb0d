// The quantized inference checkpoint: a model directory whose projections and LM head are stored as the engine's own
// int8/int4 quants with group-wise fp32 scales, so a large model loads without re-quantizing. The format's names, its
// config.json entry, and the refusal every fp32 reader (training, pruning, export) gives such a directory.
using System.Text.Json;
using System.Text.Json.Nodes;
using LightGlm.Model.Inference;

namespace LightGlm.Model.Checkpoints;

/// <summary>
/// config.json's <c>"quantization"</c> entry: <c>{"method": "lightglm-rtn-symmetric", "bits": 8|4, "group_size": G,
/// "scale_dtype": "F32", "int4_packing": "…", "format_version": 1}</c>. Present = a quantized checkpoint.
/// </summary>
public sealed record QuantizationEntry(WeightFormat Format, int GroupSize)
{
    public const string Key = "quantization";
    /// <summary>Round to nearest, symmetric, one fp32 scale d = max|w|/QMax per group (QuantizedMatrix.Quantize).</summary>
    public const string Method = "lightglm-rtn-symmetric";
    public const int FormatVersion = 1;
    /// <summary>The int4 byte order, spelled out in the file for readers that are not us (ggml's Q4_0 order).</summary>
    public const string Int4Packing = "byte i of a group = (q[i] + 8) | (q[i + G/2] + 8) << 4";

    public int Bits => Format == WeightFormat.Int8 ? 8 : 4;

    public static QuantizationEntry Create(WeightFormat format, int groupSize)
    {
        if (format == WeightFormat.Fp32) throw new ArgumentException("a quantized checkpoint is int8 or int4, not fp32");
        if (groupSize <= 0 || groupSize % 32 != 0) throw new ArgumentException($"quantization group size {groupSize} must be a positive multiple of 32");
        return new QuantizationEntry(format, groupSize);
    }

    public JsonObject ToJson() => new()
    {
        ["method"] = Method, ["bits"] = Bits, ["group_size"] = GroupSize, ["scale_dtype"] = "F32",
        ["int4_packing"] = Int4Packing, ["format_version"] = FormatVersion,
    };

    public override string ToString() => $"{InferenceWeights.Name(Format)}, group {GroupSize}";

    /// <summary>The entry of <paramref name="config"/>, or null when it has none; a wrong entry names every problem at once.</summary>
    public static QuantizationEntry? Read(JsonObject config, string path)
    {
        if (!config.TryGetPropertyValue(Key, out var node) || node is null) return null;
        if (node is not JsonObject q)
            throw new InvalidDataException($"{path}: \"{Key}\" must be an object {{method, bits, group_size, scale_dtype, format_version}}, found {node.ToJsonString()}");
        var problems = new List<string>();
        string? Str(string k) => q[k] is JsonValue v && v.TryGetValue(out string? s) ? s : null;
        int? Int(string k) => q[k] is JsonValue v && v.TryGetValue(out int i) ? i : null;
        if (Str("method") != Method) problems.Add($"method is {Show(q["method"])}, expected \"{Method}\" (the only quantizer LightGlm writes)");
        int? bits = Int("bits"), group = Int("group_size"), version = Int("format_version");
        if (bits is not (8 or 4)) problems.Add($"bits is {Show(q["bits"])}, expected 8 or 4");
        if (group is not { } g || g <= 0 || g % 32 != 0) problems.Add($"group_size is {Show(q["group_size"])}, expected a positive multiple of 32");
        if (Str("scale_dtype") != "F32") problems.Add($"scale_dtype is {Show(q["scale_dtype"])}, expected \"F32\"");
        if (version != FormatVersion) problems.Add($"format_version is {Show(q["format_version"])}, this build reads version {FormatVersion}");
        if (problems.Count > 0)
            throw new InvalidDataException($"{path}: invalid \"{Key}\" entry ({problems.Count} problem{(problems.Count > 1 ? "s" : "")}):\n  - "
                                           + string.Join("\n  - ", problems) + "\n  re-create the directory with `lightglm import|export --quantize int8|int4`");
        return new QuantizationEntry(bits == 8 ? WeightFormat.Int8 : WeightFormat.Int4, group!.Value);
    }

    static string Show(JsonNode? n) => n is null ? "missing" : n.ToJsonString();
}

/// <summary>
/// Tensor names of a quantized checkpoint: every projection and the LM head (also for a tied model, whose head the
/// engine quantizes from the embedding) as <c>NAME</c> = the quants and <c>NAME_scale</c> = the scales, NAME being the
/// contract's weight name (docs/ENGINE.md). The embedding, norms and q/k/v biases keep their names and stay floats.
/// </summary>
public static class QuantizedCheckpoint
{
    public const string ScaleSuffix = "_scale";

    public static string ScaleName(string weight) => weight + ScaleSuffix;

    /// <summary>The quantized weights of layer <paramref name="l"/> in file order: q, k, v, o, gate, up, down.</summary>
    public static string[] LayerMatrices(int l) =>
        [TensorNames.Q(l), TensorNames.K(l), TensorNames.V(l), TensorNames.O(l), TensorNames.Gate(l), TensorNames.Up(l), TensorNames.Down(l)];

    /// <summary>Quants per row in the file: PaddedCols bytes (I8) for int8, PaddedCols/2 (U8, two per byte) for int4.</summary>
    public static long QuantRowLength(int cols, QuantizationEntry q) => Padded(cols, q.GroupSize) / (q.Bits == 8 ? 1 : 2);

    public static int Padded(int cols, int groupSize) => (cols + groupSize - 1) / groupSize * groupSize;

    /// <summary>The quantization entry of the model directory <paramref name="dir"/>'s config.json, or null (not quantized, or no config).</summary>
    public static QuantizationEntry? Entry(string dir) =>
        Config(dir) is { } raw ? QuantizationEntry.Read(raw, Path.Combine(dir, ModelDirectory.ConfigFile)) : null;

    /// <summary>True when <paramref name="dir"/> is a quantized checkpoint (its config.json has a "quantization" entry).</summary>
    public static bool Is(string dir) => Config(dir)?.ContainsKey(QuantizationEntry.Key) == true;

    /// <summary>config.json as ModelConfig parses it (comments, trailing commas); null when absent or malformed — its
    /// reader then says what is wrong with it.</summary>
    static JsonObject? Config(string dir)
    {
        string cfg = Path.Combine(dir, ModelDirectory.ConfigFile);
        if (!File.Exists(cfg)) return null;
        try { return JsonFile.Read(cfg, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }) as JsonObject; }
        catch (InvalidDataException) { return null; }
    }

    /// <summary>
    /// Throws when <paramref name="dir"/> is a quantized checkpoint: every reader of fp32/bf16 weights (the training
    /// engine's arena, pruning, distillation, export to Hugging Face, GGUF or ONNX) calls this first, so the user reads
    /// what the directory is and what to use instead rather than a dtype error about one tensor.
    /// </summary>
    public static void RefuseFloatReader(string dir)
    {
        if (!Is(dir)) return;
        string what = Entry(dir) is { } q ? q.ToString() : "quantized";
        throw new InvalidDataException(
            $"{dir}: a quantized inference checkpoint ({what}; written by `lightglm import|export --quantize`): its projections are " +
            "stored as quants, which cannot be trained, fine-tuned, pruned, distilled, averaged or exported again. Run it with translate, " +
            "eval, serve, generate or bench; to train or export, use the fp32/bf16 model directory it was made from (or import the " +
            "Hugging Face checkpoint again without --quantize).");
    }
}
