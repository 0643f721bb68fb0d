// Multi-head attention over (B, T, H, D) queries with grouped KV heads (B, T, KV, D): causal or GLM prefix mask.
// Per (b, h): S = scale·Q Kᵀ and O = P V are GEMMs on strided T×D views (single-threaded inside; parallel over heads).
namespace LightGlm.Kernels;

public static unsafe class Attention
{
    /// <summary>
    /// out (B, T, H, D) = softmax(mask(q·kᵀ/√D))·v, query head h reading KV head h/(H/KV).
    /// att (B, H, T, T) receives the probabilities (0 where masked) for the backward. Both are overwritten.
    /// prefixLengths (B) or empty = causal: key j visible to query i iff j ≤ i or j &lt; P_b.
    /// keyStarts (B) or empty: keys j &lt; S_b (left padding) are hidden; a query with no visible key gets out = 0.
    /// </summary>
    public static void Forward(Span<float> output, Span<float> att, ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        int B, int T, int H, int KV, int D, ReadOnlySpan<int> prefixLengths = default, ReadOnlySpan<int> keyStarts = default)
    {
        const string name = "Attention.Forward";
        Validate(name, B, T, H, KV, D, output, att, q, k, v, prefixLengths, keyStarts);
        Check.Disjoint(name, "output", output[..(B * T * H * D)], "att", att[..(B * H * T * T)]);
        if (B == 0 || T == 0 || H == 0) return;
        int HD = H * D, KD = KV * D, group = H / KV;
        float scale = 1f / MathF.Sqrt(D);
        fixed (float* o = output) fixed (float* a = att) fixed (float* qp = q) fixed (float* kp = k) fixed (float* vp = v)
        fixed (int* pl = prefixLengths) fixed (int* ks = keyStarts)
        {
            nint op = (nint)o, ap = (nint)a, qa = (nint)qp, ka = (nint)kp, va = (nint)vp, pla = (nint)pl, ksa = (nint)ks;
            bool hasP = !prefixLengths.IsEmpty, hasS = !keyStarts.IsEmpty;
            KernelParallel.For(B * H, 1, (t0, t1) =>
            {
                for (int t = t0; t < t1; t++)
                {
                    int b = t / H, h = t % H, kvh = h / group;
                    int P = hasP ? ((int*)pla)[b] : 0, S0 = hasS ? ((int*)ksa)[b] : 0;
                    float* qb = (float*)qa + (long)b * T * HD + h * D;
                    float* kb = (float*)ka + (long)b * T * KD + kvh * D;
                    float* vb = (float*)va + (long)b * T * KD + kvh * D;
                    float* ob = (float*)op + (long)b * T * HD + h * D;
                    float* pr = (float*)ap + (long)t * T * T;
                    // S (T, T) = scale · Q (T, D; stride HD) · Kᵀ (D, T; K stride KD)
                    ManagedGemm.Sgemm(false, true, T, T, D, scale, qb, HD, kb, KD, 0f, pr, T, 1);
                    for (int i = 0; i < T; i++)
                        SoftmaxRow(pr + (long)i * T, T, AttentionMask.Range(i, T, P, S0));
                    // O (T, D; stride HD) = P (T, T) · V (T, D; stride KD)
                    ManagedGemm.Sgemm(false, false, T, D, T, 1f, pr, T, vb, KD, 0f, ob, HD, 1);
                }
            });
        }
    }

    /// <summary>
    /// Inverts out = P·v, P = softmax(S), S = scale·q·kᵀ:
    ///   dP = dout·vᵀ;  dv += Pᵀ·dout;  dS = P ⊙ (dP − rowsum(P ⊙ dP));  dq += scale·dS·k;  dk += scale·dSᵀ·q.
    /// dq (B, T, H, D), dk and dv (B, T, KV, D) are ACCUMULATED (heads of a group add into their shared KV head).
    /// att is the forward's probabilities; the mask is implied by its zeros. Uses a per-thread T×T scratch.
    /// </summary>
    public static void Backward(Span<float> dq, Span<float> dk, Span<float> dv, ReadOnlySpan<float> doutput, ReadOnlySpan<float> att,
        ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, int B, int T, int H, int KV, int D)
    {
        const string name = "Attention.Backward";
        Validate(name, B, T, H, KV, D, doutput, att, q, k, v, default, default);
        Check.Len(name, nameof(dq), (ReadOnlySpan<float>)dq, (long)B * T * H * D);
        Check.Len(name, nameof(dk), (ReadOnlySpan<float>)dk, (long)B * T * KV * D);
        Check.Len(name, nameof(dv), (ReadOnlySpan<float>)dv, (long)B * T * KV * D);
        if (B == 0 || T == 0 || H == 0) return;
        int HD = H * D, KD = KV * D, group = H / KV;
        float scale = 1f / MathF.Sqrt(D);
        fixed (float* dqp = dq) fixed (float* dkp = dk) fixed (float* dvp = dv) fixed (float* dop = doutput)
        fixed (float* a = att) fixed (float* qp = q) fixed (float* kp = k) fixed (float* vp = v)
        {
            nint dqa = (nint)dqp, dka = (nint)dkp, dva = (nint)dvp, doa = (nint)dop, aa = (nint)a, qa = (nint)qp, ka = (nint)kp, va = (nint)vp;
            // Parallel over (b, kv head): the heads of one group run in order, so dk/dv sums are deterministic.
            KernelParallel.For(B * KV, 1, (t0, t1) =>
            {
                float* dP = Scratch.Get(0, T * T);
                for (int t = t0; t < t1; t++)
                {
                    int b = t / KV, kvh = t % KV;
                    float* kb = (float*)ka + (long)b * T * KD + kvh * D, vb = (float*)va + (long)b * T * KD + kvh * D;
                    float* dkb = (float*)dka + (long)b * T * KD + kvh * D, dvb = (float*)dva + (long)b * T * KD + kvh * D;
                    for (int h = kvh * group; h < (kvh + 1) * group; h++)
                    {
                        long qOff = (long)b * T * HD + h * D;
                        float* qb = (float*)qa + qOff, dqb = (float*)dqa + qOff, dob = (float*)doa + qOff;
                        float* pr = (float*)aa + ((long)b * H + h) * T * T;
                        // dP (T, T) = dO (T, D) · Vᵀ;  dV += Pᵀ · dO
                        ManagedGemm.Sgemm(false, true, T, T, D, 1f, dob, HD, vb, KD, 0f, dP, T, 1);
                        ManagedGemm.Sgemm(true, false, T, D, T, 1f, pr, T, dob, HD, 1f, dvb, KD, 1);
                        // dS = P ⊙ (dP − Σ_j P_ij dP_ij), written over dP
                        for (int i = 0; i < T; i++)
                        {
                            float* p = pr + (long)i * T, g = dP + (long)i * T;
                            float dot = 0f;
                            for (int j = 0; j < T; j++) dot += p[j] * g[j];
                            for (int j = 0; j < T; j++) g[j] = p[j] * (g[j] - dot);
                        }
                        // dQ += scale · dS · K;  dK += scale · dSᵀ · Q
                        ManagedGemm.Sgemm(false, false, T, D, T, scale, dP, T, kb, KD, 1f, dqb, HD, 1);
                        ManagedGemm.Sgemm(true, false, T, D, T, scale, dP, T, qb, HD, 1f, dkb, KD, 1);
                    }
                }
            });
        }
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

    static void Validate(string name, int B, int T, int H, int KV, int D, ReadOnlySpan<float> output, ReadOnlySpan<float> att,
        ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, ReadOnlySpan<int> prefixLengths, ReadOnlySpan<int> keyStarts)
    {
        Check.Dims(name, (nameof(B), B), (nameof(T), T), (nameof(H), H), (nameof(KV), KV), (nameof(D), D));
        Check.Positive(name, nameof(KV), KV);
        Check.Positive(name, nameof(D), D);
        if (H % KV != 0) throw new ArgumentException($"{name}: H={H} must be a multiple of KV={KV}.");
        Check.Len(name, "output", output, (long)B * T * H * D);
        Check.Len(name, nameof(att), att, (long)B * H * T * T);
        Check.Len(name, nameof(q), q, (long)B * T * H * D);
        Check.Len(name, nameof(k), k, (long)B * T * KV * D);
        Check.Len(name, nameof(v), v, (long)B * T * KV * D);
        AttentionMask.Validate(name, prefixLengths, keyStarts, B, T);
    }
}
