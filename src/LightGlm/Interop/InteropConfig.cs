// Our model config as docs/ENGINE.md defines it (config.json fields), as the interop code reads and writes it.
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LightGlm.Interop;

/// <summary>
/// The engine contract's config fields (docs/ENGINE.md), snake_case in JSON, so that the config.json written by
/// import is the one LightGlm.Model.ModelConfig loads. Kept here so interop does not wait on the model's types;
/// the field names and defaults are the contract's.
/// </summary>
public sealed class InteropConfig
{
    public string ModelType { get; set; } = "lightglm";
    public int VocabSize { get; set; }
    public int HiddenSize { get; set; }
    public int NumHiddenLayers { get; set; }
    public int NumAttentionHeads { get; set; }
    public int? NumKeyValueHeads { get; set; }
    public int? HeadDim { get; set; }
    public int IntermediateSize { get; set; }
    public double RmsNormEps { get; set; } = 1e-5;
    public double RopeTheta { get; set; } = 10000;
    public double PartialRotaryFactor { get; set; } = 1.0;
    public bool RopeInterleaved { get; set; }
    public bool AttentionBias { get; set; }
    public bool TieWordEmbeddings { get; set; }
    public bool PrefixLm { get; set; }
    public double HiddenDropout { get; set; }
    public int MaxPositionEmbeddings { get; set; } = 2048;
    public int? BosTokenId { get; set; }
    public int? EosTokenId { get; set; }
    public int? PadTokenId { get; set; }

    [JsonIgnore] public int V => VocabSize;
    [JsonIgnore] public int C => HiddenSize;
    [JsonIgnore] public int L => NumHiddenLayers;
    [JsonIgnore] public int H => NumAttentionHeads;
    [JsonIgnore] public int KV => NumKeyValueHeads ?? NumAttentionHeads;
    [JsonIgnore] public int D => HeadDim ?? HiddenSize / Math.Max(1, NumAttentionHeads);
    [JsonIgnore] public int F => IntermediateSize;
    /// <summary>Rotary dims per head, R = D·partial_rotary_factor rounded to even (the contract's rule).</summary>
    [JsonIgnore] public int R => (int)Math.Round(D * PartialRotaryFactor) & ~1;

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowReadingFromString,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static InteropConfig Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: config.json not found", path);
        try
        {
            var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))?.AsObject()
                       ?? throw new InvalidDataException($"{path}: config.json is not a JSON object");
            foreach (var k in new[] { "bos_token_id", "eos_token_id", "pad_token_id" }) // lists (HF) -> first id
                if (node[k] is System.Text.Json.Nodes.JsonArray a) node[k] = a.Count > 0 ? a[0]!.GetValue<int>() : null;
            return node.Deserialize<InteropConfig>(Json)!.Check(path);
        }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a valid config.json: {e.Message}"); }
        catch (InvalidOperationException e) { throw new InvalidDataException($"{path}: not a valid config.json (a field has the wrong JSON type: {e.Message})"); }
    }

    /// <summary>Throws naming every field that is out of range.</summary>
    public InteropConfig Check(string source)
    {
        var p = new List<string>();
        void Pos(string f, int v) { if (v <= 0) p.Add($"{f} = {v} must be > 0"); }
        Pos("vocab_size", VocabSize); Pos("hidden_size", HiddenSize); Pos("num_hidden_layers", NumHiddenLayers);
        Pos("num_attention_heads", NumAttentionHeads); Pos("intermediate_size", IntermediateSize); Pos("head_dim", D);
        if (KV <= 0 || H % KV != 0) p.Add($"num_attention_heads = {H} must be a positive multiple of num_key_value_heads = {KV}");
        if (PartialRotaryFactor is < 0 or > 1) p.Add($"partial_rotary_factor = {PartialRotaryFactor} must be in [0, 1]");
        if (p.Count > 0) throw new InvalidDataException($"{source}: invalid model config:\n  - " + string.Join("\n  - ", p));
        return this;
    }

    public InteropConfig Clone() => JsonSerializer.Deserialize<InteropConfig>(ToJson(), Json)!;
}
