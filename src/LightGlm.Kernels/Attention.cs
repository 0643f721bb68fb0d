// Multi-head attention over (B, T, H, D) queries with grouped KV heads (B, T, KV, D): causal, GLM prefix, left padding.
// Per (b, h): S = scale·Q Kᵀ and O = P V are GEMMs on strided T×D views (single-threaded inside; parallel over heads).
using System.Numerics.Tensors;

namespace LightGlm.Kernels;

public static unsafe class Attention
{
    /// <summary>
    /// out (B, T, H, D) = softmax(mask(q·kᵀ/√D))·v, query head h reading KV head h/(H/KV); q (B, T, H, D), k and v (B, T, KV, D).
    /// att (B, H, T, T) receives the probabilities (0 where masked) for the backward. out and att are overwritten.
    /// prefixLengths (B) or empty = causal: key j visible to query i iff j ≤ i or j &lt; P_b.
    /// keyStarts (B) or empty: keys j &lt; S_b (left padding) are hidden; a query with no visible key gets out = 0.
    /// </summary>
    public static void Forward(Span<float> output, Span<float> att, ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        int B, int T, int H, int KV, int D, ReadOnlySpan<int> prefixLengths = default, ReadOnlySpan<int> keyStarts = default)
    {
        const string name = "Attention.Forward";
        Validate(name, B, T, H, KV, D, att, prefixLengths, keyStarts);
        Check.Len(name, "output", (ReadOnlySpan<float>)output, (long)B * T * H * D);
        Check.Len(name, nameof(q), q, (long)B * T * H * D);
        Check.Len(name, nameof(k), k, (long)B * T * KV * D);
        Check.Len(name, nameof(v), v, (long)B * T * KV * D);
        NoOverlap(name, output, att, q[..(B * T * H * D)], k[..(B * T * KV * D)], v[..(B * T * KV * D)], B, T, H, KV, D);
        fixed (float* o = output) fixed (float* a = att) fixed (float* qp = q) fixed (float* kp = k) fixed (float* vp = v)
            ForwardCore(o, H * D, a, qp, H * D, kp, KV * D, vp, KV * D, B, T, H, KV, D, prefixLengths, keyStarts);
    }

    /// <summary>
    /// As <see cref="Forward"/> with q, k, v packed per row in one buffer qkv (B, T, (H+2·KV)·D) = [q (H·D) | k (KV·D) | v (KV·D)],
    /// the output of one fused q/k/v projection.
    /// </summary>
    public static void ForwardQkv(Span<float> output, Span<float> att, ReadOnlySpan<float> qkv,
        int B, int T, int H, int KV, int D, ReadOnlySpan<int> prefixLengths = default, ReadOnlySpan<int> keyStarts = default)
    {
        const string name = "Attention.ForwardQkv";
        Validate(name, B, T, H, KV, D, att, prefixLengths, keyStarts);
        int W = (H + 2 * KV) * D;
        Check.Len(name, "output", (ReadOnlySpan<float>)output, (long)B * T * H * D);
        Check.Len(name, nameof(qkv), qkv, (long)B * T * W);
        NoOverlap(name, output, att, qkv[..(B * T * W)], default, default, B, T, H, KV, D);
        fixed (float* o = output) fixed (float* a = att) fixed (float* p = qkv)
            ForwardCore(o, H * D, a, p, W, p + H * D, W, p + (H + KV) * D, W, B, T, H, KV, D, prefixLengths, keyStarts);
    }

    /// <summary>
    /// Inverts out = P·v, P = softmax(S), S = scale·q·kᵀ:
    ///   dP = dout·vᵀ;  dv += Pᵀ·dout;  dS = P ⊙ (dP − rowsum(P ⊙ dP));  dq += scale·dS·k;  dk += scale·dSᵀ·q.
    /// dq (B, T, H, D), dk and dv (B, T, KV, D) are ACCUMULATED (heads of a group add into their shared KV head, in order).
    /// att is the forward's probabilities; the mask is implied by its zeros.
    /// </summary>
    public static void Backward(Span<float> dq, Span<float> dk, Span<float> dv, ReadOnlySpan<float> doutput, ReadOnlySpan<float> att,
        ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, int B, int T, int H, int KV, int D)
    {
        const string name = "Attention.Backward";
        Validate(name, B, T, H, KV, D, att, default, default);
        long nq = (long)B * T * H * D, nk = (long)B * T * KV * D;
        Check.Len(name, nameof(doutput), doutput, nq);
        Check.Len(name, nameof(q), q, nq);
        Check.Len(name, nameof(k), k, nk);
        Check.Len(name, nameof(v), v, nk);
        Check.Len(name, nameof(dq), (ReadOnlySpan<float>)dq, nq);
        Check.Len(name, nameof(dk), (ReadOnlySpan<float>)dk, nk);
        Check.Len(name, nameof(dv), (ReadOnlySpan<float>)dv, nk);
        fixed (float* dqp = dq) fixed (float* dkp = dk) fixed (float* dvp = dv) fixed (float* dop = doutput)
        fixed (float* a = att) fixed (float* qp = q) fixed (float* kp = k) fixed (float* vp = v)
            BackwardCore(dqp, dkp, dvp, H * D, KV * D, dop, H * D, a, qp, H * D, kp, vp, KV * D, B, T, H, KV, D);
    }

    /// <summary>As <see cref="Backward"/> on the packed layout of <see cref="ForwardQkv"/>: dqkv (B, T, (H+2·KV)·D) is ACCUMULATED.</summary>
    public static void BackwardQkv(Span<float> dqkv, ReadOnlySpan<float> doutput, ReadOnlySpan<float> att, ReadOnlySpan<float> qkv,
        int B, int T, int H, int KV, int D)
    {
        const string name = "Attention.BackwardQkv";
        Validate(name, B, T, H, KV, D, att, default, default);
        int W = (H + 2 * KV) * D;
        Check.Len(name, nameof(doutput), doutput, (long)B * T * H * D);
        Check.Len(name, nameof(qkv), qkv, (long)B * T * W);
        Check.Len(name, nameof(dqkv), (ReadOnlySpan<float>)dqkv, (long)B * T * W);
        fixed (float* d = dqkv) fixed (float* dop = doutput) fixed (float* a = att) fixed (float* p = qkv)
            BackwardCore(d, d + H * D, d + (H + KV) * D, W, W, dop, H * D, a, p, W, p + H * D, p + (H + KV) * D, W, B, T, H, KV, D);
    }

    // Strided core: row t of sequence b, head h of a buffer with row stride s lives at base + (b·T + t)·s + h·D.
    static void ForwardCore(float* o, int os, float* att, float* q, int qs, float* k, int ks, float* v, int vs,
        int B, int T, int H, int KV, int D, ReadOnlySpan<int> prefixLengths, ReadOnlySpan<int> keyStarts)
    {
        if (B == 0 || T == 0 || H == 0) return;
        int group = H / KV;
        float scale = 1f / MathF.Sqrt(D);
        fixed (int* pl = prefixLengths) fixed (int* ks0 = keyStarts)
        {
            nint op = (nint)o, ap = (nint)att, qa = (nint)q, ka = (nint)k, va = (nint)v, pla = (nint)pl, ksa = (nint)ks0;
            bool hasP = !prefixLengths.IsEmpty, hasS = !keyStarts.IsEmpty;
            Gemm.WithSingleThreadedBlas(() => KernelParallel.For(B * H, 1, (t0, t1) =>
            {
                for (int t = t0; t < t1; t++)
                {
                    int b = t / H, h = t % H, kvh = h / group;
                    int P = hasP ? ((int*)pla)[b] : 0, S0 = hasS ? ((int*)ksa)[b] : 0;
                    float* qb = (float*)qa + (long)b * T * qs + h * D;
                    float* kb = (float*)ka + (long)b * T * ks + kvh * D;
                    float* vb = (float*)va + (long)b * T * vs + kvh * D;
                    float* ob = (float*)op + (long)b * T * os + h * D;
                    float* pr = (float*)ap + (long)t * T * T;
                    // S (T, T) = scale · Q (T, D) · Kᵀ (D, T)
                    Gemm.SgemmSingle(false, true, T, T, D, scale, qb, qs, kb, ks, 0f, pr, T);
                    for (int i = 0; i < T; i++)
                        SoftmaxRow(pr + (long)i * T, T, AttentionMask.Range(i, T, P, S0));
                    // O (T, D) = P (T, T) · V (T, D)
                    Gemm.SgemmSingle(false, false, T, D, T, 1f, pr, T, vb, vs, 0f, ob, os);
                }
            }));
        }
    }

    static void BackwardCore(float* dq, float* dk, float* dv, int dqs, int dkvs, float* dout, int dos, float* att,
        float* q, int qs, float* k, float* v, int kvs, int B, int T, int H, int KV, int D)
    {
        if (B == 0 || T == 0 || H == 0) return;
        int group = H / KV;
        float scale = 1f / MathF.Sqrt(D);
        nint dqa = (nint)dq, dka = (nint)dk, dva = (nint)dv, doa = (nint)dout, aa = (nint)att, qa = (nint)q, ka = (nint)k, va = (nint)v;
        // Parallel over (b, kv head): the heads of one group run in order, so dk/dv sums are deterministic.
        Gemm.WithSingleThreadedBlas(() => KernelParallel.For(B * KV, 1, (t0, t1) =>
        {
            float* dP = Scratch.Get(0, (long)T * T);
            for (int t = t0; t < t1; t++)
            {
                int b = t / KV, kvh = t % KV;
                float* kb = (float*)ka + (long)b * T * kvs + kvh * D, vb = (float*)va + (long)b * T * kvs + kvh * D;
                float* dkb = (float*)dka + (long)b * T * dkvs + kvh * D, dvb = (float*)dva + (long)b * T * dkvs + kvh * D;
                for (int h = kvh * group; h < (kvh + 1) * group; h++)
                {
                    float* qb = (float*)qa + (long)b * T * qs + h * D, dqb = (float*)dqa + (long)b * T * dqs + h * D;
                    float* dob = (float*)doa + (long)b * T * dos + h * D;
                    float* pr = (float*)aa + ((long)b * H + h) * T * T;
                    // dP (T, T) = dO (T, D) · Vᵀ;  dV += Pᵀ · dO
                    Gemm.SgemmSingle(false, true, T, T, D, 1f, dob, dos, vb, kvs, 0f, dP, T);
                    Gemm.SgemmSingle(true, false, T, D, T, 1f, pr, T, dob, dos, 1f, dvb, dkvs);
                    // dS = P ⊙ (dP − Σ_j P_ij dP_ij), written over dP
                    for (int i = 0; i < T; i++)
                    {
                        var p = new ReadOnlySpan<float>(pr + (long)i * T, T);
                        var g = new Span<float>(dP + (long)i * T, T);
                        float dot = TensorPrimitives.Dot(p, g);
                        TensorPrimitives.Subtract(g, dot, g);
                        TensorPrimitives.Multiply(g, p, g);
                    }
                    // dQ += scale · dS · K;  dK += scale · dSᵀ · Q
                    Gemm.SgemmSingle(false, false, T, D, T, scale, dP, T, kb, kvs, 1f, dqb, dqs);
                    Gemm.SgemmSingle(true, false, T, D, T, scale, dP, T, qb, qs, 1f, dkb, dkvs);
                }
            }
        }));
    }

    // p[lo..hi) = softmax(p[lo..hi)), zero elsewhere (a row with no visible key is all zeros).
    internal static void SoftmaxRow(float* p, int T, (int Lo, int Hi) range)
    {
        var (lo, hi) = range;
        var row = new Span<float>(p, T);
        if (hi <= lo) { row.Clear(); return; }
        row[..lo].Clear();
        row[hi..].Clear();
        Softmax.Row(row[lo..hi]);
    }

    static void Validate(string name, int B, int T, int H, int KV, int D, ReadOnlySpan<float> att,
        ReadOnlySpan<int> prefixLengths, ReadOnlySpan<int> keyStarts)
    {
        Check.Dims(name, (nameof(B), B), (nameof(T), T), (nameof(H), H), (nameof(KV), KV), (nameof(D), D));
        Check.Positive(name, nameof(KV), KV);
        Check.Positive(name, nameof(D), D);
        if (H % KV != 0) throw new ArgumentException($"{name}: H={H} must be a multiple of KV={KV}.");
        Check.Len(name, nameof(att), att, (long)B * H * T * T);
        AttentionMask.Validate(name, prefixLengths, keyStarts, B, T);
    }

    static void NoOverlap(string name, ReadOnlySpan<float> output, ReadOnlySpan<float> att, ReadOnlySpan<float> q,
        ReadOnlySpan<float> k, ReadOnlySpan<float> v, int B, int T, int H, int KV, int D)
    {
        var o = output[..(B * T * H * D)];
        var a = att[..(B * H * T * T)];
        Check.Disjoint(name, "output", o, "att", a);
        Inputs(name, o, a, "q", q);
        Inputs(name, o, a, "k", k);
        Inputs(name, o, a, "v", v);
    }

    static void Inputs(string name, ReadOnlySpan<float> o, ReadOnlySpan<float> a, string n, ReadOnlySpan<float> s)
    {
        Check.Disjoint(name, "output", o, n, s);
        Check.Disjoint(name, "att", a, n, s);
    }
}
