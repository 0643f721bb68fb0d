// Rotary position embeddings over the first R dims of each head; pairs (2j, 2j+1) (ChatGLM2) or (j, j+R/2) (LLaMA rotate_half).
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

    static void Run(string k, Span<float> output, ReadOnlySpan<float> input, ReadOnlySpan<int> positions, RotaryTable table,
        int N, int NH, int D, bool interleaved, bool inverse, bool accumulate)
    {
        ArgumentNullException.ThrowIfNull(table);
        Check.Dims(k, (nameof(N), N), (nameof(NH), NH), (nameof(D), D));
        int R = table.RotaryDim;
        if (R > D) throw new ArgumentException($"{k}: rotary dims R={R} exceed head dim D={D}.");
        long total = (long)N * NH * D;
        Check.Len(k, "output", (ReadOnlySpan<float>)output, total);
        Check.Len(k, "input", input, total);
        Check.Len(k, nameof(positions), positions, N);
        if (accumulate) Check.Disjoint(k, "dinput", output[..(int)total], "doutput", input[..(int)total]);
        else Check.SameOrDisjoint(k, "output", output, "input", input, total);
        for (int n = 0; n < N; n++)
            if ((uint)positions[n] >= (uint)table.MaxPositions)
                throw new ArgumentOutOfRangeException(nameof(positions), positions[n], $"{k}: positions[{n}] = {positions[n]} is outside the table's [0, {table.MaxPositions}).");
        if (total == 0) return;
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
                        float* xr = (float*)xp + ((long)n * NH + h) * D, orow = (float*)op + ((long)n * NH + h) * D;
                        for (int j = 0; j < half; j++)
                        {
                            int ia = interleaved ? 2 * j : j, ib = interleaved ? 2 * j + 1 : j + half;
                            float c = cs[j], s = sign * sn[j];
                            float xa = xr[ia], xb = xr[ib];
                            float ya = xa * c - xb * s, yb = xa * s + xb * c;
                            if (accumulate) { orow[ia] += ya; orow[ib] += yb; }
                            else { orow[ia] = ya; orow[ib] = yb; }
                        }
                        for (int i = R; i < D; i++)
                            orow[i] = accumulate ? orow[i] + xr[i] : xr[i];
                    }
                }
            });
        }
    }
}
