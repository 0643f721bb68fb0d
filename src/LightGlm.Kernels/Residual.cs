// Residual helpers: out = a + b, and acc += x (gradient accumulation into a residual stream).
using System.Numerics.Tensors;

namespace LightGlm.Kernels;

public static class Residual
{
    /// <summary>out (n) = a + b; overwritten; out may be the same span as a or b.</summary>
    public static void Forward(Span<float> output, ReadOnlySpan<float> a, ReadOnlySpan<float> b, int n)
    {
        const string k = "Residual.Forward";
        Check.Dims(k, (nameof(n), n));
        Check.Len(k, nameof(output), (ReadOnlySpan<float>)output, n);
        Check.Len(k, nameof(a), a, n);
        Check.Len(k, nameof(b), b, n);
        Check.SameOrDisjoint(k, nameof(output), output, nameof(a), a, n);
        Check.SameOrDisjoint(k, nameof(output), output, nameof(b), b, n);
        TensorPrimitives.Add(a[..n], b[..n], output[..n]);
    }

    /// <summary>Inverts out = a + b: da += dout and db += dout (both ACCUMULATED; either may be empty to skip).</summary>
    public static void Backward(Span<float> da, Span<float> db, ReadOnlySpan<float> doutput, int n)
    {
        if (!da.IsEmpty) Accumulate(da, doutput, n);
        if (!db.IsEmpty) Accumulate(db, doutput, n);
    }

    /// <summary>acc (n) += x; acc may be the same span as x (doubles it) but must not overlap it partially.</summary>
    public static void Accumulate(Span<float> acc, ReadOnlySpan<float> x, int n)
    {
        const string k = "Residual.Accumulate";
        Check.Dims(k, (nameof(n), n));
        Check.Len(k, nameof(acc), (ReadOnlySpan<float>)acc, n);
        Check.Len(k, nameof(x), x, n);
        Check.SameOrDisjoint(k, nameof(acc), acc, nameof(x), x, n);
        TensorPrimitives.Add(acc[..n], x[..n], acc[..n]);
    }
}
