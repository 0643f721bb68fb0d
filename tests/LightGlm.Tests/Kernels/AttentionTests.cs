// Attention: causal, GLM prefix and left-padded masks with grouped KV heads, vs a double reference and finite differences.
using LightGlm.Kernels;

namespace LightGlm.Tests.Kernels;

public class AttentionTests
{
    internal static double[] Ref(double[] q, double[] k, double[] v, int B, int T, int H, int KV, int D, int[]? P, int[]? S, double[]? probs = null)
    {
        var o = new double[B * T * H * D];
        double scale = 1 / Math.Sqrt(D);
        for (int b = 0; b < B; b++)
            for (int h = 0; h < H; h++)
            {
                int kh = h / (H / KV);
                for (int i = 0; i < T; i++)
                {
                    var s = new double[T];
                    bool[] vis = new bool[T];
                    double max = double.NegativeInfinity;
                    for (int j = 0; j < T; j++)
                    {
                        vis[j] = (j <= i || j < (P?[b] ?? 0)) && j >= (S?[b] ?? 0);
                        if (!vis[j]) continue;
                        double d = 0;
                        for (int x = 0; x < D; x++) d += q[((b * T + i) * H + h) * D + x] * k[((b * T + j) * KV + kh) * D + x];
                        s[j] = d * scale;
                        max = Math.Max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < T; j++) { s[j] = vis[j] ? Math.Exp(s[j] - max) : 0; sum += s[j]; }
                    for (int j = 0; j < T; j++)
                    {
                        double p = sum > 0 ? s[j] / sum : 0;
                        if (probs != null) probs[((b * H + h) * T + i) * T + j] = p;
                        for (int x = 0; x < D; x++) o[((b * T + i) * H + h) * D + x] += p * v[((b * T + j) * KV + kh) * D + x];
                    }
                }
            }
        return o;
    }

    public static TheoryData<int, int, int, int, int, string> Cases() => new()
    {
        { 1, 1, 1, 1, 1, "causal" }, { 2, 5, 4, 2, 3, "causal" }, { 2, 7, 2, 1, 8, "prefix" }, { 3, 6, 4, 4, 5, "padded" },
        { 1, 9, 6, 2, 4, "prefix+padded" }, { 2, 33, 4, 2, 16, "causal" }, { 1, 70, 2, 1, 32, "prefix" }, { 0, 3, 2, 1, 2, "causal" },
    };

    static (int[]? P, int[]? S) Masks(string mode, int B, int T)
    {
        int[]? P = mode.Contains("prefix") ? Enumerable.Range(0, B).Select(b => (b * 3 + T / 2) % (T + 1)).ToArray() : null;
        int[]? S = mode.Contains("padded") ? Enumerable.Range(0, B).Select(b => b % 3 == 2 ? T - 1 : b % 3).ToArray() : null;
        return (P, S);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardMatchesReference(int B, int T, int H, int KV, int D, string mode)
    {
        var (P, S) = Masks(mode, B, T);
        var q = KernelAssert.Random(B * T * H * D, 1, 2f); var k = KernelAssert.Random(B * T * KV * D, 2, 2f); var v = KernelAssert.Random(B * T * KV * D, 3);
        var o = new float[q.Length]; var att = new float[B * H * T * T];
        Attention.Forward(o, att, q, k, v, B, T, H, KV, D, P, S);
        var probs = new double[att.Length];
        var e = Ref(KernelAssert.ToDouble(q), KernelAssert.ToDouble(k), KernelAssert.ToDouble(v), B, T, H, KV, D, P, S, probs);
        KernelAssert.Close(e, o, 1e-4, 1e-5, "out");
        KernelAssert.Close(probs, att, 1e-4, 1e-6, "probs");
    }

    [Theory]
    [InlineData(2, 5, 4, 2, 3, "causal")] [InlineData(2, 6, 2, 1, 4, "prefix")] [InlineData(3, 4, 2, 2, 3, "prefix+padded")]
    [InlineData(1, 37, 2, 1, 2, "causal")] [InlineData(2, 37, 2, 1, 2, "prefix+padded")] // more than one 32-row query block
    public void BackwardMatchesFiniteDifferences(int B, int T, int H, int KV, int D, string mode)
    {
        var (P, S) = Masks(mode, B, T);
        var q = KernelAssert.Random(B * T * H * D, 4); var k = KernelAssert.Random(B * T * KV * D, 5); var v = KernelAssert.Random(B * T * KV * D, 6);
        var g = KernelAssert.Random(q.Length, 7);
        var o = new float[q.Length]; var att = new float[B * H * T * T];
        Attention.Forward(o, att, q, k, v, B, T, H, KV, D, P, S);
        var dq0 = KernelAssert.Random(q.Length, 8); var dk0 = KernelAssert.Random(k.Length, 9); var dv0 = KernelAssert.Random(v.Length, 10);
        var dq = (float[])dq0.Clone(); var dk = (float[])dk0.Clone(); var dv = (float[])dv0.Clone();
        Attention.Backward(dq, dk, dv, g, att, q, k, v, B, T, H, KV, D);
        var qd = KernelAssert.ToDouble(q); var kd = KernelAssert.ToDouble(k); var vd = KernelAssert.ToDouble(v);
        KernelAssert.CloseAccumulated(KernelAssert.NumericGrad(p => KernelAssert.Dot(Ref(p, kd, vd, B, T, H, KV, D, P, S), g), qd), dq0, dq, 1e-3, 1e-4, "dq");
        KernelAssert.CloseAccumulated(KernelAssert.NumericGrad(p => KernelAssert.Dot(Ref(qd, p, vd, B, T, H, KV, D, P, S), g), kd), dk0, dk, 1e-3, 1e-4, "dk");
        KernelAssert.CloseAccumulated(KernelAssert.NumericGrad(p => KernelAssert.Dot(Ref(qd, kd, p, B, T, H, KV, D, P, S), g), vd), dv0, dv, 1e-3, 1e-4, "dv");
    }

    [Fact]
    public void RejectsBadHeadsAndPrefix()
    {
        Assert.Throws<ArgumentException>(() => Attention.Forward(new float[12], new float[9], new float[12], new float[6], new float[6], 1, 3, 3, 2, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Attention.Forward(new float[6], new float[18], new float[6], new float[6], new float[6], 1, 3, 2, 2, 1, new[] { 4 }));
    }
}
