// Quantized int8/int4 weights: block layouts, the element error bound, and the session's matrix-vector kernel within the stated bound of fp32.
using LightGlm.Kernels.Quantized;

namespace LightGlm.Tests.Kernels.Quantized;

public class QuantizedMatrixTests
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

    /// <summary>
    /// The matrix-vector kernel within its stated bound of the fp32 product. Weights: |w − ŵ| ≤ d_w/2 per element.
    /// Int8 activations add x ≈ x̂ = d_x·p with |x − x̂| ≤ d_x/2, d_x = max|x in the group| / 127 (≈ 1/254 of the group's
    /// amax), so |Σ ŵ·x̂ − Σ ŵ·x| ≤ Σ |ŵ_c|·d_x/2 and |Σ ŵ·x̂ − Σ w·x| ≤ Σ (d_w/2)·|x_c| + Σ |ŵ_c|·d_x/2.
    /// </summary>
    [Theory]
    [InlineData(QuantFormat.Int8, 32, QuantActivations.Float)]
    [InlineData(QuantFormat.Int4, 32, QuantActivations.Float)]
    [InlineData(QuantFormat.Int8, 64, QuantActivations.Float)]
    [InlineData(QuantFormat.Int4, 64, QuantActivations.Float)]
    [InlineData(QuantFormat.Int8, 32, QuantActivations.Int8)]
    [InlineData(QuantFormat.Int4, 32, QuantActivations.Int8)]
    [InlineData(QuantFormat.Int8, 64, QuantActivations.Int8)]
    [InlineData(QuantFormat.Int4, 64, QuantActivations.Int8)]
    public void MatVecWithinStatedBoundOfFp32(QuantFormat f, int g, QuantActivations act)
    {
        double worstActivationError = 0;
        for (int cols = 1; cols <= 260; cols += 37)
            foreach (int rows in new[] { 1, 5, 70 })
            {
                var w = Random(rows * cols, rows * 1000 + cols);
                var x = Random(cols, cols + 7, 3f);
                var q = QuantizedMatrix.Quantize(w, rows, cols, f, g);
                var y = new float[rows];
                var xp = new float[q.PaddedCols];
                x.CopyTo(xp, 0);
                QuantizedMatVec.Forward(q, xp, 1, y, rows, maxThreads: 2, act, QuantizedMatVec.BestIsa);
                var deq = q.Dequantize();
                for (int r = 0; r < rows; r++)
                {
                    double exact = 0, deqDot = 0, bound = 0, absDot = 0, actBound = 0;
                    for (int c = 0; c < cols; c++)
                    {
                        exact += (double)w[r * cols + c] * x[c];
                        deqDot += (double)deq[r * cols + c] * x[c];
                        bound += q.Scale(r, c / g) / 2.0 * Math.Abs(x[c]);
                        absDot += Math.Abs((double)deq[r * cols + c] * x[c]);
                        if (act == QuantActivations.Int8) actBound += Math.Abs(deq[r * cols + c]) * GroupAmax(x, c / g, g) / 127 / 2;
                    }
                    double fpSlack = 1e-5 * absDot + 1e-6;
                    // The kernel computes the dequantized product up to float rounding (and the activations' rounding)...
                    Assert.True(Math.Abs(y[r] - deqDot) <= actBound * 1.0001 + fpSlack, $"{f} G={g} {act} ({rows},{cols}) row {r}: {y[r]} vs dequantized {deqDot}, bound {actBound}");
                    // ...and so is within Σ (d_b/2)·|x_i| (+ the activations' term) of the fp32 product: the stated bound.
                    Assert.True(Math.Abs(y[r] - exact) <= (bound + actBound) * 1.0001 + fpSlack, $"{f} G={g} {act} ({rows},{cols}) row {r}: |{y[r]} − {exact}| > {bound} + {actBound}");
                    worstActivationError = Math.Max(worstActivationError, Math.Abs(y[r] - deqDot) - fpSlack);
                }
            }
        // Int8 activations really are quantized (an fp32 product would stay within float rounding everywhere).
        Assert.Equal(act == QuantActivations.Int8, worstActivationError > 0);
    }

    static double GroupAmax(float[] x, int b, int g)
    {
        double m = 0;
        for (int c = b * g; c < Math.Min(x.Length, (b + 1) * g); c++) m = Math.Max(m, Math.Abs(x[c]));
        return m;
    }
}
