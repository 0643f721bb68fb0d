// Rotary position embeddings over the first R dims of each head; pairs (2j, 2j+1) (ChatGLM2) or (j, j+R/2) (LLaMA rotate_half).
using System.Runtime.Intrinsics;

namespace LightGlm.Kernels;

public static unsafe class Rotary
{
    /// <summary>
    /// out (N, NH, D) = rope(inp) at positions (N): pair (a, b) rotated by angle θ = pos·inv_freq_j:
    ///   out_a = x_a·cos θ − x_b·sin θ,  out_b = x_a·sin θ + x_b·cos θ;  dims ≥ R copied unchanged.
    /// N = B·T rows, NH heads of D dims. out is overwritten and may be the same span as inp.
    /// </summary>
    public static void Forward(Span<float> output, ReadOnlySpan<float> input, ReadOnlySpan<int> positions, RotaryTable table,
        int N, int NH, int D, bool interleaved)
        => Run("Rotary.Forward", output, input, positions, table, N, NH, D, interleaved, inverse: false, accumulate: false);

    /// <summary>
    /// Inverts the forward rotation (transpose = rotation by −θ):
    ///   dinp_a += dout_a·cos θ + dout_b·sin θ,  dinp_b += −dout_a·sin θ + dout_b·cos θ;  dims ≥ R: dinp += dout.
    /// dinp (N, NH, D) is ACCUMULATED and must not overlap dout.
    /// </summary>
    public static void Backward(Span<float> dinput, ReadOnlySpan<float> doutput, ReadOnlySpan<int> positions, RotaryTable table,
        int N, int NH, int D, bool interleaved)
        => Run("Rotary.Backward", dinput, doutput, positions, table, N, NH, D, interleaved, inverse: true, accumulate: true);

    /// <summary>
    /// In place on packed rows (e.g. the fused q|k|v projection): rotates the first NH heads of D dims of each row of
    /// <paramref name="rows"/> (N rows, <paramref name="rowStride"/> floats apart) at positions (N); the rest of a row is
    /// left alone. <paramref name="inverse"/> rotates by −θ (the backward of a rotation is its transpose, also in place).
    /// </summary>
    public static void ApplyPacked(Span<float> rows, ReadOnlySpan<int> positions, RotaryTable table, int N, int NH, int D,
        int rowStride, bool interleaved, bool inverse = false)
    {
        const string k = "Rotary.ApplyPacked";
        ArgumentNullException.ThrowIfNull(table);
        Check.Dims(k, (nameof(N), N), (nameof(NH), NH), (nameof(D), D));
        if (rowStride < NH * D) throw new ArgumentOutOfRangeException(nameof(rowStride), rowStride, $"{k}: rowStride must be >= NH·D = {NH * D}.");
        Check.Len(k, nameof(rows), (ReadOnlySpan<float>)rows, N == 0 ? 0 : (long)(N - 1) * rowStride + NH * D);
        Core(k, rows, rowStride, rows, rowStride, positions, table, N, NH, D, interleaved, inverse, accumulate: false);
    }

    static void Run(string k, Span<float> output, ReadOnlySpan<float> input, ReadOnlySpan<int> positions, RotaryTable table,
        int N, int NH, int D, bool interleaved, bool inverse, bool accumulate)
    {
        ArgumentNullException.ThrowIfNull(table);
        Check.Dims(k, (nameof(N), N), (nameof(NH), NH), (nameof(D), D));
        long total = (long)N * NH * D;
        Check.Len(k, "output", (ReadOnlySpan<float>)output, total);
        Check.Len(k, "input", input, total);
        if (accumulate) Check.Disjoint(k, "dinput", output[..(int)total], "doutput", input[..(int)total]);
        else Check.SameOrDisjoint(k, "output", output, "input", input, total);
        Core(k, output, NH * D, input, NH * D, positions, table, N, NH, D, interleaved, inverse, accumulate);
    }

    // Rows n of input/output start at n·stride; each holds NH heads of D dims. Input and output are the same or disjoint.
    static void Core(string k, Span<float> output, int os, ReadOnlySpan<float> input, int xs, ReadOnlySpan<int> positions,
        RotaryTable table, int N, int NH, int D, bool interleaved, bool inverse, bool accumulate)
    {
        int R = table.RotaryDim;
        if (R > D) throw new ArgumentException($"{k}: rotary dims R={R} exceed head dim D={D}.");
        Check.Len(k, nameof(positions), positions, N);
        for (int n = 0; n < N; n++)
            if ((uint)positions[n] >= (uint)table.MaxPositions)
                throw new ArgumentOutOfRangeException(nameof(positions), positions[n], $"{k}: positions[{n}] = {positions[n]} is outside the table's [0, {table.MaxPositions}).");
        if ((long)N * NH * D == 0) return;
        int half = R / 2;
        float sign = inverse ? -1f : 1f;
        fixed (float* o = output) fixed (float* x = input) fixed (int* pos = positions)
        fixed (float* cosT = table.Cos) fixed (float* sinT = table.Sin)
        {
            nint op = (nint)o, xp = (nint)x, pp = (nint)pos, cp = (nint)cosT, sp = (nint)sinT;
            KernelParallel.For(N, Math.Max(1, 4096 / Math.Max(1, NH * D)), (n0, n1) =>
            {
                for (int n = n0; n < n1; n++)
                {
                    float* cs = (float*)cp + (long)((int*)pp)[n] * half, sn = (float*)sp + (long)((int*)pp)[n] * half;
                    for (int h = 0; h < NH; h++)
                    {
                        float* xr = (float*)xp + (long)n * xs + h * D, orow = (float*)op + (long)n * os + h * D;
                        int j = 0;
                        if (!interleaved && !accumulate && Vector256.IsHardwareAccelerated)
                        {
                            // rotate_half: the pairs are (j, j + R/2), two contiguous runs
                            var vs = Vector256.Create(sign);
                            for (; j + 8 <= half; j += 8)
                            {
                                var c = Vector256.Load(cs + j); var s = vs * Vector256.Load(sn + j);
                                var xa = Vector256.Load(xr + j); var xb = Vector256.Load(xr + j + half);
                                (xa * c - xb * s).Store(orow + j);
                                (xa * s + xb * c).Store(orow + j + half);
                            }
                        }
                        for (; j < half; j++)
                        {
                            int ia = interleaved ? 2 * j : j, ib = interleaved ? 2 * j + 1 : j + half;
                            float c = cs[j], s = sign * sn[j];
                            float xa = xr[ia], xb = xr[ib];
                            float ya = xa * c - xb * s, yb = xa * s + xb * c;
                            if (accumulate) { orow[ia] += ya; orow[ib] += yb; }
                            else { orow[ia] = ya; orow[ib] = yb; }
                        }
                        if (xr != orow || accumulate)
                            for (int i = R; i < D; i++)
                                orow[i] = accumulate ? orow[i] + xr[i] : xr[i];
                    }
                }
            });
        }
    }
}
