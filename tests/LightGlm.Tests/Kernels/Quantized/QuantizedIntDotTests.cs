// The int8-activation kernels: activation quantization (Vector256 = scalar reference, within half a step), every SIMD
// integer dot against the scalar one (bit for bit where the sums are exact integers, within float rounding otherwise),
// the stated bound against the dequantized product, zero rows and groups, and threads.
using LightGlm.Kernels.Quantized;

namespace LightGlm.Tests.Kernels.Quantized;

public unsafe class QuantizedIntDotTests
{
    static float[] Random(int n, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return a;
    }

    static IEnumerable<QuantIsa> Isas() => QuantizedMatVecTests.Isas();

    /// <summary>n input rows of width cols copied to PaddedCols strides (zero tails).</summary>
    static float[] Padded(float[] x, int n, int cols, int pc)
    {
        var xp = new float[n * pc];
        for (int i = 0; i < n; i++) x.AsSpan(i * cols, cols).CopyTo(xp.AsSpan(i * pc));
        return xp;
    }

    static float[] Forward(QuantizedMatrix w, float[] xp, int n, QuantIsa isa, int threads = 2)
    {
        var y = Enumerable.Repeat(float.NaN, n * w.Rows).ToArray();
        QuantizedMatVec.Forward(w, xp, n, y, w.Rows, threads, QuantActivations.Int8, isa);
        return y;
    }

    [Theory]
    [InlineData(32)]
    [InlineData(64)]
    [InlineData(96)]
    public void ActivationQuantizationVector256EqualsScalarAndIsWithinHalfAStep(int G)
    {
        const int blocks = 5;
        var x = Random(blocks * G, G, 3f);
        x.AsSpan(G, G).Clear();                                        // a zero group: scale 0, values 0
        for (int i = 0; i < G; i++) x[2 * G + i] *= 1e-30f;            // a tiny one still spans ±127
        x[3 * G + 5] = 2.5f * x.AsSpan(3 * G, G).ToArray().Max(MathF.Abs); // a group dominated by one value
        var (p0, d0, s0) = (new sbyte[x.Length], new float[blocks], new int[blocks]);
        var (p1, d1, s1) = (new sbyte[x.Length], new float[blocks], new int[blocks]);
        fixed (float* xs = x) fixed (sbyte* a = p0, b = p1) fixed (float* da = d0, db = d1) fixed (int* sa = s0, sb = s1)
        {
            QuantizedActivations.QuantizeRow(xs, blocks, G, a, da, sa, simd: false);
            QuantizedActivations.QuantizeRow(xs, blocks, G, b, db, sb, simd: true);
        }
        Assert.Equal(p0, p1);
        Assert.Equal(d0, d1);
        Assert.Equal(s0, s1);
        for (int g = 0; g < blocks; g++)
        {
            var xg = x.AsSpan(g * G, G).ToArray();
            Assert.Equal(xg.Max(MathF.Abs) / 127f, d0[g]);
            Assert.Equal(p0.Skip(g * G).Take(G).Sum(v => v), s0[g]);
            Assert.Equal(g == 1 ? 0 : 127, p0.Skip(g * G).Take(G).Max(v => Math.Abs((int)v)));
            for (int i = 0; i < G; i++)
                Assert.True(Math.Abs(xg[i] - (double)d0[g] * p0[g * G + i]) <= d0[g] / 2 * 1.0001, $"G={G} group {g} value {i}: {xg[i]} vs {d0[g]}·{p0[g * G + i]}");
        }
    }

    public static IEnumerable<object[]> Shapes()
    {
        foreach (var f in new[] { QuantFormat.Int8, QuantFormat.Int4 })
            foreach (var (rows, cols, g) in new[] { (1, 32, 32), (7, 33, 32), (5, 31, 32), (33, 150, 32), (130, 688, 32), (64, 256, 64), (9, 280, 96) })
                foreach (var isa in Isas())
                    yield return [f, rows, cols, g, isa];
    }

    /// <summary>
    /// Weights and activations that are integers with a group maximum of exactly QMax / 127 have scales 1, so every path
    /// computes Σ q·p exactly (all partial sums are integers below 2²⁴): SIMD and scalar integer sums must agree bit for bit.
    /// </summary>
    [Theory]
    [MemberData(nameof(Shapes))]
    public void IntegerSumsAreExactOnEveryPath(QuantFormat f, int rows, int cols, int g, QuantIsa isa)
    {
        int qmax = f == QuantFormat.Int8 ? 127 : 7;
        var rng = new Random(rows + cols);
        var w = new float[rows * cols];
        for (int i = 0; i < w.Length; i++) w[i] = i % cols % g == 0 ? qmax * (rng.Next(2) * 2 - 1) : rng.Next(-qmax, qmax + 1);
        var q = QuantizedMatrix.Quantize(w, rows, cols, f, g);
        const int n = QuantizedMatVec.IntegerMaxRows;
        var x = new float[n * cols];
        for (int i = 0; i < x.Length; i++) x[i] = i % cols % g == 0 ? 127 * (rng.Next(2) * 2 - 1) : rng.Next(-127, 128);
        for (int m = 1; m <= n; m++)
        {
            var y = Forward(q, Padded(x, m, cols, q.PaddedCols), m, isa);
            for (int i = 0; i < m; i++)
                for (int r = 0; r < rows; r++)
                {
                    long want = 0;
                    for (int c = 0; c < cols; c++) want += (long)w[r * cols + c] * (long)x[i * cols + c];
                    Assert.Equal((float)want, y[i * rows + r]);
                }
        }
    }

    /// <summary>
    /// Random values: each SIMD path equals the scalar integer reference up to the order of its fp32 additions, and all
    /// are within the activations' stated bound of the dequantized product, Σ_c |ŵ_c|·d_x/2 with d_x = group max|x| / 127.
    /// </summary>
    [Theory]
    [MemberData(nameof(Shapes))]
    public void EveryPathEqualsTheScalarReferenceAndIsWithinTheStatedBound(QuantFormat f, int rows, int cols, int g, QuantIsa isa)
    {
        var q = QuantizedMatrix.Quantize(Random(rows * cols, rows * cols), rows, cols, f, g);
        var deq = q.Dequantize();
        const int n = QuantizedMatVec.IntegerMaxRows;
        var x = Random(n * cols, cols, 2f);
        double worst = 0;
        for (int m = 1; m <= n; m++)
        {
            var xp = Padded(x, m, cols, q.PaddedCols);
            var reference = Forward(q, xp, m, QuantIsa.Scalar);
            var y = Forward(q, xp, m, isa);
            for (int i = 0; i < m; i++)
                for (int r = 0; r < rows; r++)
                {
                    double want = 0, mag = 0, bound = 0;
                    for (int c = 0; c < cols; c++)
                    {
                        double wc = deq[r * cols + c], xc = x[i * cols + c];
                        want += wc * xc;
                        mag += Math.Abs(wc * xc);
                        bound += Math.Abs(wc) * GroupAmax(x.AsSpan(i * cols, cols), c / g, g) / 127 / 2;
                    }
                    float got = y[i * rows + r];
                    Assert.True(Math.Abs(got - reference[i * rows + r]) <= 1e-5 * mag + 1e-6, $"{f} ({rows}, {cols}) G={g} n={m} {isa}: y[{i}, {r}] = {got}, scalar {reference[i * rows + r]}");
                    Assert.True(Math.Abs(got - want) <= bound * 1.0001 + 1e-5 * mag + 1e-6, $"{f} ({rows}, {cols}) G={g} n={m} {isa}: y[{i}, {r}] = {got}, dequantized product {want}, bound {bound}");
                    worst = Math.Max(worst, Math.Abs(got - want) - 1e-5 * mag);
                }
        }
        Assert.True(worst > 0, "the activations were not quantized: the result is the fp32-activation product");
    }

    static double GroupAmax(ReadOnlySpan<float> x, int b, int g)
    {
        double m = 0;
        for (int c = b * g; c < Math.Min(x.Length, (b + 1) * g); c++) m = Math.Max(m, Math.Abs(x[c]));
        return m;
    }

    public static IEnumerable<object[]> FormatsAndIsas() =>
        from f in new[] { QuantFormat.Int8, QuantFormat.Int4 } from isa in Isas() select new object[] { f, isa };

    [Theory]
    [MemberData(nameof(FormatsAndIsas))]
    public void ZeroRowsAndZeroGroupsGiveExactZerosAndNoNaN(QuantFormat f, QuantIsa isa)
    {
        const int rows = 6, cols = 100, g = 32, n = 3;
        var w = Random(rows * cols, 5);
        w.AsSpan(0, cols).Clear();                       // row 0: every group zero (scale 0)
        w.AsSpan(2 * cols + 32, 32).Clear();             // row 2: one zero group
        var q = QuantizedMatrix.Quantize(w, rows, cols, f, g);
        var x = Random(n * cols, 6);
        x.AsSpan(0, 32).Clear();                         // input 0: a zero group (scale 0)
        x.AsSpan(2 * cols, cols).Clear();                // input 2: all zero
        var xp = Padded(x, n, cols, q.PaddedCols);
        var y = Forward(q, xp, n, isa);
        var reference = Forward(q, xp, n, QuantIsa.Scalar);
        Assert.All(y, v => Assert.True(float.IsFinite(v)));
        for (int i = 0; i < n; i++) Assert.Equal(0f, y[i * rows]);
        for (int r = 0; r < rows; r++) Assert.Equal(0f, y[2 * rows + r]);
        for (int k = 0; k < y.Length; k++) Assert.True(Math.Abs(y[k] - reference[k]) <= 1e-5f * (1 + Math.Abs(reference[k])), $"{f} {isa} y[{k}] = {y[k]}, scalar {reference[k]}");
        Assert.NotEqual(0f, y[rows + 2]);
    }

    [Theory]
    [MemberData(nameof(FormatsAndIsas))]
    public void MultiThreadedEqualsSingleThreaded(QuantFormat f, QuantIsa isa)
    {
        const int rows = 1001, cols = 700;
        var q = QuantizedMatrix.Quantize(Random(rows * cols, 9), rows, cols, f);
        foreach (int n in new[] { 1, 3, 8 })
        {
            var xp = Padded(Random(n * cols, n), n, cols, q.PaddedCols);
            Assert.Equal(Forward(q, xp, n, isa, threads: 1), Forward(q, xp, n, isa, threads: 2));
        }
    }

    [Fact]
    public void TheSwitchReadsIntOrFloatAndDefaultsToInt()
    {
        Assert.Equal(QuantActivations.Float, QuantizedMatVec.ParseActivations("float"));
        Assert.Equal(QuantActivations.Float, QuantizedMatVec.ParseActivations(" FLOAT "));
        Assert.Equal(QuantActivations.Int8, QuantizedMatVec.ParseActivations("int"));
        Assert.Equal(QuantActivations.Int8, QuantizedMatVec.ParseActivations(null));
        Assert.Equal(QuantActivations.Int8, QuantizedMatVec.ParseActivations("fp16")); // unknown: one stderr line, the default
    }
}
