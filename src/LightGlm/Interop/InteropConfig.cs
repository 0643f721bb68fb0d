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
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>A contract config.json, read and validated by <see cref="LightGlm.Model.ModelConfig"/> (the one validator).</summary>
    public static InteropConfig Load(string path) =>
        JsonSerializer.Deserialize<InteropConfig>(LightGlm.Model.ModelConfig.Load(path).ToJson(), Json)!;

    /// <summary>Throws naming every problem, by the same rules as every other load path (LightGlm.Model.ModelConfig.Problems).</summary>
    public InteropConfig Check(string source)
    {
        var model = JsonSerializer.Deserialize<LightGlm.Model.ModelConfig>(ToJson(), LightGlm.Model.ModelConfig.JsonOptions)!;
        model.ModelType = "lightglm"; // the architecture was checked by name where it was detected
        model.Validate(source);
        return this;
    }

    public InteropConfig Clone() => JsonSerializer.Deserialize<InteropConfig>(ToJson(), Json)!;
}
