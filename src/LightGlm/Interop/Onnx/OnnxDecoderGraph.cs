// The engine contract's decoder (docs/ENGINE.md) as an ONNX graph with a KV cache: one graph for prefill and decode.
// Inputs/outputs and the attention-bias convention are documented in docs/INTEROP.md ("ONNX").
using LightGlm.Model;

namespace LightGlm.Interop.Onnx;

/// <summary>
/// Builds the graph of a <see cref="GlmModel"/> from its arena. Per block (pre-norm, formulas of docs/ENGINE.md):
/// <code>
/// n1 = RMSNorm(x)·w1;  q|k|v = n1·Wqkvᵀ (+ b);  q, k = rope(q, k) at position_ids
/// K = concat(past_k, k), V = concat(past_v, v)  (= present.*)
/// a  = softmax(q·Kᵀ/√D + attention_bias)·V, query head h reading KV head h / (H/KV)
/// h  = x + a·Woᵀ;  y = h + (silu(n2·Wgᵀ) ⊙ n2·Wuᵀ)·Wdᵀ,  n2 = RMSNorm(h)·w2
/// </code>
/// Weights are stored transposed (in, out) so every projection is one MatMul; q|k|v and gate|up stay fused as in the
/// arena and are Split after the MatMul.
/// </summary>
internal sealed class OnnxDecoderGraph
{
    public const string InputIds = "input_ids", PositionIds = "position_ids", AttentionBias = "attention_bias", Logits = "logits";
    public static string PastKey(int layer) => $"past_key_values.{layer}.key";
    public static string PastValue(int layer) => $"past_key_values.{layer}.value";
    public static string PresentKey(int layer) => $"present.{layer}.key";
    public static string PresentValue(int layer) => $"present.{layer}.value";

    // Symbolic dims.
    const string B = "batch", T = "seq", P = "past_seq", S = "total_seq";

    readonly GlmModel _m;
    readonly ModelConfig _c;
    readonly OnnxGraph _g = new();
    string _cos = "", _sin = "", _rotate = "", _bias5 = "";

    OnnxDecoderGraph(GlmModel model) { _m = model; _c = model.Config; }

    /// <summary>The whole graph of <paramref name="model"/>; weights are read from its arena when the model is written.</summary>
    public static OnnxGraph Build(GlmModel model) => new OnnxDecoderGraph(model).Build();

    OnnxGraph Build()
    {
        var c = _c;
        var lo = _m.Layout;
        _g.Input(InputIds, OnnxType.Int64, B, T);
        _g.Input(PositionIds, OnnxType.Int64, B, T);
        _g.Input(AttentionBias, OnnxType.Float, B, 1, T, S);
        for (int l = 0; l < c.L; l++)
        {
            _g.Input(PastKey(l), OnnxType.Float, B, c.KV, P, c.D);
            _g.Input(PastValue(l), OnnxType.Float, B, c.KV, P, c.D);
        }
        _g.Output(Logits, OnnxType.Float, B, T, c.V);
        for (int l = 0; l < c.L; l++)
        {
            _g.Output(PresentKey(l), OnnxType.Float, B, c.KV, S, c.D);
            _g.Output(PresentValue(l), OnnxType.Float, B, c.KV, S, c.D);
        }

        string x = _g.Node("Gather", [Arena("model.embed_tokens.weight", lo.Embedding, c.V, c.C), InputIds], attributes: ("axis", 0)); // (B, T, C)
        RotaryInputs();
        // (B, 1, T, S) → (B, 1, 1, T, S): broadcast over KV groups and the heads of a group.
        _bias5 = _g.Node("Unsqueeze", [AttentionBias, _g.Int64s(1)]);
        for (int l = 0; l < c.L; l++) x = Block(x, l);
        string n = RmsNorm(x, Arena("model.norm.weight", lo.FinalNorm, c.C));
        _g.Node("MatMul", [n, Transposed("lm_head.weight_t", lo.LmHead, c.V, c.C)], [Logits]); // (B, T, V)
        return _g;
    }

    string Block(string x, int l)
    {
        var c = _c;
        var o = _m.Layout.Blocks[l];
        string p = $"model.layers.{l}.";
        int C = c.C, H = c.H, KV = c.KV, D = c.D, F = c.F, W = c.QkvDim;

        string n1 = RmsNorm(x, Arena(p + "input_layernorm.weight", o.InputNorm, C));
        string qkv = _g.Node("MatMul", [n1, Transposed(p + "self_attn.qkv_proj.weight_t", o.Qkv, W, C)]); // (B, T, W)
        if (c.AttentionBias) qkv = _g.Node("Add", [qkv, Arena(p + "self_attn.qkv_proj.bias", o.QkvBias, W)]);
        string q = _g.Name("q"), k = _g.Name("k"), v = _g.Name("v");
        _g.Node("Split", [qkv, _g.Int64s(H * D, KV * D, KV * D)], [q, k, v], ("axis", 2));
        q = Rope(_g.Node("Reshape", [q, _g.Int64s(0, 0, H, D)]));  // (B, T, H, D)
        k = Rope(_g.Node("Reshape", [k, _g.Int64s(0, 0, KV, D)])); // (B, T, KV, D)
        v = _g.Node("Reshape", [v, _g.Int64s(0, 0, KV, D)]);
        long[] heads = [0, 2, 1, 3];
        q = _g.Node("Transpose", [q], attributes: ("perm", heads));  // (B, H, T, D)
        k = _g.Node("Transpose", [k], attributes: ("perm", heads));  // (B, KV, T, D)
        v = _g.Node("Transpose", [v], attributes: ("perm", heads));
        string kAll = _g.Node("Concat", [PastKey(l), k], [PresentKey(l)], ("axis", 2));   // (B, KV, S, D)
        string vAll = _g.Node("Concat", [PastValue(l), v], [PresentValue(l)], ("axis", 2));

        // Grouped-query attention without repeating K/V: query heads h = g·(H/KV) + j form (B, KV, H/KV, T, D) and
        // MatMul broadcasts each KV head over its group.
        int G = H / KV;
        string qg = _g.Node("Reshape", [q, _g.Int64s(0, KV, G, -1, D)]);                       // (B, KV, G, T, D)
        string kt = _g.Node("Transpose", [kAll], attributes: ("perm", new long[] { 0, 1, 3, 2 })); // (B, KV, D, S)
        kt = _g.Node("Unsqueeze", [kt, _g.Int64s(2)]);                                          // (B, KV, 1, D, S)
        string scores = _g.Node("MatMul", [qg, kt]);                                            // (B, KV, G, T, S)
        scores = _g.Node("Mul", [scores, _g.Floats([], 1f / MathF.Sqrt(D))]);
        scores = _g.Node("Add", [scores, _bias5]);
        string probs = _g.Node("Softmax", [scores], attributes: ("axis", -1));
        string att = _g.Node("MatMul", [probs, _g.Node("Unsqueeze", [vAll, _g.Int64s(2)])]);  // (B, KV, G, T, D)
        att = _g.Node("Reshape", [att, _g.Int64s(0, H, -1, D)]);                                // (B, H, T, D)
        att = _g.Node("Transpose", [att], attributes: ("perm", heads));                         // (B, T, H, D)
        att = _g.Node("Reshape", [att, _g.Int64s(0, 0, H * D)]);
        x = _g.Node("Add", [x, _g.Node("MatMul", [att, Transposed(p + "self_attn.o_proj.weight_t", o.O, C, H * D)])]);

        string n2 = RmsNorm(x, Arena(p + "post_attention_layernorm.weight", o.PostNorm, C));
        string gu = _g.Node("MatMul", [n2, Transposed(p + "mlp.gate_up_proj.weight_t", o.GateUp, 2 * F, C)]); // (B, T, 2F)
        string gate = _g.Name("gate"), up = _g.Name("up");
        _g.Node("Split", [gu, _g.Int64s(F, F)], [gate, up], ("axis", 2));
        string act = _g.Node("Mul", [_g.Node("Mul", [gate, _g.Node("Sigmoid", [gate])]), up]); // silu(g) ⊙ u
        return _g.Node("Add", [x, _g.Node("MatMul", [act, Transposed(p + "mlp.down_proj.weight_t", o.Down, C, F)])]);
    }

    /// <summary>RMSNorm(x)·w = x / sqrt(mean(x²) + eps) · w over the last axis.</summary>
    string RmsNorm(string x, string w)
    {
        string ms = _g.Node("ReduceMean", [_g.Node("Mul", [x, x])], attributes: [("axes", new long[] { -1 }), ("keepdims", 1)]);
        string rms = _g.Node("Sqrt", [_g.Node("Add", [ms, _g.Floats([], (float)_c.RmsNormEps)])]);
        return _g.Node("Mul", [_g.Node("Div", [x, rms]), w]);
    }

    /// <summary>
    /// cos/sin of position_ids (B, T, 1, R) from tables built from the model's own RotaryTable, each angle repeated on
    /// both dims of its pair, and the signed permutation Prot with x·Prot = (−b, a) on every pair (a, b):
    /// rope(x) = x·cos + (x·Prot)·sin, i.e. (a·cos − b·sin, a·sin + b·cos) as Model/Ops/Rotary.cs.
    /// </summary>
    void RotaryInputs()
    {
        int R = _c.R, half = R / 2, maxPos = _c.MaxPositionEmbeddings;
        if (R == 0) return;
        var table = _m.Rotary.Table!;
        bool interleaved = _c.RopeInterleaved;
        int Pair(int i) => interleaved ? i / 2 : i % half; // which angle dim i uses
        string Table(string name, float[] src) => _g.Weight(name, [maxPos, R], dst =>
        {
            for (int t = 0; t < maxPos; t++)
                for (int i = 0; i < R; i++) dst[t * R + i] = src[t * half + Pair(i)];
        });
        string cos = _g.Node("Gather", [Table("rotary.cos", table.Cos), PositionIds], attributes: ("axis", 0)); // (B, T, R)
        string sin = _g.Node("Gather", [Table("rotary.sin", table.Sin), PositionIds], attributes: ("axis", 0));
        _cos = _g.Node("Unsqueeze", [cos, _g.Int64s(2)]); // (B, T, 1, R)
        _sin = _g.Node("Unsqueeze", [sin, _g.Int64s(2)]);
        _rotate = _g.Weight("rotary.rotate", [R, R], m =>
        {
            m.Clear();
            for (int i = 0; i < R; i++)
            {   // out[i] = Σ_k x[k]·m[k, i]: the first of a pair takes −(second), the second takes +(first)
                bool first = interleaved ? i % 2 == 0 : i < half;
                int partner = interleaved ? (first ? i + 1 : i - 1) : (first ? i + half : i - half);
                m[partner * R + i] = first ? -1f : 1f;
            }
        });
    }

    /// <summary>Rotates the first R dims of every head of x (B, T, heads, D); the other D − R pass through.</summary>
    string Rope(string x)
    {
        int R = _c.R, D = _c.D;
        if (R == 0) return x;
        string rot = R == D ? x : _g.Node("Slice", [x, _g.Int64s(0), _g.Int64s(R), _g.Int64s(3)]);
        string y = _g.Node("Add", [_g.Node("Mul", [rot, _cos]), _g.Node("Mul", [_g.Node("MatMul", [rot, _rotate]), _sin])]);
        if (R == D) return y;
        string pass = _g.Node("Slice", [x, _g.Int64s(R), _g.Int64s(D), _g.Int64s(3)]);
        return _g.Node("Concat", [y, pass], attributes: ("axis", 3));
    }

    /// <summary>An arena tensor as stored (row-major), e.g. a norm weight or the embedding.</summary>
    string Arena(string name, int offset, params long[] dims)
    {
        int n = (int)dims.Aggregate(1L, (a, b) => a * b);
        var w = _m.Weights;
        return _g.Weight(name, dims, dst => w.AsSpan(offset, n).CopyTo(dst));
    }

    /// <summary>An arena matrix W (rows, cols) stored as Wᵀ (cols, rows), so that y = x·Wᵀ is MatMul(x, Wᵀ).</summary>
    string Transposed(string name, int offset, int rows, int cols)
    {
        var w = _m.Weights;
        return _g.Weight(name, [cols, rows], dst =>
        {
            var src = w.AsSpan(offset, rows * cols);
            for (int r = 0; r < rows; r++)
                for (int k = 0; k < cols; k++) dst[k * rows + r] = src[r * cols + k];
        });
    }
}
