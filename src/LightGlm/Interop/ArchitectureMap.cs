// THE one place where our tensor names (= HF LLaMA names, docs/ENGINE.md) meet each HF architecture's names and layouts.
using LightGlm.Model;

namespace LightGlm.Interop;

/// <summary>Our tensor <see cref="Ours"/> = rows <see cref="HfRows"/> of HF tensor <see cref="Hf"/> (row r of ours is HF row HfRows[r]).</summary>
public sealed record TensorMapping(string Ours, long[] OurShape, string Hf, long[] HfShape, int[] HfRows)
{
    public long RowLength => OurShape.Length <= 1 ? 1 : OurShape[1];
}

/// <summary>The complete correspondence for one architecture and config.</summary>
/// <param name="Mappings">Our tensors in our canonical order (embedding, blocks, final norm, head).</param>
/// <param name="Ignored">HF tensors that are derived buffers (rotary inv_freq) or duplicates (a tied head).</param>
/// <param name="Zero">HF tensors that must be all zero for our math to be theirs (LLaMA's o_proj.bias); export writes zeros.</param>
/// <param name="Generated">HF buffers that export must write (ChatGLM's rotary_pos_emb.inv_freq) with their values.</param>
public sealed record ArchitectureLayout(
    HfArchitecture Architecture,
    IReadOnlyList<TensorMapping> Mappings,
    Func<string, bool> Ignored,
    IReadOnlyList<(string Name, long[] Shape)> Zero,
    IReadOnlyList<(string Name, float[] Values)> Generated);

public static class ArchitectureMap
{
    /// <summary>
    /// The mapping for <paramref name="arch"/> given our config. <paramref name="perHeadQkv"/>: ChatGLM without
    /// multi_query_attention fuses q|k|v per head ([h0: q k v][h1: q k v]…) instead of [all q | all k | all v].
    /// When our rotary pairing differs from the architecture's (ChatGLM: interleaved (2j,2j+1); LLaMA/Qwen2:
    /// rotate_half (j, j+R/2)), q and k rows inside each head are permuted so the math stays the same.
    /// </summary>
    public static ArchitectureLayout For(HfArchitecture arch, ModelConfig c, bool perHeadQkv = false) => Build(arch, c, perHeadQkv, false);

    /// <summary>Our own directory: every tensor under its own name (the LLaMA names), rows as they are.</summary>
    public static ArchitectureLayout Ours(ModelConfig c) => Build(HfArchitecture.Llama, c, false, true);

    /// <summary>
    /// Where each of a head's D q/k rows goes when the rotary pairing changes from <paramref name="fromInterleaved"/> to
    /// <paramref name="toInterleaved"/> over the first R dims: row i (in the source pairing) becomes row result[i].
    /// Interleaved pair j = (2j, 2j+1) ⟷ rotate_half pair j = (j, j+R/2); rows ≥ R stay. Identity when the pairings agree.
    /// </summary>
    public static int[] RotaryRowOrder(int D, int R, bool fromInterleaved, bool toInterleaved)
    {
        int[] perm = Enumerable.Range(0, D).ToArray();
        if (fromInterleaved == toInterleaved) return perm;
        int half = R / 2;
        for (int i = 0; i < R; i++)
            perm[i] = fromInterleaved ? (i % 2 == 0 ? i / 2 : half + i / 2) : (i < half ? 2 * i : 2 * (i - half) + 1);
        return perm;
    }

    static ArchitectureLayout Build(HfArchitecture arch, ModelConfig c, bool perHeadQkv, bool identity)
    {
        int H = c.H, KV = c.KV, D = c.D, C = c.C, F = c.F, V = c.V;
        var maps = new List<TensorMapping>();
        bool chatglm = arch == HfArchitecture.ChatGlm;
        bool archInterleaved = chatglm;
        if (identity) { }
        else if (chatglm && c.R != D / 2)
            throw new InvalidDataException($"ChatGLM rotates exactly the first kv_channels/2 dims of each head; this model rotates R = {c.R} of D = {D} (partial_rotary_factor = {c.PartialRotaryFactor}); export it as hf-llama/hf-qwen2 instead");
        else if (!chatglm && c.R != D)
            throw new InvalidDataException($"{arch.FormatName()} rotates every dim of each head; this model rotates R = {c.R} of D = {D} (partial_rotary_factor = {c.PartialRotaryFactor}); export it as hf-chatglm instead");
        // q/k row order inside one head: ours -> theirs (identity when pairing conventions agree)
        int[] headPerm = RotaryRowOrder(D, c.R, c.RopeInterleaved, identity ? c.RopeInterleaved : archInterleaved);
        int[] Rows(int start, int count) => Enumerable.Range(start, count).ToArray();
        int[] Heads(int start, int heads, bool rope) // rows of `heads` heads starting at row `start`, permuted if rotary
        {
            var r = new int[heads * D];
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < D; i++) r[h * D + i] = start + h * D + (rope ? headPerm[i] : i);
            return r;
        }
        void Add(string ours, long[] shape, string hf, long[] hfShape, int[] rows) => maps.Add(new(ours, shape, hf, hfShape, rows));

        string embed = chatglm ? "transformer.embedding.word_embeddings.weight" : "model.embed_tokens.weight";
        Add(TensorNames.Embed, [V, C], embed, [V, C], Rows(0, V));
        var zero = new List<(string, long[])>();
        for (int l = 0; l < c.L; l++)
        {
            string p = $"model.layers.{l}.";
            if (chatglm)
            {
                string g = $"transformer.encoder.layers.{l}.";
                string qkv = g + "self_attention.query_key_value.";
                int qkvRows = (H + 2 * KV) * D;
                int[] q, k, v;
                if (perHeadQkv)
                {
                    if (KV != H) throw new InvalidDataException($"per-head fused qkv needs num_key_value_heads = num_attention_heads; got {KV} vs {H}");
                    // view (H, 3D): head h rows [3hD, 3hD+D) q, then k, then v
                    q = new int[H * D]; k = new int[H * D]; v = new int[H * D];
                    for (int h = 0; h < H; h++)
                        for (int i = 0; i < D; i++)
                        {
                            int pi = headPerm[i];
                            q[h * D + i] = 3 * h * D + pi;
                            k[h * D + i] = 3 * h * D + D + pi;
                            v[h * D + i] = 3 * h * D + 2 * D + i;
                        }
                }
                else
                {
                    q = Heads(0, H, true);
                    k = Heads(H * D, KV, true);
                    v = Heads((H + KV) * D, KV, false);
                }
                Add(TensorNames.InputNorm(l), [C], g + "input_layernorm.weight", [C], Rows(0, C));
                Add(TensorNames.Q(l), [H * D, C], qkv + "weight", [qkvRows, C], q);
                Add(TensorNames.K(l), [KV * D, C], qkv + "weight", [qkvRows, C], k);
                Add(TensorNames.V(l), [KV * D, C], qkv + "weight", [qkvRows, C], v);
                if (c.AttentionBias)
                {
                    Add(TensorNames.QBias(l), [H * D], qkv + "bias", [qkvRows], q);
                    Add(TensorNames.KBias(l), [KV * D], qkv + "bias", [qkvRows], k);
                    Add(TensorNames.VBias(l), [KV * D], qkv + "bias", [qkvRows], v);
                }
                Add(TensorNames.O(l), [C, H * D], g + "self_attention.dense.weight", [C, H * D], Rows(0, C));
                Add(TensorNames.PostNorm(l), [C], g + "post_attention_layernorm.weight", [C], Rows(0, C));
                // swiglu(x) = silu(chunk 0) * chunk 1: first F rows are the gate, last F the up projection
                Add(TensorNames.Gate(l), [F, C], g + "mlp.dense_h_to_4h.weight", [2 * F, C], Rows(0, F));
                Add(TensorNames.Up(l), [F, C], g + "mlp.dense_h_to_4h.weight", [2 * F, C], Rows(F, F));
                Add(TensorNames.Down(l), [C, F], g + "mlp.dense_4h_to_h.weight", [C, F], Rows(0, C));
            }
            else
            {
                Add(TensorNames.InputNorm(l), [C], p + "input_layernorm.weight", [C], Rows(0, C));
                Add(TensorNames.Q(l), [H * D, C], p + "self_attn.q_proj.weight", [H * D, C], Heads(0, H, true));
                Add(TensorNames.K(l), [KV * D, C], p + "self_attn.k_proj.weight", [KV * D, C], Heads(0, KV, true));
                Add(TensorNames.V(l), [KV * D, C], p + "self_attn.v_proj.weight", [KV * D, C], Rows(0, KV * D));
                if (c.AttentionBias)
                {
                    Add(TensorNames.QBias(l), [H * D], p + "self_attn.q_proj.bias", [H * D], Heads(0, H, true));
                    Add(TensorNames.KBias(l), [KV * D], p + "self_attn.k_proj.bias", [KV * D], Heads(0, KV, true));
                    Add(TensorNames.VBias(l), [KV * D], p + "self_attn.v_proj.bias", [KV * D], Rows(0, KV * D));
                    if (arch == HfArchitecture.Llama && !identity) zero.Add((p + "self_attn.o_proj.bias", [C]));
                }
                else if (arch == HfArchitecture.Qwen2) // Qwen2 always carries q/k/v biases: zeros when we have none
                {
                    zero.Add((p + "self_attn.q_proj.bias", [H * D]));
                    zero.Add((p + "self_attn.k_proj.bias", [KV * D]));
                    zero.Add((p + "self_attn.v_proj.bias", [KV * D]));
                }
                Add(TensorNames.O(l), [C, H * D], p + "self_attn.o_proj.weight", [C, H * D], Rows(0, C));
                Add(TensorNames.PostNorm(l), [C], p + "post_attention_layernorm.weight", [C], Rows(0, C));
                Add(TensorNames.Gate(l), [F, C], p + "mlp.gate_proj.weight", [F, C], Rows(0, F));
                Add(TensorNames.Up(l), [F, C], p + "mlp.up_proj.weight", [F, C], Rows(0, F));
                Add(TensorNames.Down(l), [C, F], p + "mlp.down_proj.weight", [C, F], Rows(0, C));
            }
        }
        Add(TensorNames.FinalNorm, [C], chatglm ? "transformer.encoder.final_layernorm.weight" : "model.norm.weight", [C], Rows(0, C));
        if (chatglm) // ChatGLM never ties: output_layer is written even for a tied model of ours (a copy of the embedding)
            Add(c.TieWordEmbeddings ? "model.embed_tokens.weight" : "lm_head.weight", [V, C], "transformer.output_layer.weight", [V, C], Rows(0, V));
        else if (!c.TieWordEmbeddings)
            Add(TensorNames.LmHead, [V, C], "lm_head.weight", [V, C], Rows(0, V));

        var generated = new List<(string, float[])>();
        Func<string, bool> ignored;
        if (identity) ignored = _ => false;
        else if (chatglm)
        {
            // RotaryEmbedding(dim = kv_channels/2) registers inv_freq = 1/10000^(arange(0, dim, 2)/dim) (base without rope_ratio; unused by forward)
            int dim = D / 2;
            generated.Add(("transformer.rotary_pos_emb.inv_freq",
                Enumerable.Range(0, (dim + 1) / 2).Select(j => (float)(1.0 / Math.Pow(10000, 2.0 * j / dim))).ToArray()));
            ignored = n => n == "transformer.rotary_pos_emb.inv_freq";
        }
        else
            ignored = n => n.EndsWith(".self_attn.rotary_emb.inv_freq", StringComparison.Ordinal) || (c.TieWordEmbeddings && n == "lm_head.weight");
        return new ArchitectureLayout(arch, maps, ignored, zero, generated);
    }
}
