// Managed SGEMM: Goto-style blocking, A and B packed into MR x KC / KC x NR slivers, a 6x16 Vector256 FMA micro-kernel.
// Transposes cost nothing extra: packing reads op(A) and op(B) through their strides.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LightGlm.Kernels;

internal static unsafe class ManagedGemm
{
    internal const int MR = 6, NR = 16, KC = 256, MC = 96, NC = 1024;

    [ThreadStatic] static float[]? _aPack;
    [ThreadStatic] static float[]? _bPack;

    static float* Buffer(ref float[]? buf, int n)
    {
        if (buf is null || buf.Length < n) buf = GC.AllocateUninitializedArray<float>(n, pinned: true);
        return (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buf));
    }

    /// <summary>C (M,N) = alpha·op(A)·op(B) + beta·C; pointers valid, shapes validated by <see cref="Gemm"/>.</summary>
    public static void Sgemm(bool transA, bool transB, int M, int N, int K, float alpha, float* A, int lda,
        float* B, int ldb, float beta, float* C, int ldc, int threads)
    {
        ScaleC(M, N, beta, C, ldc);
        if (K == 0 || alpha == 0f) return;
        float* bp = Buffer(ref _bPack, KC * (NC + NR));
        nint aAddr = (nint)A, bAddr = (nint)B, cAddr = (nint)C, bpAddr = (nint)bp;
        for (int jc = 0; jc < N; jc += NC)
        {
            int nc = Math.Min(NC, N - jc);
            int slivers = (nc + NR - 1) / NR;
            for (int pc = 0; pc < K; pc += KC)
            {
                int kc = Math.Min(KC, K - pc);
                int jc0 = jc, pc0 = pc;
                KernelParallel.For(slivers, 16, (s0, s1) =>
                {
                    for (int s = s0; s < s1; s++)
                        PackB(transB, (float*)bAddr, ldb, pc0, jc0 + s * NR, kc, Math.Min(NR, nc - s * NR), (float*)bpAddr + (long)s * kc * NR);
                }, threads);
                // Tasks: (row block of MC) x (column group of 256). Each packs its own A block.
                const int groupCols = 256;
                int mBlocks = (M + MC - 1) / MC, nGroups = (nc + groupCols - 1) / groupCols;
                long work = (long)M * nc * kc;
                int grain = work < 1 << 18 ? mBlocks * nGroups : 1;
                KernelParallel.For(mBlocks * nGroups, grain, (t0, t1) =>
                {
                    float* ap = Buffer(ref _aPack, MC * KC);
                    for (int t = t0; t < t1; t++)
                    {
                        int ib = t / nGroups, g = t % nGroups;
                        int ic = ib * MC, mc = Math.Min(MC, M - ic);
                        PackA(transA, (float*)aAddr, lda, ic, pc0, mc, kc, ap);
                        int j0 = g * groupCols, j1 = Math.Min(nc, j0 + groupCols);
                        for (int jr = j0; jr < j1; jr += NR)
                        {
                            int nr = Math.Min(NR, nc - jr);
                            float* bs = (float*)bpAddr + (long)(jr / NR) * kc * NR;
                            for (int ir = 0; ir < mc; ir += MR)
                            {
                                int mr = Math.Min(MR, mc - ir);
                                float* c = (float*)cAddr + (long)(ic + ir) * ldc + jc0 + jr;
                                MicroKernel(kc, ap + (long)ir * kc, bs, c, ldc, alpha, mr, nr);
                            }
                        }
                    }
                }, threads);
            }
        }
    }

    static void ScaleC(int M, int N, float beta, float* C, int ldc)
    {
        if (beta == 1f) return;
        for (int i = 0; i < M; i++)
        {
            var row = new Span<float>(C + (long)i * ldc, N);
            if (beta == 0f) row.Clear();
            else System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
        }
    }

    // Ap layout: slivers of MR rows; within a sliver, for each k the MR values op(A)[i..i+MR, k] (zero padded).
    static void PackA(bool transA, float* A, int lda, int i0, int k0, int mc, int kc, float* ap)
    {
        for (int ir = 0; ir < mc; ir += MR)
        {
            int mr = Math.Min(MR, mc - ir);
            float* dst = ap + (long)ir * kc;
            for (int k = 0; k < kc; k++)
            {
                for (int i = 0; i < mr; i++)
                {
                    long r = i0 + ir + i, col = k0 + k;
                    dst[i] = transA ? A[col * lda + r] : A[r * lda + col];
                }
                for (int i = mr; i < MR; i++) dst[i] = 0f;
                dst += MR;
            }
        }
    }

    // Bp sliver layout: for each k the NR values op(B)[k, j..j+NR] (zero padded).
    static void PackB(bool transB, float* B, int ldb, int k0, int j0, int kc, int nr, float* bp)
    {
        if (!transB && nr == NR)
        {
            for (int k = 0; k < kc; k++)
            {
                float* src = B + (long)(k0 + k) * ldb + j0;
                Unsafe.CopyBlockUnaligned(bp + (long)k * NR, src, NR * sizeof(float));
            }
            return;
        }
        for (int k = 0; k < kc; k++)
        {
            float* dst = bp + (long)k * NR;
            for (int j = 0; j < nr; j++)
                dst[j] = transB ? B[(long)(j0 + j) * ldb + k0 + k] : B[(long)(k0 + k) * ldb + j0 + j];
            for (int j = nr; j < NR; j++) dst[j] = 0f;
        }
    }

    // C[0..mr, 0..nr] += alpha · Ap(MR x kc) · Bp(kc x NR).
    static void MicroKernel(int kc, float* a, float* b, float* c, int ldc, float alpha, int mr, int nr)
    {
        if (!Vector256.IsHardwareAccelerated)
        {
            ScalarKernel(kc, a, b, c, ldc, alpha, mr, nr);
            return;
        }
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int k = 0; k < kc; k++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var a0 = Vector256.Create(a[0]); c00 = Vector256.FusedMultiplyAdd(a0, b0, c00); c01 = Vector256.FusedMultiplyAdd(a0, b1, c01);
            var a1 = Vector256.Create(a[1]); c10 = Vector256.FusedMultiplyAdd(a1, b0, c10); c11 = Vector256.FusedMultiplyAdd(a1, b1, c11);
            var a2 = Vector256.Create(a[2]); c20 = Vector256.FusedMultiplyAdd(a2, b0, c20); c21 = Vector256.FusedMultiplyAdd(a2, b1, c21);
            var a3 = Vector256.Create(a[3]); c30 = Vector256.FusedMultiplyAdd(a3, b0, c30); c31 = Vector256.FusedMultiplyAdd(a3, b1, c31);
            var a4 = Vector256.Create(a[4]); c40 = Vector256.FusedMultiplyAdd(a4, b0, c40); c41 = Vector256.FusedMultiplyAdd(a4, b1, c41);
            var a5 = Vector256.Create(a[5]); c50 = Vector256.FusedMultiplyAdd(a5, b0, c50); c51 = Vector256.FusedMultiplyAdd(a5, b1, c51);
            a += MR;
            b += NR;
        }
        var al = Vector256.Create(alpha);
        if (mr == MR && nr == NR)
        {
            Store(c, c00, c01, al); Store(c + ldc, c10, c11, al); Store(c + 2 * ldc, c20, c21, al);
            Store(c + 3 * ldc, c30, c31, al); Store(c + 4 * ldc, c40, c41, al); Store(c + 5 * ldc, c50, c51, al);
            return;
        }
        float* tile = stackalloc float[MR * NR];
        c00.Store(tile); c01.Store(tile + 8); c10.Store(tile + 16); c11.Store(tile + 24);
        c20.Store(tile + 32); c21.Store(tile + 40); c30.Store(tile + 48); c31.Store(tile + 56);
        c40.Store(tile + 64); c41.Store(tile + 72); c50.Store(tile + 80); c51.Store(tile + 88);
        for (int i = 0; i < mr; i++)
            for (int j = 0; j < nr; j++)
                c[(long)i * ldc + j] += alpha * tile[i * NR + j];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(float* c, Vector256<float> lo, Vector256<float> hi, Vector256<float> alpha)
    {
        Vector256.FusedMultiplyAdd(lo, alpha, Vector256.Load(c)).Store(c);
        Vector256.FusedMultiplyAdd(hi, alpha, Vector256.Load(c + 8)).Store(c + 8);
    }

    static void ScalarKernel(int kc, float* a, float* b, float* c, int ldc, float alpha, int mr, int nr)
    {
        float* acc = stackalloc float[MR * NR];
        new Span<float>(acc, MR * NR).Clear();
        for (int k = 0; k < kc; k++)
        {
            for (int i = 0; i < MR; i++)
            {
                float ai = a[i];
                for (int j = 0; j < NR; j++) acc[i * NR + j] += ai * b[j];
            }
            a += MR;
            b += NR;
        }
        for (int i = 0; i < mr; i++)
            for (int j = 0; j < nr; j++)
                c[(long)i * ldc + j] += alpha * acc[i * NR + j];
    }
}
