// Allocation-free products with an int8/int4 weight for the inference session: y (n, Rows) = X (n, PaddedCols)·Wᵀ.
// Up to IntegerMaxRows inputs (decode) the inputs are quantized to int8 per group once and every block's dot is an
// integer one (QuantizedIntDot, llama.cpp's Q8_0/Q4_0 × Q8_0); with LIGHTGLM_QDOT=float, or more inputs, the quants are
// widened to float against fp32 inputs (QuantizedDot). Plus fast row dequantization so a prefill can run a real GEMM.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LightGlm.Kernels.Quantized;

/// <summary>What a small product multiplies the quants by: int8 activations (integer dots) or the fp32 ones.</summary>
public enum QuantActivations { Int8, Float }

/// <summary>The widest instructions the quantized kernels use: scalar reference, AVX2 (Vector256), AVX-512 (BW).</summary>
public enum QuantIsa { Scalar, Avx2, Avx512 }

public static unsafe class QuantizedMatVec
{
    /// <summary>Products of up to this many inputs quantize them (integer dots); more inputs multiply fp32 ones.</summary>
    public const int IntegerMaxRows = 8;

    /// <summary>The widest kernel this CPU runs (AVX-512 needs Avx512BW; AVX2 needs Avx2 and Fma).</summary>
    public static QuantIsa BestIsa { get; } =
        Avx512BW.IsSupported ? QuantIsa.Avx512 : Avx2.IsSupported && Fma.IsSupported ? QuantIsa.Avx2 : QuantIsa.Scalar;

    static QuantIsa _isa = BestIsa;

    /// <summary>The kernel in use, <see cref="BestIsa"/> unless lowered (benchmarks). Above BestIsa throws.</summary>
    public static QuantIsa Isa
    {
        get => _isa;
        set => _isa = value <= BestIsa ? value
            : throw new NotSupportedException($"QuantizedMatVec.Isa = {value}: this CPU runs at most {BestIsa}.");
    }

    /// <summary>Activations of products of up to <see cref="IntegerMaxRows"/> inputs. Env <c>LIGHTGLM_QDOT=int|float</c>
    /// (read once), default int. Process-wide: tests that compare kernels call the overload that takes it.</summary>
    public static QuantActivations Activations { get; set; } = ParseActivations(Environment.GetEnvironmentVariable("LIGHTGLM_QDOT"));

    internal static QuantActivations ParseActivations(string? env)
    {
        env = env?.Trim().ToLowerInvariant();
        if (env == "float") return QuantActivations.Float;
        if (env is not (null or "" or "int"))
            Console.Error.WriteLine($"LightGlm: LIGHTGLM_QDOT='{env}' is not 'int' or 'float'; using int.");
        return QuantActivations.Int8;
    }

    /// <summary>
    /// y[i·ldy + r] = Σ_c W[r, c]·x[i·PaddedCols + c] for r &lt; Rows, i &lt; n. X rows are PaddedCols long and must be 0
    /// beyond Cols (the padded quants are 0, but NaN·0 is NaN). n ≤ <see cref="IntegerMaxRows"/> with int8 activations:
    /// integer block dots, |error| ≤ Σ_c |w_c|·d_x/2 beyond the fp32-activation product (d_x = group max|x| / 127).
    /// Otherwise n = 1 is a fused dequantize-dot per row, and n &gt; 1 dequantizes each weight row once into a
    /// per-thread buffer and dots it with the n inputs. Rows are split over at most <paramref name="maxThreads"/>
    /// threads (KernelParallel); every output is computed by one thread the same way, so results do not depend on it.
    /// </summary>
    public static void Forward(QuantizedMatrix w, ReadOnlySpan<float> xPadded, int n, Span<float> y, int ldy, int maxThreads) =>
        Forward(w, xPadded, n, y, ldy, maxThreads, Activations, Isa);

    /// <summary>As the public overload on an explicit activation format and kernel (tests compare them side by side).</summary>
    internal static void Forward(QuantizedMatrix w, ReadOnlySpan<float> xPadded, int n, Span<float> y, int ldy, int maxThreads,
        QuantActivations activations, QuantIsa isa)
    {
        const string name = "QuantizedMatVec.Forward";
        Check.Positive(name, nameof(n), n);
        if (ldy < w.Rows) throw new ArgumentOutOfRangeException(nameof(ldy), ldy, $"{name}: ldy must be >= Rows = {w.Rows}.");
        Check.Len(name, "x", xPadded, (long)n * w.PaddedCols);
        Check.Len(name, nameof(y), (ReadOnlySpan<float>)y, (long)(n - 1) * ldy + w.Rows);
        if (isa > BestIsa) throw new NotSupportedException($"{name}: kernel {isa} needs instructions this CPU lacks (best {BestIsa}).");
        int pc = w.PaddedCols, blocks = w.BlocksPerRow;
        int grain = Math.Max(1, (1 << 15) / Math.Max(1, pc * n));
        fixed (byte* data = w.Data) fixed (float* xs = xPadded) fixed (float* ys = y)
        {
            var job = new Job { W = data, X = xs, Y = ys, N = n, Ldy = ldy, PaddedCols = pc, Blocks = blocks, RowBytes = w.RowBytes, Layout = w.Layout, Isa = isa };
            if (activations == QuantActivations.Int8 && n <= IntegerMaxRows)
            {
                // (n, pc) int8 values, then (n, blocks) scales, then (n, blocks) sums: this thread's scratch, read by all.
                float* buf = Scratch.Get(4, (long)n * pc / 4 + 2L * n * blocks);
                job.Xq = (sbyte*)buf;
                job.Xd = buf + n * pc / 4;
                job.Xs = (int*)(job.Xd + n * blocks);
                for (int i = 0; i < n; i++)
                    QuantizedActivations.QuantizeRow(xs + (long)i * pc, blocks, w.Layout.GroupSize, job.Xq + (long)i * pc,
                        job.Xd + i * blocks, job.Xs + i * blocks, simd: isa != QuantIsa.Scalar);
            }
            // Serial work runs without a closure (decode calls this ~5 times per layer per token); the lambda lives in
            // its own method so its captured state is only allocated when threads are used.
            if (maxThreads <= 1 || w.Rows < 2 * grain || KernelParallel.IsInside)
                RowRange(job, 0, w.Rows);
            else
                ForwardParallel(job, w.Rows, grain, maxThreads);
        }
    }

    /// <summary>One product's operands as pointers (valid while Forward holds them fixed); Xq is null for fp32 activations.</summary>
    struct Job
    {
        public byte* W;
        public float* X, Y, Xd;
        public sbyte* Xq;
        public int* Xs;
        public int N, Ldy, PaddedCols, Blocks, RowBytes;
        public QuantBlockLayout Layout;
        public QuantIsa Isa;
    }

    static void ForwardParallel(Job job, int rows, int grain, int maxThreads) =>
        KernelParallel.For(rows, grain, (r0, r1) => RowRange(job, r0, r1), maxThreads);

    static void RowRange(in Job j, int r0, int r1)
    {
        int pc = j.PaddedCols, blocks = j.Blocks;
        if (j.Xq != null)
        {
            for (int r = r0; r < r1; r++)
            {
                byte* row = j.W + (long)r * j.RowBytes;
                for (int i = 0; i < j.N; i++)
                    j.Y[(long)i * j.Ldy + r] = QuantizedIntDot.Row(row, j.Xq + (long)i * pc, j.Xd + i * blocks, j.Xs + i * blocks, blocks, j.Layout, j.Isa);
            }
            return;
        }
        if (j.N == 1)
        {
            for (int r = r0; r < r1; r++) j.Y[r] = QuantizedDot.Row(j.W + (long)r * j.RowBytes, j.X, blocks, j.Layout, j.Isa);
            return;
        }
        float* wrow = Scratch.Get(3, pc);
        bool avx = j.Isa == QuantIsa.Avx512;
        for (int r = r0; r < r1; r++)
        {
            DequantizeRow(j.W + (long)r * j.RowBytes, wrow, blocks, j.Layout, avx);
            var ws = new ReadOnlySpan<float>(wrow, pc);
            for (int i = 0; i < j.N; i++)
                j.Y[(long)i * j.Ldy + r] = System.Numerics.Tensors.TensorPrimitives.Dot(ws, new ReadOnlySpan<float>(j.X + (long)i * pc, pc));
        }
    }

    /// <summary>Rows [r0, r1) → dst (r1 − r0, Cols) fp32, w = d·q (the padding is dropped). For prefill GEMMs.</summary>
    public static void Dequantize(QuantizedMatrix w, int r0, int r1, Span<float> dst, int maxThreads) =>
        Dequantize(w, r0, r1, dst, maxThreads, Isa);

    /// <summary>As the public overload on an explicit kernel.</summary>
    internal static void Dequantize(QuantizedMatrix w, int r0, int r1, Span<float> dst, int maxThreads, QuantIsa isa)
    {
        const string name = "QuantizedMatVec.Dequantize";
        if (r0 < 0 || r1 > w.Rows || r0 > r1) throw new ArgumentOutOfRangeException(nameof(r0), $"{name}: rows [{r0}, {r1}) outside [0, {w.Rows}).");
        Check.Len(name, nameof(dst), (ReadOnlySpan<float>)dst, (long)(r1 - r0) * w.Cols);
        if (isa > BestIsa) throw new NotSupportedException($"{name}: kernel {isa} needs instructions this CPU lacks (best {BestIsa}).");
        int pc = w.PaddedCols, cols = w.Cols, blocks = w.BlocksPerRow, rb = w.RowBytes;
        var layout = w.Layout;
        bool avx = isa == QuantIsa.Avx512;
        fixed (byte* data = w.Data) fixed (float* o = dst)
        {
            nint dp = (nint)data, op = (nint)o;
            KernelParallel.For(r1 - r0, Math.Max(1, (1 << 16) / pc), (a, b) =>
            {
                float* tmp = pc == cols ? null : Scratch.Get(3, pc);
                for (int i = a; i < b; i++)
                {
                    float* target = (float*)op + (long)i * cols;
                    DequantizeRow((byte*)dp + (long)(r0 + i) * rb, tmp is null ? target : tmp, blocks, layout, avx);
                    if (tmp is not null) new ReadOnlySpan<float>(tmp, cols).CopyTo(new Span<float>(target, cols));
                }
            }, maxThreads);
        }
    }

    /// <summary>One row's blocks → dst (PaddedCols floats), w = d·q.</summary>
    static void DequantizeRow(byte* row, float* dst, int blocks, QuantBlockLayout layout, bool avx)
    {
        int G = layout.GroupSize, half = G / 2, bb = layout.BlockBytes;
        bool q8 = layout.Format == QuantFormat.Int8;
        for (int b = 0; b < blocks; b++, row += bb, dst += G)
        {
            float d = Unsafe.ReadUnaligned<float>(row);
            byte* qs = row + 4;
            if (avx)
            {
                var dv = Vector512.Create(d);
                if (q8)
                    for (int i = 0; i < G; i += 16)
                        Vector512.Store(Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load((sbyte*)qs + i))) * dv, dst + i);
                else
                    for (int i = 0; i < half; i += 16)
                    {
                        var p = Avx512F.ConvertToVector512Int32(Vector128.Load(qs + i));
                        Vector512.Store(Avx512F.ConvertToVector512Single((p & Vector512.Create(0xF)) - Vector512.Create(8)) * dv, dst + i);
                        Vector512.Store(Avx512F.ConvertToVector512Single(Vector512.ShiftRightLogical(p, 4) - Vector512.Create(8)) * dv, dst + half + i);
                    }
                continue;
            }
            if (q8)
                for (int i = 0; i < G; i++) dst[i] = d * (sbyte)qs[i];
            else
                for (int i = 0; i < half; i++)
                {
                    dst[i] = d * ((qs[i] & 0xF) - 8);
                    dst[i + half] = d * ((qs[i] >> 4) - 8);
                }
        }
    }
}
