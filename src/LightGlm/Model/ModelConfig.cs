// The GLM/LLaMA family configuration: JSON = Hugging Face config.json fields (snake_case), validated up front.
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LightGlm.Model;

/// <summary>
/// Model hyper-parameters as in docs/ENGINE.md. JSON fields this type does not model (architectures, torch_dtype,
/// imported_from, ...) are carried through load and save unchanged (<see cref="OtherFields"/>), so a Hugging Face
/// config.json of a LLaMA/Qwen2 model loads directly and a pruned student's config keeps every other field of its teacher's.
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
    /// <summary>The MLP's activation; null (absent) = silu. Read so that a config asking for another one is refused
    /// on every load path instead of running as SwiGLU.</summary>
    public string? HiddenAct { get; set; }
    public double RmsNormEps { get; set; } = 1e-5;
    public double RopeTheta { get; set; } = 10000;
    public double PartialRotaryFactor { get; set; } = 1.0;
    public bool RopeInterleaved { get; set; }
    public bool AttentionBias { get; set; }
    public bool TieWordEmbeddings { get; set; }
    public bool PrefixLm { get; set; }
    public double HiddenDropout { get; set; }
    public int MaxPositionEmbeddings { get; set; } = 2048;
    /// <summary>bos/eos/pad as written (a number or a list, saved back in that form); the engine uses the first id.</summary>
    [JsonPropertyName("bos_token_id")] public TokenIds? BosTokenIds { get; set; }
    [JsonPropertyName("eos_token_id")] public TokenIds? EosTokenIds { get; set; }
    [JsonPropertyName("pad_token_id")] public TokenIds? PadTokenIds { get; set; }
    /// <summary>Every field of config.json this type does not model, kept as written (the raw JSON of each value).</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? OtherFields { get; set; }

    // ---- the first id of each special token (setting one writes a single number) ----
    [JsonIgnore] public int? BosTokenId { get => BosTokenIds?.First; set => BosTokenIds = TokenIds.One(value); }
    [JsonIgnore] public int? EosTokenId { get => EosTokenIds?.First; set => EosTokenIds = TokenIds.One(value); }
    [JsonIgnore] public int? PadTokenId { get => PadTokenIds?.First; set => PadTokenIds = TokenIds.One(value); }

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
    /// <summary>Query heads per KV head.</summary>
    [JsonIgnore] public int Group => H / KV;

    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <summary>All problems with this config, each naming the field and its value; empty when valid.</summary>
    /// <param name="arena">Also refuse a model too large for the engine's one fp32 arena (loading into it, training);
    /// false for weights used in place (memory-mapped, quantized), which have no such limit.</param>
    public List<string> Problems(bool arena = true)
    {
        var p = new List<string>();
        void Positive(string field, long value) { if (value <= 0) p.Add($"{field} = {value} must be > 0"); }
        string[] types = ["llama", "qwen2", "chatglm", "lightglm"];
        if (!types.Contains(ModelType)) p.Add($"model_type = '{ModelType}' is not one of {string.Join(", ", types)}");
        if (HiddenAct is { } act && act != "silu")
            p.Add($"hidden_act = '{act}' is not supported: LightGlm models use silu (SwiGLU) MLPs only");
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
        void Token(string field, TokenIds? ids)
        {
            foreach (int v in ids?.Ids ?? [])
                if (VocabSize > 0 && (v < 0 || v >= VocabSize)) p.Add($"{field} = {v} is outside the vocabulary [0, {VocabSize})");
        }
        Token("bos_token_id", BosTokenIds);
        Token("eos_token_id", EosTokenIds);
        Token("pad_token_id", PadTokenIds);
        if (p.Count == 0) p.AddRange(SizeProblems(arena));
        return p;
    }

    /// <summary>
    /// Parameters of this config computed in floating point, so an absurd config (2³¹ − 1 layers) is measured without
    /// building its layout: V·C + L·(2C + (H+2KV)·D·C [+ (H+2KV)·D bias] + C·H·D + 3·F·C) + C [+ V·C untied head].
    /// </summary>
    public double ParameterEstimate()
    {
        double c = C, qkv = (double)(H + 2.0 * KV) * D;
        double block = 2 * c + qkv * c + (AttentionBias ? qkv : 0) + c * H * D + 3.0 * F * c;
        return (double)V * c + L * block + c + (TieWordEmbeddings ? 0 : (double)V * c);
    }

    /// <summary>Sizes that no arena can hold: said with the number of parameters and bytes they would need.</summary>
    List<string> SizeProblems(bool arena)
    {
        var p = new List<string>();
        double n = ParameterEstimate();
        if (arena && n > Array.MaxLength)
            p.Add($"the model would have {n:N0} parameters ({Bytes(n * 4)} as fp32; num_hidden_layers = {L}, hidden_size = {C}, " +
                  $"intermediate_size = {F}, vocab_size = {V}); a LightGlm model holds at most {Array.MaxLength:N0} parameters");
        double rotary = (double)MaxPositionEmbeddings * R; // cos and sin tables of (max positions, R/2) floats each
        if (rotary > Array.MaxLength)
            p.Add($"max_position_embeddings = {MaxPositionEmbeddings} with {R} rotary dims needs a {Bytes(rotary * 4)} rotary table; at most {Array.MaxLength / Math.Max(1, R):N0} positions");
        return p;
    }

    /// <summary>Bytes as MB/GB/TB for messages.</summary>
    public static string Bytes(double b) => b switch
    {
        >= 1e12 => $"{b / 1e12:0.#} TB", >= 1e9 => $"{b / 1e9:0.#} GB", >= 1e6 => $"{b / 1e6:0.#} MB", _ => $"{b / 1e3:0.#} kB",
    };

    /// <summary>
    /// Throws before a model of this config is allocated when its weights and rotary table alone exceed the memory this
    /// process can have (<paramref name="available"/> bytes), saying how much would be needed.
    /// </summary>
    public void CheckFitsInMemory(long available, string source = "model config")
    {
        double need = ParameterEstimate() * 4 + (double)MaxPositionEmbeddings * R * 4;
        if (need > available)
            throw new InvalidDataException($"{source}: a model of this config needs {Bytes(need)} of memory for its weights alone " +
                                           $"({ParameterEstimate():N0} parameters), but this machine has {Bytes(available)} available; use a smaller config");
    }

    /// <summary>Throws <see cref="InvalidDataException"/> listing every problem at once; <paramref name="source"/> names the file.</summary>
    public ModelConfig Validate(string source = "model config", bool arena = true)
    {
        var p = Problems(arena);
        if (p.Count > 0)
            throw new InvalidDataException($"{source}: invalid model config ({p.Count} problem{(p.Count > 1 ? "s" : "")}):\n  - " + string.Join("\n  - ", p));
        return this;
    }

    public static ModelConfig FromJson(string json, string source = "model config", bool arena = true)
    {
        ModelConfig? c;
        try
        {
            using (var doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }))
                CheckKinds(doc.RootElement, source);
            c = JsonSerializer.Deserialize<ModelConfig>(json, JsonOptions);
        }
        catch (JsonException e) { throw new InvalidDataException($"{source}: not a valid config JSON: {e.Message}", e); }
        if (c is null) throw new InvalidDataException($"{source}: the JSON is null, expected an object with model fields");
        c.ReadLegacyTokenIdLists();
        return c.Validate(source, arena);
    }

    /// <summary>
    /// A directory imported before the config kept token id lists holds the first id in eos_token_id and the whole list
    /// in imported_from.token_ids (GLM-4: 2 and [2, 7, 8]). The list is taken back when it still begins with the
    /// config's id (a vocabulary pruned since renumbered the config, not the note).
    /// </summary>
    void ReadLegacyTokenIdLists()
    {
        if (OtherFields?.GetValueOrDefault("imported_from") is not { ValueKind: JsonValueKind.Object } from
            || !from.TryGetProperty("token_ids", out var legacy) || legacy.ValueKind != JsonValueKind.Object) return;
        TokenIds? Upgrade(TokenIds? ids, string field)
        {
            if (ids is not { IsList: false, Ids: [int id] } || !legacy.TryGetProperty(field, out var list) || list.ValueKind != JsonValueKind.Array) return ids;
            var old = list.EnumerateArray().Select(x => x.TryGetInt32(out int v) ? v : (int?)null).ToArray();
            return old.Length > 0 && old[0] == id && old.All(v => v is not null) ? new TokenIds(old.Select(v => v!.Value).ToArray(), true) : ids;
        }
        BosTokenIds = Upgrade(BosTokenIds, "bos_token_id");
        EosTokenIds = Upgrade(EosTokenIds, "eos_token_id");
        PadTokenIds = Upgrade(PadTokenIds, "pad_token_id");
    }

    /// <summary>JSON field name → the kind its value must have (every settable property, by its JSON name or the snake_case policy).</summary>
    static readonly Dictionary<string, (Type Type, bool Nullable)> FieldTypes = typeof(ModelConfig).GetProperties()
        .Where(pr => pr.CanWrite && !Attribute.IsDefined(pr, typeof(JsonIgnoreAttribute)) && !Attribute.IsDefined(pr, typeof(JsonExtensionDataAttribute)))
        .ToDictionary(pr => pr.GetCustomAttributes(typeof(JsonPropertyNameAttribute), false) is [JsonPropertyNameAttribute named] ? named.Name
                          : JsonNamingPolicy.SnakeCaseLower.ConvertName(pr.Name),
                      pr => (pr.PropertyType, new System.Reflection.NullabilityInfoContext().Create(pr).WriteState == System.Reflection.NullabilityState.Nullable));

    /// <summary>
    /// Every field of the wrong JSON kind, named with what was expected and what was found, all at once — checked before
    /// binding, so "16" for hidden_size or 1.5 for num_hidden_layers is refused rather than coerced or reported as .NET text.
    /// </summary>
    public static void CheckKinds(JsonElement root, string source)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{source}: expected a JSON object of model fields, found {root.ValueKind.ToString().ToLowerInvariant()}");
        var p = new List<string>();
        foreach (var f in root.EnumerateObject())
        {
            if (!FieldTypes.TryGetValue(f.Name, out var field)) continue; // fields we do not read (architectures, torch_dtype, ...)
            var (type, nullable) = field;
            var v = f.Value;
            var bare = Nullable.GetUnderlyingType(type) ?? type;
            bool IsInt(JsonElement x) => x.ValueKind == JsonValueKind.Number && x.TryGetInt32(out _);
            (bool ok, string want) = bare switch
            {
                _ when v.ValueKind == JsonValueKind.Null => (nullable, "a value"),
                _ when bare == typeof(TokenIds) =>
                    (IsInt(v) || v.ValueKind == JsonValueKind.Array && v.EnumerateArray().All(IsInt), "an integer token id or a list of them"),
                _ when bare == typeof(int) => (IsInt(v), $"an integer in [{int.MinValue}, {int.MaxValue}]"),
                _ when bare == typeof(double) => (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out double d) && double.IsFinite(d), "a finite number"),
                _ when bare == typeof(bool) => (v.ValueKind is JsonValueKind.True or JsonValueKind.False, "true or false"),
                _ => (v.ValueKind == JsonValueKind.String, "a string"),
            };
            if (!ok) p.Add($"{f.Name}: expected {want}, found {Found(v)}");
        }
        if (p.Count > 0)
            throw new InvalidDataException($"{source}: invalid model config ({p.Count} field{(p.Count > 1 ? "s" : "")} of the wrong kind):\n  - " + string.Join("\n  - ", p));
    }

    static string Found(JsonElement v)
    {
        string raw = v.GetRawText();
        if (raw.Length > 40) raw = raw[..40] + "…";
        return v.ValueKind switch
        {
            JsonValueKind.Null => "null", JsonValueKind.Object => "an object", JsonValueKind.Array => $"an array {raw}",
            JsonValueKind.String => $"a string {raw}", JsonValueKind.Number => $"the number {raw}", _ => $"the boolean {raw}",
        };
    }

    public static ModelConfig Load(string path, bool arena = true)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: config file not found", path);
        return FromJson(File.ReadAllText(path), path, arena);
    }

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>
    /// The modelled fields only, without <see cref="OtherFields"/> (provenance such as imported_from, HF bookkeeping):
    /// what makes two configs the same model, for resume, averaging, adapters and cache keys.
    /// </summary>
    public string ModelJson()
    {
        var c = (ModelConfig)MemberwiseClone();
        c.OtherFields = null;
        return c.ToJson();
    }

    /// <summary>Writes this config as config.json at <paramref name="path"/> (atomically).</summary>
    public void Save(string path) => IO.AtomicFile.WriteAllText(path, ToJson());

    public ModelConfig Clone() => JsonSerializer.Deserialize<ModelConfig>(ToJson(), JsonOptions)!;

    /// <summary>
    /// Number of parameters (tied head counted once): <see cref="ParameterEstimate"/>, which is exact below 2⁵³ (every term
    /// is an integer no larger than the total) and equals <see cref="ParameterLayout"/>'s length, but also measures a teacher
    /// too large for one arena (a 6B model has more than int.MaxValue).
    /// </summary>
    public long ParameterCount()
    {
        double n = ParameterEstimate();
        return n < 1L << 53 ? (long)n : throw new OverflowException($"a model of {n:E3} parameters cannot be counted exactly");
    }

    /// <summary>
    /// A copy of this config with some sizes replaced (null = unchanged), every other field kept: a pruned student's config.
    /// head_dim is always written explicitly; the student rotates <paramref name="r"/> dims per head (default: the teacher's
    /// R, at most the new head_dim), written as partial_rotary_factor = r / head_dim, which must give back r.
    /// </summary>
    public ModelConfig Resized(int? v = null, int? c = null, int? l = null, int? h = null, int? kv = null, int? d = null, int? f = null, int? r = null)
    {
        var s = Clone();
        int newD = d ?? D, newR = r ?? (d is null ? R : Math.Min(R, newD));
        s.VocabSize = v ?? V;
        s.HiddenSize = c ?? C;
        s.NumHiddenLayers = l ?? L;
        s.NumAttentionHeads = h ?? H;
        s.NumKeyValueHeads = kv ?? KV;
        s.HeadDim = newD;
        s.IntermediateSize = f ?? F;
        s.PartialRotaryFactor = newD == 0 ? 0 : (double)newR / newD;
        if (s.R != newR) throw new InvalidOperationException($"rotary dims {newR} of head_dim {newD} cannot be expressed by partial_rotary_factor");
        return s.Validate("resized model config", arena: false);
    }
}
