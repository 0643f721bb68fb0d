// Hugging Face config.json <-> our config (docs/ENGINE.md), per architecture, with each field's HF default.
using LightGlm.Model;
using System.Text.Json;
using System.Text.Json.Nodes;
using LightGlm.Model.Checkpoints;

namespace LightGlm.Interop;

/// <summary>The result of reading an HF config: our config, the fused-qkv layout, and what defaults were taken.</summary>
public sealed record HfConfigReading(HfArchitecture Architecture, ModelConfig Config, bool PerHeadQkv, TensorLayoutNotes Notes);

/// <summary>Fields that were absent (and took the architecture's default) — printed by import so users see them.</summary>
public sealed class TensorLayoutNotes
{
    public List<string> Defaults { get; } = [];
    public string? TorchDType { get; set; }
}

public static class ConfigTranslation
{
    /// <summary>Reads config.json of an HF checkpoint into our config. Unsupported settings fail naming the field.</summary>
    public static HfConfigReading FromHf(JsonObject cfg, string source)
    {
        var arch = HfArchitectures.Detect(cfg, source);
        var r = new Reader(cfg, source);
        var c = new ModelConfig { ModelType = cfg["model_type"]!.GetValue<string>() };
        bool perHead = false;
        if (arch == HfArchitecture.ChatGlm)
        {
            // configuration_chatglm.ChatGLMConfig defaults
            c.NumHiddenLayers = r.Int("num_layers", 28);
            c.VocabSize = r.Int("padded_vocab_size", 65024);
            c.HiddenSize = r.Int("hidden_size", 4096);
            c.IntermediateSize = r.Int("ffn_hidden_size", 13696);
            c.NumAttentionHeads = r.Int("num_attention_heads", 32);
            c.HeadDim = cfg.ContainsKey("kv_channels") && cfg["kv_channels"] is null ? c.HiddenSize / c.NumAttentionHeads : r.Int("kv_channels", 128);
            bool mqa = r.Bool("multi_query_attention", false);
            c.NumKeyValueHeads = mqa ? r.Int("multi_query_group_num", 1) : c.NumAttentionHeads;
            perHead = !mqa;
            c.MaxPositionEmbeddings = r.Int("seq_length", 2048);
            c.RmsNormEps = r.Double("layernorm_epsilon", 1e-5);
            c.HiddenDropout = r.Double("hidden_dropout", 0.0);
            // RotaryEmbedding(kv_channels // 2): theta_j = (10000·rope_ratio)^(-2j/(D/2)) on the first D/2 dims, pairs (2j, 2j+1)
            c.RopeTheta = 10000.0 * r.Double("rope_ratio", 1.0);
            c.PartialRotaryFactor = 0.5;
            c.RopeInterleaved = true;
            c.AttentionBias = r.Bool("add_qkv_bias", false);
            c.TieWordEmbeddings = false; // output_layer is its own tensor
            c.PrefixLm = false;          // ChatGLM2+ attend causally (get_masks: tril), unlike GLM-130B/ChatGLM-6B
            r.Require("rmsnorm", true, "LayerNorm blocks");
            r.Require("apply_residual_connection_post_layernorm", false, "residuals taken after the norm");
            r.Require("post_layer_norm", true, "no final norm");
            r.Require("add_bias_linear", false, "biases on dense / dense_h_to_4h / dense_4h_to_h");
            r.RequireNull("pre_seq_len", "a P-tuning prefix encoder");
            if (r.Int("quantization_bit", 0) != 0) r.Fail("quantization_bit", "quantized (int4/int8) weights; import the fp16/bf16 release");
            if (c.D % 4 != 0) r.Fail("kv_channels", $"{c.D} is not a multiple of 4: ChatGLM's rotary table over kv_channels/2 dims then has an odd size our rule R = D/2 does not reproduce");
        }
        else
        {
            bool qwen = arch == HfArchitecture.Qwen2;
            // LlamaConfig / Qwen2Config defaults
            c.VocabSize = r.Int("vocab_size", qwen ? 151936 : 32000);
            c.HiddenSize = r.Int("hidden_size", 4096);
            c.IntermediateSize = r.Int("intermediate_size", qwen ? 22016 : 11008);
            c.NumHiddenLayers = r.Int("num_hidden_layers", 32);
            c.NumAttentionHeads = r.Int("num_attention_heads", 32);
            c.NumKeyValueHeads = cfg["num_key_value_heads"] is null ? c.NumAttentionHeads : r.Int("num_key_value_heads", c.NumAttentionHeads);
            c.HeadDim = cfg["head_dim"] is null ? c.HiddenSize / c.NumAttentionHeads : r.Int("head_dim", 0);
            c.MaxPositionEmbeddings = r.Int("max_position_embeddings", qwen ? 32768 : 2048);
            c.RmsNormEps = r.Double("rms_norm_eps", 1e-6);
            c.RopeTheta = r.Double("rope_theta", 10000.0);
            c.PartialRotaryFactor = 1.0;
            c.RopeInterleaved = false; // rotate_half pairs j with j + D/2
            c.TieWordEmbeddings = r.Bool("tie_word_embeddings", false);
            c.PrefixLm = false;
            if (r.Str("hidden_act", "silu") != "silu") r.Fail("hidden_act", "only silu (SwiGLU) MLPs");
            r.RequireNull("rope_scaling", "scaled rotary embeddings (llama3 / yarn / linear / dynamic)");
            if (cfg["partial_rotary_factor"] is not null && r.Double("partial_rotary_factor", 1.0) != 1.0)
                r.Fail("partial_rotary_factor", "partial rotary in a LLaMA layout");
            if (qwen)
            {
                c.AttentionBias = true; // Qwen2Attention: q/k/v always biased, o never
                if (r.Bool("use_sliding_window", false)) r.Fail("use_sliding_window", "sliding-window attention");
            }
            else
            {
                // LlamaAttention puts attention_bias on q, k, v AND o_proj; import reads o_proj.bias and requires it zero
                c.AttentionBias = r.Bool("attention_bias", false);
                r.Require("mlp_bias", false, "biases on the MLP projections");
            }
        }
        c.BosTokenIds = r.Ids("bos_token_id"); // a list (LLaMA-3's and GLM-4's several eos ids) stays the whole list
        c.EosTokenIds = r.Ids("eos_token_id");
        c.PadTokenIds = r.Ids("pad_token_id");
        r.Notes.TorchDType = cfg["torch_dtype"]?.GetValue<string>();
        // The one validator (ModelConfig.Problems), the architecture having been checked by name where it was detected.
        var shape = c.Clone();
        shape.ModelType = "lightglm";
        shape.Validate(source, arena: false); // used in place or imported in pieces: no arena limit here
        return new HfConfigReading(arch, c, perHead, r.Notes);
    }

    /// <summary>Our config as the target architecture's config.json (what save_pretrained would write).</summary>
    public static JsonObject ToHf(HfArchitecture target, ModelConfig c, TensorDType dtype)
    {
        JsonObject o;
        if (target == HfArchitecture.ChatGlm)
        {
            o = new JsonObject
            {
                ["architectures"] = new JsonArray("ChatGLMModel"),
                ["model_type"] = "chatglm",
                // THUDM's GLM-4 remote code (it reads rope_ratio; ChatGLM2's ignores it), fetched by transformers with trust_remote_code
                ["auto_map"] = new JsonObject
                {
                    ["AutoConfig"] = "THUDM/glm-4-9b--configuration_chatglm.ChatGLMConfig",
                    ["AutoModel"] = "THUDM/glm-4-9b--modeling_chatglm.ChatGLMForConditionalGeneration",
                    ["AutoModelForCausalLM"] = "THUDM/glm-4-9b--modeling_chatglm.ChatGLMForConditionalGeneration",
                    ["AutoModelForSeq2SeqLM"] = "THUDM/glm-4-9b--modeling_chatglm.ChatGLMForConditionalGeneration",
                },
                ["add_bias_linear"] = false,
                ["add_qkv_bias"] = c.AttentionBias,
                ["apply_query_key_layer_scaling"] = true,
                ["apply_residual_connection_post_layernorm"] = false,
                ["attention_dropout"] = 0.0,
                ["attention_softmax_in_fp32"] = true,
                ["bias_dropout_fusion"] = true,
                ["ffn_hidden_size"] = c.F,
                ["fp32_residual_connection"] = false,
                ["hidden_dropout"] = c.HiddenDropout,
                ["hidden_size"] = c.C,
                ["kv_channels"] = c.D,
                ["layernorm_epsilon"] = c.RmsNormEps,
                ["multi_query_attention"] = true,
                ["multi_query_group_num"] = c.KV,
                ["num_attention_heads"] = c.H,
                ["num_layers"] = c.L,
                ["num_hidden_layers"] = c.L,
                ["original_rope"] = true,
                ["padded_vocab_size"] = c.V,
                ["post_layer_norm"] = true,
                ["rmsnorm"] = true,
                ["rope_ratio"] = c.RopeTheta / 10000.0,
                ["seq_length"] = c.MaxPositionEmbeddings,
                ["tie_word_embeddings"] = false,
                ["torch_dtype"] = dtype.TorchName(),
                ["use_cache"] = true,
            };
        }
        else
        {
            bool qwen = target == HfArchitecture.Qwen2;
            o = new JsonObject
            {
                ["architectures"] = new JsonArray(qwen ? "Qwen2ForCausalLM" : "LlamaForCausalLM"),
                ["model_type"] = qwen ? "qwen2" : "llama",
                ["attention_dropout"] = 0.0,
                ["hidden_act"] = "silu",
                ["hidden_size"] = c.C,
                ["head_dim"] = c.D,
                ["initializer_range"] = 0.02,
                ["intermediate_size"] = c.F,
                ["max_position_embeddings"] = c.MaxPositionEmbeddings,
                ["num_attention_heads"] = c.H,
                ["num_hidden_layers"] = c.L,
                ["num_key_value_heads"] = c.KV,
                ["rms_norm_eps"] = c.RmsNormEps,
                ["rope_scaling"] = null,
                ["rope_theta"] = c.RopeTheta,
                ["tie_word_embeddings"] = c.TieWordEmbeddings,
                ["torch_dtype"] = dtype.TorchName(),
                ["use_cache"] = true,
                ["vocab_size"] = c.V,
            };
            if (qwen) { o["use_sliding_window"] = false; o["sliding_window"] = c.MaxPositionEmbeddings; o["max_window_layers"] = c.L; }
            else { o["attention_bias"] = c.AttentionBias; o["mlp_bias"] = false; o["pretraining_tp"] = 1; }
        }
        // each as read: a number stays a number, a list (GLM-4's three eos ids) the whole list
        foreach (var (key, ids) in new[] { ("bos_token_id", c.BosTokenIds), ("eos_token_id", c.EosTokenIds), ("pad_token_id", c.PadTokenIds) })
            if (ids is not null) o[key] = JsonSerializer.SerializeToNode(ids);
        return o;
    }

    /// <summary>Typed field access that records defaults and fails with the field's name, value and the file.</summary>
    sealed class Reader(JsonObject cfg, string source)
    {
        public TensorLayoutNotes Notes { get; } = new();

        JsonNode? Field(string name, object fallback)
        {
            if (cfg[name] is { } n) return n;
            Notes.Defaults.Add($"{name} = {fallback} (absent; the architecture's default)");
            return null;
        }

        public int Int(string name, int fallback)
        {
            var n = Field(name, fallback);
            if (n is null) return fallback;
            try { return n.GetValue<int>(); }
            catch (Exception) { throw new InvalidDataException($"{source}: {name} = {n.ToJsonString()} is not an integer"); }
        }

        public double Double(string name, double fallback)
        {
            var n = Field(name, fallback);
            if (n is null) return fallback;
            try { return n.GetValue<double>(); }
            catch (Exception) { throw new InvalidDataException($"{source}: {name} = {n.ToJsonString()} is not a number"); }
        }

        public bool Bool(string name, bool fallback)
        {
            var n = Field(name, fallback);
            if (n is null) return fallback;
            try { return n.GetValue<bool>(); }
            catch (Exception) { throw new InvalidDataException($"{source}: {name} = {n.ToJsonString()} is not true/false"); }
        }

        public string Str(string name, string fallback) => cfg[name]?.GetValue<string>() ?? fallback;

        /// <summary>A token id field as written: one id, or a list of them (<see cref="TokenIds"/>); null when absent.</summary>
        public TokenIds? Ids(string name)
        {
            if (cfg[name] is not { } n) return null;
            try { return n.Deserialize<TokenIds>(); }
            catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
            { throw new InvalidDataException($"{source}: {name} = {n.ToJsonString()} is not a token id or a list of them"); }
        }

        public void Require(string name, bool expected, string what)
        {
            if (cfg[name] is { } n && n.GetValue<bool>() != expected) Fail(name, what);
        }

        public void RequireNull(string name, string what)
        {
            if (cfg[name] is { } n) Fail(name, $"{what} (value {n.ToJsonString()})");
        }

        public void Fail(string name, string what) =>
            throw new InvalidDataException($"{source}: {name} = {cfg[name]?.ToJsonString() ?? "?"}: {what} is not supported by LightGlm's engine; such a checkpoint cannot be imported faithfully");
    }
}
