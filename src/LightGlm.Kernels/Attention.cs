// Multi-head attention over (B, T, H, D) queries with grouped KV heads (B, T, KV, D): causal, GLM prefix, left padding.
// Per (b, h), per block of 32 query rows: S = scale·Q Kᵀ and O = P V are GEMMs on strided views over only the keys the block
// can see (the causal upper triangle is skipped); one-thread GEMMs inside, parallel over heads.
using System.Numerics.Tensors;

namespace LightGlm.Kernels;

public static unsafe class Attention
{
    /// <summary>Query rows per block: each block computes scores only against the keys its rows can see.</summary>
    const int QueryBlock = 32;

    /// <summary>
    /// out (B, T, H, D) = softmax(mask(q·kᵀ/√D))·v, query head h reading KV head h/(H/KV); q (B, T, H, D), k and v (B, T, KV, D).
    /// att (B, H, T, T) receives the probabilities (0 where masked) for the backward. out and att are overwritten.
    /// prefixLengths (B) or empty = causal: key j visible to query i iff j ≤ i or j &lt; P_b.
    /// keyStarts (B) or empty: keys j &lt; S_b (left padding) are hidden; a query with no visible key gets out = 0.
    /// segments or empty: packed sequences (several examples per row), see <see cref="AttentionSegments"/>; replaces
    /// prefixLengths and keyStarts.
    /// </summary>
    public static void Forward(Span<float> output, Span<float> att, ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        int B, int T, int H, int KV, int D, ReadOnlySpan<int> prefixLengths = default, ReadOnlySpan<int> keyStarts = default,
        AttentionSegments segments = default)
    {
        const string name = "Attention.Forward";
        Validate(name, B, T, H, KV, D, att, prefixLengths, keyStarts);
        segments.Validate(name, B, T);
        Check.Len(name, "output", (ReadOnlySpan<float>)output, (long)B * T * H * D);
        Check.Len(name, nameof(q), q, (long)B * T * H * D);
        Check.Len(name, nameof(k), k, (long)B * T * KV * D);
        Check.Len(name, nameof(v), v, (long)B * T * KV * D);
        NoOverlap(name, output, att, q[..(B * T * H * D)], k[..(B * T * KV * D)], v[..(B * T * KV * D)], B, T, H, KV, D);
        fixed (float* o = output) fixed (float* a = att) fixed (float* qp = q) fixed (float* kp = k) fixed (float* vp = v)
            ForwardCore(o, H * D, a, qp, H * D, kp, KV * D, vp, KV * D, B, T, H, KV, D, prefixLengths, keyStarts, segments);
    }

    /// <summary>
    /// As <see cref="Forward"/> with q, k, v packed per row in one buffer qkv (B, T, (H+2·KV)·D) = [q (H·D) | k (KV·D) | v (KV·D)],
    /// the output of one fused q/k/v projection.
    /// </summary>
    public static void ForwardQkv(Span<float> output, Span<float> att, ReadOnlySpan<float> qkv,
        int B, int T, int H, int KV, int D, ReadOnlySpan<int> prefixLengths = default, ReadOnlySpan<int> keyStarts = default,
        AttentionSegments segments = default)
    {
        const string name = "Attention.ForwardQkv";
        Validate(name, B, T, H, KV, D, att, prefixLengths, keyStarts);
        segments.Validate(name, B, T);
        int W = (H + 2 * KV) * D;
        Check.Len(name, "output", (ReadOnlySpan<float>)output, (long)B * T * H * D);
        Check.Len(name, nameof(qkv), qkv, (long)B * T * W);
        NoOverlap(name, output, att, qkv[..(B * T * W)], default, default, B, T, H, KV, D);
        fixed (float* o = output) fixed (float* a = att) fixed (float* p = qkv)
            ForwardCore(o, H * D, a, p, W, p + H * D, W, p + (H + KV) * D, W, B, T, H, KV, D, prefixLengths, keyStarts, segments);
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
        int B, int T, int H, int KV, int D, ReadOnlySpan<int> prefixLengths, ReadOnlySpan<int> keyStarts, AttentionSegments segments)
    {
        if (B == 0 || T == 0 || H == 0) return;
        int group = H / KV;
        float scale = 1f / MathF.Sqrt(D);
        fixed (int* pl = prefixLengths) fixed (int* ks0 = keyStarts) fixed (int* sst = segments.Starts) fixed (int* spe = segments.PrefixEnds)
        {
            nint op = (nint)o, ap = (nint)att, qa = (nint)q, ka = (nint)k, va = (nint)v, pla = (nint)pl, ksa = (nint)ks0;
            nint ssa = (nint)sst, spa = (nint)spe;
            bool hasP = !prefixLengths.IsEmpty, hasS = !keyStarts.IsEmpty, packed = !segments.IsEmpty;
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
                    // Per block of query rows [i0, i1): keys [0, hi) where hi = the last row's visible end (rows see
                    // non-decreasing ranges), so the causal upper triangle beyond the block is never computed.
                    // Packed rows: query i sees [start(i), max(i+1, prefixEnd(i))) of its own segment — the same range
                    // formula with per-query P and S, and the visible ends still never decrease along the row.
                    int* segS = packed ? (int*)ssa + (long)b * T : null, segP = packed ? (int*)spa + (long)b * T : null;
                    for (int i0 = 0; i0 < T; i0 += QueryBlock)
                    {
                        int rows = Math.Min(QueryBlock, T - i0);
                        int last = i0 + rows - 1;
                        int hi = packed ? AttentionMask.Range(last, T, segP[last], segS[last]).Hi : AttentionMask.Range(last, T, P, S0).Hi;
                        float* pb = pr + (long)i0 * T;
                        // S (rows, hi) = scale · Q (rows, D) · K[0..hi)ᵀ
                        Gemm.SgemmSingle(false, true, rows, hi, D, scale, qb + (long)i0 * qs, qs, kb, ks, 0f, pb, T);
                        for (int i = i0; i < i0 + rows; i++)
                            SoftmaxRow(pr + (long)i * T, T, packed ? AttentionMask.Range(i, T, segP[i], segS[i]) : AttentionMask.Range(i, T, P, S0));
                        // O (rows, D) = P (rows, hi) · V[0..hi)
                        Gemm.SgemmSingle(false, false, rows, D, hi, 1f, pb, T, vb, vs, 0f, ob + (long)i0 * os, os);
                    }
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
            float* dP = Scratch.Get(0, (long)QueryBlock * T);
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
                    for (int i0 = 0; i0 < T; i0 += QueryBlock)
                    {
                        int rows = Math.Min(QueryBlock, T - i0);
                        float* pb = pr + (long)i0 * T;
                        // Keys [0, hi) hold every non-zero probability of the block: beyond them P = 0, so dS = 0 and
                        // nothing flows to dq, dk, dv (exact, whatever the mask was).
                        int hi = 0;
                        for (int i = 0; i < rows; i++)
                        {
                            float* row = pb + (long)i * T;
                            int e = T;
                            while (e > hi && row[e - 1] == 0f) e--;
                            hi = Math.Max(hi, e);
                        }
                        if (hi == 0) continue;
                        float* dob0 = dob + (long)i0 * dos;
                        // dP (rows, hi) = dO (rows, D) · V[0..hi)ᵀ;  dV[0..hi) += Pᵀ · dO
                        Gemm.SgemmSingle(false, true, rows, hi, D, 1f, dob0, dos, vb, kvs, 0f, dP, hi);
                        Gemm.SgemmSingle(true, false, hi, D, rows, 1f, pb, T, dob0, dos, 1f, dvb, dkvs);
                        // dS = P ⊙ (dP − Σ_j P_ij dP_ij), written over dP
                        for (int i = 0; i < rows; i++)
                        {
                            var p = new ReadOnlySpan<float>(pb + (long)i * T, hi);
                            var g = new Span<float>(dP + (long)i * hi, hi);
                            float dot = TensorPrimitives.Dot(p, g);
                            TensorPrimitives.Subtract(g, dot, g);
                            TensorPrimitives.Multiply(g, p, g);
                        }
                        // dQ (rows) += scale · dS · K[0..hi);  dK[0..hi) += scale · dSᵀ · Q (rows)
                        Gemm.SgemmSingle(false, false, rows, D, hi, scale, dP, hi, kb, kvs, 1f, dqb + (long)i0 * dqs, dqs);
                        Gemm.SgemmSingle(true, false, hi, D, rows, scale, dP, hi, qb + (long)i0 * qs, qs, 1f, dkb, dkvs);
                    }
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
