// The sizes of a GLM/LLaMA model read from its config.json (docs/ENGINE.md names), and the config of a resized student.
using System.Text.Json;
using System.Text.Json.Nodes;
using LightGlm.IO;

namespace LightGlm.Compression;

/// <summary>
/// What compression needs from a config: V, C, L, H, KV, D, F, rotary layout, bias, tying. The JSON object is kept
/// whole so a student's config.json carries every other field of the teacher's unchanged.
/// </summary>
public sealed class ModelShape
{
    public JsonObject Json { get; }
    public int V => Int("vocab_size");
    public int C => Int("hidden_size");
    public int L => Int("num_hidden_layers");
    public int H => Int("num_attention_heads");
    public int KV => OptInt("num_key_value_heads") ?? H;
    public int D => OptInt("head_dim") ?? C / H;
    public int F => Int("intermediate_size");
    public double Eps => OptDouble("rms_norm_eps") ?? 1e-5;
    public double RopeTheta => OptDouble("rope_theta") ?? 10000;
    public double PartialRotaryFactor => OptDouble("partial_rotary_factor") ?? 1.0;
    /// <summary>Rotary dims per head, R = D·factor rounded down to even (as ModelConfig.R).</summary>
    public int R => (int)Math.Round(D * PartialRotaryFactor) & ~1;
    public bool RopeInterleaved => OptBool("rope_interleaved") ?? false;
    public bool AttentionBias => OptBool("attention_bias") ?? false;
    public bool Tied => OptBool("tie_word_embeddings") ?? false;
    /// <summary>Query heads per KV head.</summary>
    public int Group => H / KV;

    readonly string _source;

    public ModelShape(JsonObject json, string source = "config.json")
    {
        Json = json;
        _source = source;
        var p = new List<string>();
        foreach (var f in new[] { "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size" })
            if (OptInt(f) is not > 0) p.Add($"{f} must be a positive integer (got {json[f]?.ToJsonString() ?? "nothing"})");
        if (p.Count == 0)
        {
            if (H % KV != 0) p.Add($"num_attention_heads = {H} must be a multiple of num_key_value_heads = {KV}");
            if (OptInt("head_dim") is null && C % H != 0) p.Add($"hidden_size = {C} is not divisible by num_attention_heads = {H}; set head_dim");
            if (R > D) p.Add($"partial_rotary_factor = {PartialRotaryFactor} gives more rotary dims than head_dim = {D}");
        }
        if (p.Count > 0) throw new InvalidDataException($"{source}: invalid model config:\n  - " + string.Join("\n  - ", p));
    }

    public static ModelShape Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: config.json not found", path);
        JsonNode? node;
        try { node = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not valid JSON: {e.Message}", e); }
        return new ModelShape(node as JsonObject ?? throw new InvalidDataException($"{path}: expected a JSON object"), path);
    }

    /// <summary>A copy of this config with some sizes replaced (null = unchanged); head_dim is always written explicitly.</summary>
    public ModelShape Resized(int? v = null, int? c = null, int? l = null, int? h = null, int? kv = null, int? d = null, int? f = null, int? r = null)
    {
        var j = (JsonObject)Json.DeepClone();
        int newD = d ?? D, newR = r ?? (d is null ? R : Math.Min(R, newD));
        j["vocab_size"] = v ?? V;
        j["hidden_size"] = c ?? C;
        j["num_hidden_layers"] = l ?? L;
        j["num_attention_heads"] = h ?? H;
        j["num_key_value_heads"] = kv ?? KV;
        j["head_dim"] = newD;
        j["intermediate_size"] = f ?? F;
        j["partial_rotary_factor"] = newD == 0 ? 0 : (double)newR / newD;
        var s = new ModelShape(j, _source + " (resized)");
        if (s.R != newR) throw new InvalidOperationException($"rotary dims {newR} of head_dim {newD} cannot be expressed by partial_rotary_factor");
        return s;
    }

    public void Save(string path)
    {
        AtomicFile.WriteAllText(path, Json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>Parameter count implied by the config (tied head counted once).</summary>
    public long ParameterCount()
    {
        long attn = (long)C * H * D + 2L * C * KV * D + (long)H * D * C + (AttentionBias ? (long)(H + 2 * KV) * D : 0);
        long block = attn + 3L * C * F + 2L * C;
        return (long)V * C * (Tied ? 1 : 2) + L * block + C;
    }

    int Int(string f) => OptInt(f) ?? throw new InvalidDataException($"{_source}: field {f} is missing");
    int? OptInt(string f) => Json[f] is JsonValue v && v.TryGetValue<int>(out var i) ? i : Json[f] is JsonValue d && d.TryGetValue<double>(out var x) && x == Math.Floor(x) ? (int)x : null;
    double? OptDouble(string f) => Json[f] is JsonValue v && v.TryGetValue<double>(out var d) ? d : null;
    bool? OptBool(string f) => Json[f] is JsonValue v && v.TryGetValue<bool>(out var b) ? b : null;
}
