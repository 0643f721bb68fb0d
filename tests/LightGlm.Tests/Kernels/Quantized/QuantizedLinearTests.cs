// Quantized int8/int4 kernels against the fp32 reference, within the stated error bounds; block layout size checks.
using LightGlm.Kernels.Quantized;

namespace LightGlm.Tests.Kernels.Quantized;

public class QuantizedLinearTests
{
    static float[] Random(int n, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return a;
    }

    [Theory]
    [InlineData(QuantFormat.Int8, 32, 36)]
    [InlineData(QuantFormat.Int4, 32, 20)]
    [InlineData(QuantFormat.Int8, 64, 68)]
    [InlineData(QuantFormat.Int4, 64, 36)]
    public void BlockLayoutSizes(QuantFormat f, int g, int bytes) => Assert.Equal(bytes, QuantBlockLayout.Create(f, g).BlockBytes);

    [Theory]
    [InlineData(0)]
    [InlineData(16)]
    [InlineData(48)]
    public void BadGroupSizeIsRejected(int g) => Assert.Throws<ArgumentException>(() => QuantBlockLayout.Create(QuantFormat.Int8, g));

    [Fact]
    public void WrongDataLengthIsRejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => new QuantizedMatrix(QuantBlockLayout.Create(QuantFormat.Int4, 32), 2, 40, new byte[79]));
        Assert.Contains("80 bytes", ex.Message);
    }

    [Fact]
    public void Int4NibbleOrderIsGgmlQ40()
    {
        // weights i and i+16 share byte i: low nibble = q[i]+8, high nibble = q[i+16]+8.
        var w = new float[32];
        w[0] = 7; w[16] = -7; w[1] = 1;
        var q = QuantizedMatrix.Quantize(w, 1, 32, QuantFormat.Int4);
        Assert.Equal(1f, q.Scale(0, 0));
        Assert.Equal((byte)(15 | 1 << 4), q.Data[4]);
        Assert.Equal((byte)(9 | 8 << 4), q.Data[5]);
        Assert.Equal(w, q.Dequantize());
    }

    [Theory]
    [InlineData(QuantFormat.Int8, 32)]
    [InlineData(QuantFormat.Int4, 32)]
    [InlineData(QuantFormat.Int8, 64)]
    [InlineData(QuantFormat.Int4, 64)]
    public void ElementErrorIsAtMostHalfAStep(QuantFormat f, int g)
    {
        foreach (int cols in new[] { 1, 7, 31, 32, 33, 64, 100, 129 })
        {
            int rows = 3;
            var w = Random(rows * cols, cols, 2f);
            var q = QuantizedMatrix.Quantize(w, rows, cols, f, g);
            var back = q.Dequantize();
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++)
                {
                    float d = q.Scale(r, c / g);
                    // |w − d·q| ≤ d/2 (round to nearest), plus float rounding of w/d.
                    Assert.True(MathF.Abs(w[r * cols + c] - back[r * cols + c]) <= d / 2 * 1.0001f + 1e-7f, $"{f} G={g} cols={cols} ({r},{c})");
                }
        }
    }

    [Theory]
    [InlineData(QuantFormat.Int8, 32)]
    [InlineData(QuantFormat.Int4, 32)]
    [InlineData(QuantFormat.Int8, 64)]
    [InlineData(QuantFormat.Int4, 64)]
    public void MatVecWithinStatedBoundOfFp32(QuantFormat f, int g)
    {
        for (int cols = 1; cols <= 260; cols += 37)
            foreach (int rows in new[] { 1, 5, 70 })
            {
                var w = Random(rows * cols, rows * 1000 + cols);
                var x = Random(cols, cols + 7, 3f);
                var q = QuantizedMatrix.Quantize(w, rows, cols, f, g);
                var y = new float[rows];
                QuantizedLinear.MatVec(q, x, y);
                var deq = q.Dequantize();
                for (int r = 0; r < rows; r++)
                {
                    double exact = 0, deqDot = 0, bound = 0, absDot = 0;
                    for (int c = 0; c < cols; c++)
                    {
                        exact += (double)w[r * cols + c] * x[c];
                        deqDot += (double)deq[r * cols + c] * x[c];
                        bound += q.Scale(r, c / g) / 2.0 * Math.Abs(x[c]);
                        absDot += Math.Abs((double)deq[r * cols + c] * x[c]);
                    }
                    double fpSlack = 1e-5 * absDot + 1e-6;
                    // The kernel computes the dequantized product up to float rounding...
                    Assert.True(Math.Abs(y[r] - deqDot) <= fpSlack, $"{f} G={g} ({rows},{cols}) row {r}: {y[r]} vs dequantized {deqDot}");
                    // ...and so is within Σ (d_b/2)·|x_i| of the fp32 product: the stated bound.
                    Assert.True(Math.Abs(y[r] - exact) <= bound * 1.0001 + fpSlack, $"{f} G={g} ({rows},{cols}) row {r}: |{y[r]} − {exact}| > {bound}");
                }
                var yRef = new float[rows];
                QuantizedLinear.MatVecReference(q, x, yRef);
                for (int r = 0; r < rows; r++) Assert.Equal(yRef[r], y[r], 1e-4f * (1 + MathF.Abs(yRef[r])));
            }
    }

    [Theory]
    [InlineData(QuantFormat.Int8, 1)]
    [InlineData(QuantFormat.Int4, 3)]
    [InlineData(QuantFormat.Int8, 8)]
    [InlineData(QuantFormat.Int4, 17)]
    public void MatMulEqualsMatVecPerRowWithBias(QuantFormat f, int n)
    {
        int rows = 40, cols = 75;
        var w = Random(rows * cols, 1);
        var x = Random(n * cols, 2);
        var bias = Random(rows, 3);
        var q = QuantizedMatrix.Quantize(w, rows, cols, f, 32);
        var y = new float[n * rows];
        QuantizedLinear.MatMul(q, x, n, y, bias);
        var yv = new float[rows];
        for (int i = 0; i < n; i++)
        {
            QuantizedLinear.MatVec(q, x.AsSpan(i * cols, cols), yv, bias);
            for (int r = 0; r < rows; r++) Assert.Equal(yv[r], y[i * rows + r], 1e-4f * (1 + MathF.Abs(yv[r])));
        }
    }

    [Fact]
    public void LargeMatVecRunsThreadedAndMatchesReference()
    {
        int rows = 512, cols = 384;
        var w = Random(rows * cols, 9);
        var x = Random(cols, 10);
        foreach (var f in new[] { QuantFormat.Int8, QuantFormat.Int4 })
        {
            var q = QuantizedMatrix.Quantize(w, rows, cols, f, 64);
            var y = new float[rows];
            var yr = new float[rows];
            QuantizedLinear.MatVec(q, x, y);
            QuantizedLinear.MatVecReference(q, x, yr);
            for (int r = 0; r < rows; r++) Assert.Equal(yr[r], y[r], 1e-3f);
        }
    }

    [Fact]
    public void ShapeMismatchNamesShapes()
    {
        var q = QuantizedMatrix.Quantize(new float[64], 2, 32, QuantFormat.Int8);
        var ex = Assert.Throws<ArgumentException>(() => QuantizedLinear.MatVec(q, new float[31], new float[2]));
        Assert.Contains("(2, 32)", ex.Message);
    }
}
