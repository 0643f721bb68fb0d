// The GLM/LLaMA family configuration: JSON = Hugging Face config.json fields (snake_case), validated up front.
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LightGlm.Model;

/// <summary>
/// Model hyper-parameters as in docs/ENGINE.md. Unknown JSON fields (architectures, torch_dtype, ...) are ignored,
/// so a Hugging Face config.json of a LLaMA/Qwen2 model loads directly.
/// </summary>
public sealed class ModelConfig
{
    public string ModelType { get; set; } = "lightglm";
    public int VocabSize { get; set; }
    public int HiddenSize { get; set; }
    public int NumHiddenLayers { get; set; }
    public int NumAttentionHeads { get; set; }
    /// <summary>KV heads; null = same as <see cref="NumAttentionHeads"/> (multi-head attention).</summary>
    public int? NumKeyValueHeads { get; set; }
    /// <summary>Head dimension; null = hidden_size / num_attention_heads.</summary>
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
    [JsonConverter(typeof(FirstIntConverter))] public int? BosTokenId { get; set; }
    [JsonConverter(typeof(FirstIntConverter))] public int? EosTokenId { get; set; }
    [JsonConverter(typeof(FirstIntConverter))] public int? PadTokenId { get; set; }

    // ---- derived sizes (llm.c names) ----
    [JsonIgnore] public int V => VocabSize;
    [JsonIgnore] public int C => HiddenSize;
    [JsonIgnore] public int L => NumHiddenLayers;
    [JsonIgnore] public int H => NumAttentionHeads;
    [JsonIgnore] public int KV => NumKeyValueHeads ?? NumAttentionHeads;
    [JsonIgnore] public int D => HeadDim ?? (NumAttentionHeads > 0 ? HiddenSize / NumAttentionHeads : 0);
    [JsonIgnore] public int F => IntermediateSize;
    /// <summary>Rotary dimensions per head: R = D·partial_rotary_factor, rounded down to even.</summary>
    [JsonIgnore] public int R => (int)Math.Round(D * PartialRotaryFactor) & ~1;
    /// <summary>Width of the fused q|k|v projection output: (H + 2·KV)·D.</summary>
    [JsonIgnore] public int QkvDim => (H + 2 * KV) * D;

    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        NumberHandling = JsonNumberHandling.AllowReadingFromString,
    };

    /// <summary>All problems with this config, each naming the field and its value; empty when valid.</summary>
    public List<string> Problems()
    {
        var p = new List<string>();
        void Positive(string field, long value) { if (value <= 0) p.Add($"{field} = {value} must be > 0"); }
        string[] types = ["llama", "qwen2", "chatglm", "lightglm"];
        if (!types.Contains(ModelType)) p.Add($"model_type = '{ModelType}' is not one of {string.Join(", ", types)}");
        Positive("vocab_size", VocabSize);
        Positive("hidden_size", HiddenSize);
        Positive("num_hidden_layers", NumHiddenLayers);
        Positive("num_attention_heads", NumAttentionHeads);
        Positive("intermediate_size", IntermediateSize);
        if (NumKeyValueHeads is { } kv)
        {
            Positive("num_key_value_heads", kv);
            if (kv > 0 && NumAttentionHeads > 0 && NumAttentionHeads % kv != 0)
                p.Add($"num_attention_heads = {NumAttentionHeads} must be a multiple of num_key_value_heads = {kv}");
        }
        if (HeadDim is { } hd) Positive("head_dim", hd);
        else if (NumAttentionHeads > 0 && HiddenSize % NumAttentionHeads != 0)
            p.Add($"hidden_size = {HiddenSize} is not divisible by num_attention_heads = {NumAttentionHeads}; set head_dim explicitly");
        if (HeadDim is null or > 0 && D % 2 != 0 && PartialRotaryFactor > 0) p.Add($"head_dim = {D} must be even for rotary embeddings");
        if (PartialRotaryFactor is < 0 or > 1 || double.IsNaN(PartialRotaryFactor))
            p.Add($"partial_rotary_factor = {PartialRotaryFactor} must be in [0, 1]");
        if (!(RmsNormEps > 0)) p.Add($"rms_norm_eps = {RmsNormEps} must be > 0");
        if (!(RopeTheta > 0)) p.Add($"rope_theta = {RopeTheta} must be > 0");
        if (HiddenDropout is < 0 or >= 1 || double.IsNaN(HiddenDropout)) p.Add($"hidden_dropout = {HiddenDropout} must be in [0, 1)");
        Positive("max_position_embeddings", MaxPositionEmbeddings);
        void Token(string field, int? id)
        {
            if (id is { } v && VocabSize > 0 && (v < 0 || v >= VocabSize)) p.Add($"{field} = {v} is outside the vocabulary [0, {VocabSize})");
        }
        Token("bos_token_id", BosTokenId);
        Token("eos_token_id", EosTokenId);
        Token("pad_token_id", PadTokenId);
        return p;
    }

    /// <summary>Throws <see cref="InvalidDataException"/> listing every problem at once; <paramref name="source"/> names the file.</summary>
    public ModelConfig Validate(string source = "model config")
    {
        var p = Problems();
        if (p.Count > 0)
            throw new InvalidDataException($"{source}: invalid model config ({p.Count} problem{(p.Count > 1 ? "s" : "")}):\n  - " + string.Join("\n  - ", p));
        return this;
    }

    public static ModelConfig FromJson(string json, string source = "model config")
    {
        ModelConfig? c;
        try { c = JsonSerializer.Deserialize<ModelConfig>(json, JsonOptions); }
        catch (JsonException e) { throw new InvalidDataException($"{source}: not a valid config JSON: {e.Message}", e); }
        if (c is null) throw new InvalidDataException($"{source}: the JSON is null, expected an object with model fields");
        return c.Validate(source);
    }

    public static ModelConfig Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: config file not found", path);
        return FromJson(File.ReadAllText(path), path);
    }

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public ModelConfig Clone() => JsonSerializer.Deserialize<ModelConfig>(ToJson(), JsonOptions)!;

    /// <summary>Number of parameters (tied head counted once).</summary>
    public long ParameterCount() => ParameterLayout.Build(this).TotalLength;

    /// <summary>Accepts an integer or an array of integers (HF writes eos_token_id as a list for some models): first wins.</summary>
    sealed class FirstIntConverter : JsonConverter<int?>
    {
        public override int? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType == JsonTokenType.Null) return null;
            if (reader.TokenType == JsonTokenType.Number) return reader.GetInt32();
            if (reader.TokenType == JsonTokenType.StartArray)
            {
                int? first = null;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    if (reader.TokenType == JsonTokenType.Number) first ??= reader.GetInt32();
                return first;
            }
            throw new JsonException($"expected a token id (integer or list of integers), got {reader.TokenType}");
        }

        public override void Write(Utf8JsonWriter writer, int? value, JsonSerializerOptions options)
        {
            if (value is { } v) writer.WriteNumberValue(v); else writer.WriteNullValue();
        }
    }
}
