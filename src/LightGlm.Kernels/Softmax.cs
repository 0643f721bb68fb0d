// Row softmax: out_i = exp(x_i − max) / Σ_j exp(x_j − max), and its backward.
using System.Numerics.Tensors;

namespace LightGlm.Kernels;

public static unsafe class Softmax
{
    /// <summary>out (N, V) = softmax over each row of inp (N, V); overwritten; out may be the same span as inp.</summary>
    public static void Forward(Span<float> output, ReadOnlySpan<float> input, int N, int V)
    {
        const string k = "Softmax.Forward";
        Check.Dims(k, (nameof(N), N), (nameof(V), V));
        long nv = (long)N * V;
        Check.Len(k, nameof(output), (ReadOnlySpan<float>)output, nv);
        Check.Len(k, nameof(input), input, nv);
        Check.SameOrDisjoint(k, nameof(output), output, nameof(input), input, nv);
        if (nv == 0) return;
        fixed (float* o = output) fixed (float* x = input)
        {
            nint op = (nint)o, xp = (nint)x;
            KernelParallel.For(N, Math.Max(1, 8192 / V), (n0, n1) =>
            {
                for (int n = n0; n < n1; n++)
                {
                    var row = new Span<float>((float*)op + (long)n * V, V);
                    if (xp != op) new ReadOnlySpan<float>((float*)xp + (long)n * V, V).CopyTo(row);
                    Row(row);
                }
            });
        }
    }

    /// <summary>
    /// Inverts p = softmax(x): dinp_i += p_i·(dout_i − Σ_j p_j·dout_j). dinp (N, V) is ACCUMULATED and must not overlap dout.
    /// </summary>
    public static void Backward(Span<float> dinput, ReadOnlySpan<float> doutput, ReadOnlySpan<float> output, int N, int V)
    {
        const string k = "Softmax.Backward";
        Check.Dims(k, (nameof(N), N), (nameof(V), V));
        long nv = (long)N * V;
        Check.Len(k, nameof(dinput), (ReadOnlySpan<float>)dinput, nv);
        Check.Len(k, nameof(doutput), doutput, nv);
        Check.Len(k, nameof(output), output, nv);
        if (nv == 0) return;
        Check.Disjoint(k, nameof(dinput), dinput[..(int)nv], nameof(doutput), doutput[..(int)nv]);
        fixed (float* dx = dinput) fixed (float* dy = doutput) fixed (float* p = output)
        {
            nint dxp = (nint)dx, dyp = (nint)dy, pp = (nint)p;
            KernelParallel.For(N, Math.Max(1, 8192 / V), (n0, n1) =>
            {
                for (int n = n0; n < n1; n++)
                {
                    float* pr = (float*)pp + (long)n * V, g = (float*)dyp + (long)n * V, d = (float*)dxp + (long)n * V;
                    float dot = TensorPrimitives.Dot(new ReadOnlySpan<float>(pr, V), new ReadOnlySpan<float>(g, V));
                    for (int i = 0; i < V; i++) d[i] += pr[i] * (g[i] - dot);
                }
            });
        }
    }

    /// <summary>In-place softmax of one row (max-subtracted, so large logits do not overflow).</summary>
    internal static void Row(Span<float> row)
    {
        if (row.IsEmpty) return;
        float max = TensorPrimitives.Max(row);
        TensorPrimitives.Subtract(row, max, row);
        TensorPrimitives.Exp(row, row);
        float sum = TensorPrimitives.Sum(row);
        TensorPrimitives.Multiply(row, 1f / sum, row);
    }
}
