// Causal / GLM-prefix masked softmax attention with grouped KV heads, forward and backward, parallel per (b, kv head).
using System.Numerics.Tensors;

namespace LightGlm.Model.Ops;

internal static class Attention
{
    /// <summary>
    /// qkv (B·T, (H+2KV)·D): per row q (H·D) | k (KV·D) | v (KV·D), rotary already applied.
    /// probs (B, H, T, T): softmax(q·kᵀ/√D) over visible keys (j ≤ i, or j &lt; prefix[b]); out (B·T, H·D) = probs·v.
    /// Query head h reads KV head h / (H/KV).
    /// </summary>
    public static void Forward(TensorView output, TensorView probs, TensorView qkv, ReadOnlyMemory<int> prefix,
        int B, int T, int H, int KV, int D)
    {
        int W = (H + 2 * KV) * D, group = H / KV;
        float scale = 1f / MathF.Sqrt(D);
        Parallelism.For(B * H, (long)T * T * D, bh =>
        {
            int b = bh / H, h = bh % H, kvh = h / group;
            int p = prefix.IsEmpty ? 0 : prefix.Span[b];
            var all = qkv.Data.AsSpan(qkv.Offset, B * T * W);
            var outAll = output.Data.AsSpan(output.Offset, B * T * H * D);
            for (int i = 0; i < T; i++)
            {
                var q = all.Slice((b * T + i) * W + h * D, D);
                var pr = probs.Data.AsSpan(probs.Offset + ((b * H + h) * T + i) * T, T);
                int visible = Math.Min(T, Math.Max(i + 1, p)); // keys [0, visible) are visible
                float max = float.NegativeInfinity;
                for (int j = 0; j < visible; j++)
                {
                    float s = scale * TensorPrimitives.Dot(q, all.Slice((b * T + j) * W + (H + kvh) * D, D));
                    pr[j] = s;
                    if (s > max) max = s;
                }
                float sum = 0;
                for (int j = 0; j < visible; j++) { float e = MathF.Exp(pr[j] - max); pr[j] = e; sum += e; }
                float inv = 1f / sum;
                var o = outAll.Slice((b * T + i) * H * D + h * D, D);
                o.Clear();
                for (int j = 0; j < visible; j++)
                {
                    pr[j] *= inv;
                    TensorPrimitives.MultiplyAdd(all.Slice((b * T + j) * W + (H + KV + kvh) * D, D), pr[j], o, o);
                }
                pr[visible..].Clear();
            }
        });
    }

    /// <summary>
    /// Inverts out = probs·v, probs = softmax(s), s = q·kᵀ/√D:
    /// dv_j += Σ_i p_ij·dout_i;  dp_ij = dout_i·v_j;  ds_ij = p_ij(dp_ij − Σ_j' p_ij' dp_ij');
    /// dq_i = Σ_j ds_ij·k_j/√D;  dk_j += Σ_i ds_ij·q_i/√D.  Writes dqkv (B·T, (H+2KV)·D) (overwrites).
    /// Parallel over (b, kv head) so each task owns its dk, dv rows.
    /// </summary>
    public static void Backward(TensorView dqkv, TensorView dout, TensorView probs, TensorView qkv, ReadOnlyMemory<int> prefix,
        int B, int T, int H, int KV, int D)
    {
        int W = (H + 2 * KV) * D, group = H / KV;
        float scale = 1f / MathF.Sqrt(D);
        dqkv.Span.Clear();
        Parallelism.For(B * KV, (long)group * T * T * D * 2, bk =>
        {
            int b = bk / KV, kvh = bk % KV;
            var all = qkv.Data.AsSpan(qkv.Offset, B * T * W);
            var dall = dqkv.Data.AsSpan(dqkv.Offset, B * T * W);
            var dOut = dout.Data.AsSpan(dout.Offset, B * T * H * D);
            Span<float> dp = T <= 1024 ? stackalloc float[T] : new float[T];
            for (int h = kvh * group; h < (kvh + 1) * group; h++)
            {
                for (int i = 0; i < T; i++)
                {
                    var pr = probs.Data.AsSpan(probs.Offset + ((b * H + h) * T + i) * T, T);
                    var doi = dOut.Slice((b * T + i) * H * D + h * D, D);
                    var qi = all.Slice((b * T + i) * W + h * D, D);
                    var dqi = dall.Slice((b * T + i) * W + h * D, D);
                    int visible = Math.Min(T, Math.Max(i + 1, prefix.IsEmpty ? 0 : prefix.Span[b]));
                    float dot = 0;
                    for (int j = 0; j < visible; j++)
                    {
                        var vj = all.Slice((b * T + j) * W + (H + KV + kvh) * D, D);
                        dp[j] = TensorPrimitives.Dot(doi, vj);
                        dot += pr[j] * dp[j];
                        var dvj = dall.Slice((b * T + j) * W + (H + KV + kvh) * D, D);
                        TensorPrimitives.MultiplyAdd(doi, pr[j], dvj, dvj);
                    }
                    for (int j = 0; j < visible; j++)
                    {
                        float ds = pr[j] * (dp[j] - dot) * scale;
                        if (ds == 0) continue;
                        var kj = all.Slice((b * T + j) * W + (H + kvh) * D, D);
                        var dkj = dall.Slice((b * T + j) * W + (H + kvh) * D, D);
                        TensorPrimitives.MultiplyAdd(kj, ds, dqi, dqi);
                        TensorPrimitives.MultiplyAdd(qi, ds, dkj, dkj);
                    }
                }
            }
        });
    }
}
