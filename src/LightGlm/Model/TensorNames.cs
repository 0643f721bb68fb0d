// Contract tensor names (docs/ENGINE.md), in one place: inference, compression and interop spell them from here.
namespace LightGlm.Model;

public static class TensorNames
{
    public const string Embed = "model.embed_tokens.weight";
    public const string FinalNorm = "model.norm.weight";
    public const string LmHead = "lm_head.weight";
    public static string Layer(int i) => $"model.layers.{i}.";
    public static string InputNorm(int i) => Layer(i) + "input_layernorm.weight";
    public static string PostNorm(int i) => Layer(i) + "post_attention_layernorm.weight";
    public static string Q(int i) => Layer(i) + "self_attn.q_proj.weight";
    public static string K(int i) => Layer(i) + "self_attn.k_proj.weight";
    public static string V(int i) => Layer(i) + "self_attn.v_proj.weight";
    public static string QBias(int i) => Layer(i) + "self_attn.q_proj.bias";
    public static string KBias(int i) => Layer(i) + "self_attn.k_proj.bias";
    public static string VBias(int i) => Layer(i) + "self_attn.v_proj.bias";
    public static string O(int i) => Layer(i) + "self_attn.o_proj.weight";
    public static string Gate(int i) => Layer(i) + "mlp.gate_proj.weight";
    public static string Up(int i) => Layer(i) + "mlp.up_proj.weight";
    public static string Down(int i) => Layer(i) + "mlp.down_proj.weight";

    /// <summary>The fused q|k|v and gate|up maps of layer i as modules (Phi-3's names): what a LoRA adapter on them is called after.</summary>
    public static string QkvModule(int i) => Layer(i) + "self_attn.qkv_proj";
    public static string OModule(int i) => Layer(i) + "self_attn.o_proj";
    public static string GateUpModule(int i) => Layer(i) + "mlp.gate_up_proj";
    public static string DownModule(int i) => Layer(i) + "mlp.down_proj";
    /// <summary>A LoRA adapter's matrices on a module, as PEFT names them: MODULE.lora_A.weight (r, in), MODULE.lora_B.weight (out, r).</summary>
    public static string LoraA(string module) => module + ".lora_A.weight";
    public static string LoraB(string module) => module + ".lora_B.weight";

    /// <summary>The 2-D weights of layer i that are linear maps (out, in): what quantization and sparsity act on.</summary>
    public static string[] LinearWeights(int i) => [Q(i), K(i), V(i), O(i), Gate(i), Up(i), Down(i)];
}
