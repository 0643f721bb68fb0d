// Token-by-token decoding over memory-mapped weights (any stored dtype), fp32 compute, one block at a time.
using System.Numerics.Tensors;

namespace LightGlm.Interop.Inference;

/// <summary>
/// The engine contract's forward (docs/ENGINE.md "Math of one block") for one new token at a time with a KV cache:
/// n1 = RMSNorm(x)·w1; q,k,v = W·n1 (+b); rope on the first R dims (interleaved or half-split pairs);
/// attention over positions 0..t (scores / sqrt(D), query head h uses KV head h/(H/KV)); x += o_proj(ctx);
/// n2 = RMSNorm(x)·w2; x += down(silu(gate(n2)) ⊙ up(n2)); logits = lm_head(RMSNorm(x)·w).
/// Weights are read through <see cref="MappedWeights"/>, so a bf16 checkpoint (ours or Hugging Face's, fused or
/// not) is used in place: resident memory is the page cache of the weights + small fp32 buffers + the KV cache.
/// </summary>
public sealed class MappedDecoder
{
    public MappedWeights Weights { get; }
    public InteropConfig Config { get; }
    public int Position { get; private set; }
    public int MaxTokens { get; }

    readonly Layer[] _layers;
    readonly float[] _finalNorm, _invFreq;
    readonly MappedTensor _embed, _head;
    readonly float[] _x, _n, _q, _k, _v, _ctx, _o, _g, _u, _scores, _logits;

    sealed record Layer(float[] Norm1, float[] Norm2, MappedTensor Q, MappedTensor K, MappedTensor V, float[]? Bq, float[]? Bk, float[]? Bv,
        MappedTensor O, MappedTensor Gate, MappedTensor Up, MappedTensor Down, float[] KCache, float[] VCache);

    public MappedDecoder(MappedWeights weights, int maxTokens = 256)
    {
        Weights = weights;
        var c = Config = weights.Config;
        MaxTokens = maxTokens;
        int C = c.C, D = c.D, H = c.H, KV = c.KV;
        _layers = new Layer[c.L];
        for (int l = 0; l < c.L; l++)
        {
            string p = $"model.layers.{l}.";
            float[]? Bias(string n) => c.AttentionBias ? weights.ReadAll(p + n) : null;
            _layers[l] = new Layer(weights.ReadAll(p + "input_layernorm.weight"), weights.ReadAll(p + "post_attention_layernorm.weight"),
                weights[p + "self_attn.q_proj.weight"], weights[p + "self_attn.k_proj.weight"], weights[p + "self_attn.v_proj.weight"],
                Bias("self_attn.q_proj.bias"), Bias("self_attn.k_proj.bias"), Bias("self_attn.v_proj.bias"),
                weights[p + "self_attn.o_proj.weight"], weights[p + "mlp.gate_proj.weight"], weights[p + "mlp.up_proj.weight"],
                weights[p + "mlp.down_proj.weight"], new float[maxTokens * KV * D], new float[maxTokens * KV * D]);
        }
        _finalNorm = weights.ReadAll("model.norm.weight");
        _embed = weights["model.embed_tokens.weight"];
        _head = c.TieWordEmbeddings ? _embed : weights["lm_head.weight"];
        // inv_freq_j = theta^(-2j/R), in float32 as the reference implementations compute it
        _invFreq = Enumerable.Range(0, c.R / 2).Select(j => (float)(1.0 / Math.Pow(c.RopeTheta, 2.0 * j / c.R))).ToArray();
        _x = new float[C]; _n = new float[C]; _o = new float[C];
        _q = new float[H * D]; _ctx = new float[H * D]; _k = new float[KV * D]; _v = new float[KV * D];
        _g = new float[c.F]; _u = new float[c.F]; _scores = new float[maxTokens]; _logits = new float[c.V];
    }

    public void Reset() => Position = 0;

    /// <summary>Feeds one token at the next position; returns the logits for the token after it (a view, valid until the next call).</summary>
    public ReadOnlySpan<float> Step(int token)
    {
        var c = Config;
        if ((uint)token >= (uint)c.V) throw new ArgumentOutOfRangeException(nameof(token), $"token {token} is outside the vocabulary [0, {c.V})");
        if (Position >= MaxTokens) throw new InvalidOperationException($"the KV cache holds {MaxTokens} positions; Reset() or make a decoder with more");
        var scratch = new byte[c.C * 4];
        Weights.ReadRows(_embed, token, 1, _x, scratch);
        foreach (var l in _layers) Block(l);
        RmsNorm(_x, _finalNorm, _n);
        MappedMatVec.Run(Weights, _head, _n, _logits);
        Position++;
        return _logits;
    }

    /// <summary>Greedy continuation: feeds <paramref name="prompt"/>, then <paramref name="count"/> argmax tokens.</summary>
    public List<int> Greedy(IReadOnlyList<int> prompt, int count)
    {
        Reset();
        ReadOnlySpan<float> logits = default;
        foreach (var t in prompt) logits = Step(t);
        var output = new List<int>();
        for (int i = 0; i < count; i++)
        {
            int next = TensorPrimitives.IndexOfMax(logits);
            output.Add(next);
            if (i + 1 < count) logits = Step(next);
        }
        return output;
    }

    void Block(Layer l)
    {
        var c = Config;
        int D = c.D, H = c.H, KV = c.KV, t = Position;
        RmsNorm(_x, l.Norm1, _n);
        MappedMatVec.Run(Weights, l.Q, _n, _q, l.Bq);
        MappedMatVec.Run(Weights, l.K, _n, _k, l.Bk);
        MappedMatVec.Run(Weights, l.V, _n, _v, l.Bv);
        for (int h = 0; h < H; h++) Rope(_q.AsSpan(h * D, D), t);
        for (int h = 0; h < KV; h++) Rope(_k.AsSpan(h * D, D), t);
        _k.CopyTo(l.KCache, t * KV * D);
        _v.CopyTo(l.VCache, t * KV * D);
        float scale = 1f / MathF.Sqrt(D);
        int group = H / KV;
        for (int h = 0; h < H; h++)
        {
            int kvh = h / group;
            var q = _q.AsSpan(h * D, D);
            var s = _scores.AsSpan(0, t + 1);
            for (int j = 0; j <= t; j++) s[j] = TensorPrimitives.Dot(q, l.KCache.AsSpan((j * KV + kvh) * D, D)) * scale;
            TensorPrimitives.SoftMax(s, s);
            var ctx = _ctx.AsSpan(h * D, D);
            ctx.Clear();
            for (int j = 0; j <= t; j++) TensorPrimitives.MultiplyAdd(l.VCache.AsSpan((j * KV + kvh) * D, D), s[j], ctx, ctx);
        }
        MappedMatVec.Run(Weights, l.O, _ctx, _o);
        TensorPrimitives.Add(_x, _o, _x);
        RmsNorm(_x, l.Norm2, _n);
        MappedMatVec.Run(Weights, l.Gate, _n, _g);
        MappedMatVec.Run(Weights, l.Up, _n, _u);
        // silu(g)·u = g·sigmoid(g)·u
        for (int i = 0; i < _g.Length; i++) _g[i] = _g[i] / (1f + MathF.Exp(-_g[i])) * _u[i];
        MappedMatVec.Run(Weights, l.Down, _g, _o);
        TensorPrimitives.Add(_x, _o, _x);
    }

    /// <summary>y = x / sqrt(mean(x²) + eps) · w.</summary>
    void RmsNorm(float[] x, float[] w, float[] y)
    {
        float ms = TensorPrimitives.SumOfSquares(x) / x.Length;
        float inv = 1f / MathF.Sqrt(ms + (float)Config.RmsNormEps);
        TensorPrimitives.Multiply(x, inv, y);
        TensorPrimitives.Multiply(y, w, y);
    }

    /// <summary>Rotates pair j of the first R dims by angle t·inv_freq_j: pairs (2j, 2j+1) if interleaved, else (j, j+R/2).</summary>
    void Rope(Span<float> v, int t)
    {
        int half = Config.R / 2;
        bool inter = Config.RopeInterleaved;
        for (int j = 0; j < half; j++)
        {
            float angle = t * _invFreq[j];
            float cos = MathF.Cos(angle), sin = MathF.Sin(angle);
            int i0 = inter ? 2 * j : j, i1 = inter ? 2 * j + 1 : j + half;
            float a = v[i0], b = v[i1];
            v[i0] = a * cos - b * sin;
            v[i1] = b * cos + a * sin;
        }
    }
}
