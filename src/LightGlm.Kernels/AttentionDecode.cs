// One decode step: each sequence's new query attends over its KV cache with matrix-vector work (no M=1 GEMM).
using System.Numerics.Tensors;

namespace LightGlm.Kernels;

public static unsafe class AttentionDecode
{
    /// <summary>
    /// out (B, H, D) = Σ_j softmax_j(q·k_j/√D)·v_j over cache positions j ∈ [kvStarts_b, kvLengths_b).
    /// q (B, H, D); kCache, vCache (B, S, KV, D) with capacity S per sequence (the new token's k, v already written).
    /// kvStarts (B) or empty = 0 (left padding). Query head h reads KV head h/(H/KV). out is overwritten.
    /// </summary>
    public static void Forward(Span<float> output, ReadOnlySpan<float> q, ReadOnlySpan<float> kCache, ReadOnlySpan<float> vCache,
        ReadOnlySpan<int> kvLengths, ReadOnlySpan<int> kvStarts, int B, int S, int H, int KV, int D)
    {
        const string name = "AttentionDecode.Forward";
        Check.Dims(name, (nameof(B), B), (nameof(S), S), (nameof(H), H), (nameof(KV), KV), (nameof(D), D));
        Check.Positive(name, nameof(KV), KV);
        Check.Positive(name, nameof(D), D);
        if (H % KV != 0) throw new ArgumentException($"{name}: H={H} must be a multiple of KV={KV}.");
        Check.Len(name, nameof(output), (ReadOnlySpan<float>)output, (long)B * H * D);
        Check.Len(name, nameof(q), q, (long)B * H * D);
        Check.Len(name, nameof(kCache), kCache, (long)B * S * KV * D);
        Check.Len(name, nameof(vCache), vCache, (long)B * S * KV * D);
        Check.Len(name, nameof(kvLengths), kvLengths, B);
        if (!kvStarts.IsEmpty) Check.Len(name, nameof(kvStarts), kvStarts, B);
        for (int b = 0; b < B; b++)
        {
            int lo = kvStarts.IsEmpty ? 0 : kvStarts[b], hi = kvLengths[b];
            if (hi < 0 || hi > S || lo < 0 || lo > hi)
                throw new ArgumentOutOfRangeException(nameof(kvLengths), $"{name}: sequence {b} has key range [{lo}, {hi}) outside the cache [0, S={S}].");
        }
        if (B == 0 || H == 0) return;
        int count = B * H, grain = Math.Max(1, 4096 / Math.Max(1, S * D / 16 + 1));
        fixed (float* o = output) fixed (float* qp = q) fixed (float* kp = kCache) fixed (float* vp = vCache)
        fixed (int* lens = kvLengths) fixed (int* starts = kvStarts)
        {
            var a = new Args(o, qp, kp, vp, lens, kvStarts.IsEmpty ? null : starts, S, H, KV, D);
            // Batch-1 decode is usually serial: call the body directly so a token step allocates no closure.
            if (KernelParallel.Splits(count, grain)) RunParallel(a, count, grain);
            else Rows(a, 0, count);
        }
    }

    readonly struct Args(float* o, float* q, float* k, float* v, int* lens, int* starts, int s, int h, int kv, int d)
    {
        public readonly float* O = o, Q = q, K = k, V = v;
        public readonly int* Lens = lens, Starts = starts;
        public readonly int S = s, H = h, KV = kv, D = d;
    }

    static void RunParallel(Args a, int count, int grain) => KernelParallel.For(count, grain, (t0, t1) => Rows(a, t0, t1));

    static void Rows(Args a, int t0, int t1)
    {
        int S = a.S, H = a.H, D = a.D, KD = a.KV * D, group = H / a.KV;
        float scale = 1f / MathF.Sqrt(D);
        float* scores = Scratch.Get(1, S);
        for (int t = t0; t < t1; t++)
        {
            int b = t / H, h = t % H, kvh = h / group;
            int lo = a.Starts != null ? a.Starts[b] : 0, hi = a.Lens[b];
            var qs = new ReadOnlySpan<float>(a.Q + (long)t * D, D);
            var os = new Span<float>(a.O + (long)t * D, D);
            os.Clear();
            if (hi <= lo) continue;
            float* kb = a.K + (long)b * S * KD + kvh * D, vb = a.V + (long)b * S * KD + kvh * D;
            for (int j = lo; j < hi; j++)
                scores[j] = scale * TensorPrimitives.Dot(qs, new ReadOnlySpan<float>(kb + (long)j * KD, D));
            var sc = new Span<float>(scores + lo, hi - lo);
            Softmax.Row(sc);
            for (int j = lo; j < hi; j++)
                TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(vb + (long)j * KD, D), scores[j], os, os);
        }
    }
}
