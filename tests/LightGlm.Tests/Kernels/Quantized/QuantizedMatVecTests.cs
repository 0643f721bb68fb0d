// The session's quantized kernels with fp32 activations (AVX-512, AVX2 and scalar paths) against the reference: the
// dequantized matrix times x in double. All paths compute the same sum with different rounding, so the bound is float
// rounding, not quantization. (The int8-activation kernels are QuantizedIntDotTests'.)
using LightGlm.Kernels.Quantized;

namespace LightGlm.Tests.Kernels.Quantized;

public class QuantizedMatVecTests
{
    static float[] Random(int n, int seed)
    {
        var rng = new Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
        return a;
    }

    /// <summary>The kernels this CPU runs (all three on AVX-512; only Scalar under DOTNET_EnableHWIntrinsic=0).</summary>
    public static IEnumerable<QuantIsa> Isas() => Enum.GetValues<QuantIsa>().Where(i => i <= QuantizedMatVec.BestIsa);

    public static IEnumerable<object[]> Cases()
    {
        foreach (var f in new[] { QuantFormat.Int8, QuantFormat.Int4 })
            foreach (var (rows, cols, g) in new[] { (1, 32, 32), (7, 33, 32), (33, 100, 32), (64, 256, 64), (130, 688, 32), (5, 31, 32) })
                foreach (int n in new[] { 1, 2, 3, 9 })
                    foreach (var isa in Isas())
                    {
                        yield return [f, rows, cols, g, n, isa, QuantActivations.Float];
                        // Above IntegerMaxRows inputs the product multiplies fp32 activations whatever the setting.
                        if (n > QuantizedMatVec.IntegerMaxRows) yield return [f, rows, cols, g, n, isa, QuantActivations.Int8];
                    }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardEqualsDequantizedReference(QuantFormat f, int rows, int cols, int g, int n, QuantIsa isa, QuantActivations act)
    {
        var w = QuantizedMatrix.Quantize(Random(rows * cols, rows + cols), rows, cols, f, g);
        var deq = w.Dequantize();
        int pc = w.PaddedCols, ldy = rows + 3;
        var x = new float[n * pc];
        var xr = Random(n * cols, 7 + n);
        for (int i = 0; i < n; i++) xr.AsSpan(i * cols, cols).CopyTo(x.AsSpan(i * pc));
        var y = Enumerable.Repeat(float.NaN, (n - 1) * ldy + rows).ToArray();
        QuantizedMatVec.Forward(w, x, n, y, ldy, maxThreads: 2, act, isa);
        for (int i = 0; i < n; i++)
            for (int r = 0; r < rows; r++)
            {
                double want = 0, mag = 0;
                for (int c = 0; c < cols; c++) { want += (double)deq[(long)r * cols + c] * xr[i * cols + c]; mag += Math.Abs(deq[(long)r * cols + c] * xr[i * cols + c]); }
                float got = y[i * ldy + r];
                Assert.True(Math.Abs(got - want) <= 1e-5 * mag + 1e-6, $"{f} ({rows}, {cols}) G={g} n={n} {isa} {act}: y[{i}, {r}] = {got}, reference {want}");
            }
    }

    public static IEnumerable<object[]> DequantizeCases() =>
        from f in new[] { QuantFormat.Int8, QuantFormat.Int4 }
        from shape in new[] { (9, 40), (17, 256) }
        from isa in Isas()
        select new object[] { f, shape.Item1, shape.Item2, isa };

    [Theory]
    [MemberData(nameof(DequantizeCases))]
    public void DequantizeEqualsReferenceRows(QuantFormat f, int rows, int cols, QuantIsa isa)
    {
        var w = QuantizedMatrix.Quantize(Random(rows * cols, 3), rows, cols, f);
        var want = w.Dequantize();
        var got = new float[(rows - 2) * cols];
        QuantizedMatVec.Dequantize(w, 1, rows - 1, got, 2, isa);
        Assert.Equal(want.AsSpan(cols, (rows - 2) * cols).ToArray(), got);
    }

    [Fact]
    public void BadShapesAreRejected()
    {
        var w = QuantizedMatrix.Quantize(Random(4 * 40, 1), 4, 40, QuantFormat.Int8);
        Assert.Throws<ArgumentException>(() => QuantizedMatVec.Forward(w, new float[40], 1, new float[4], 4, 1)); // x not padded to 64
        Assert.Throws<ArgumentOutOfRangeException>(() => QuantizedMatVec.Forward(w, new float[64], 1, new float[4], 3, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => QuantizedMatVec.Dequantize(w, 2, 5, new float[200], 1));
    }
}
