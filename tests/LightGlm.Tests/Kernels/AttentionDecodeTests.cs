// Decode attention over a KV cache equals the last row of full causal attention (and respects left padding).
using LightGlm.Kernels;

namespace LightGlm.Tests.Kernels;

public class AttentionDecodeTests
{
    [Theory]
    [InlineData(1, 1, 1, 1, 1)] [InlineData(2, 5, 4, 2, 3)] [InlineData(3, 9, 8, 2, 32)] [InlineData(2, 40, 4, 4, 17)]
    public void MatchesLastRowOfFullAttention(int B, int T, int H, int KV, int D)
    {
        int S = T + 3; // cache capacity larger than the filled length
        var q = KernelAssert.Random(B * T * H * D, 1); var k = KernelAssert.Random(B * T * KV * D, 2); var v = KernelAssert.Random(B * T * KV * D, 3);
        int[] starts = Enumerable.Range(0, B).Select(b => b % 2).ToArray();
        var e = AttentionTests.Ref(KernelAssert.ToDouble(q), KernelAssert.ToDouble(k), KernelAssert.ToDouble(v), B, T, H, KV, D, null, starts);
        var kc = new float[B * S * KV * D]; var vc = new float[B * S * KV * D];
        for (int b = 0; b < B; b++)
        {
            Array.Copy(k, b * T * KV * D, kc, b * S * KV * D, T * KV * D);
            Array.Copy(v, b * T * KV * D, vc, b * S * KV * D, T * KV * D);
        }
        var qLast = new float[B * H * D];
        var expected = new double[B * H * D];
        for (int b = 0; b < B; b++)
        {
            Array.Copy(q, ((b * T) + T - 1) * H * D, qLast, b * H * D, H * D);
            Array.Copy(e, ((b * T) + T - 1) * H * D, expected, b * H * D, H * D);
        }
        var o = KernelAssert.Random(B * H * D, 9);
        AttentionDecode.Forward(o, qLast, kc, vc, Enumerable.Repeat(T, B).ToArray(), starts, B, S, H, KV, D);
        KernelAssert.Close(expected, o, 1e-4, 1e-5, "decode");
    }

    [Fact]
    public void RejectsLengthBeyondCache()
        => Assert.Throws<ArgumentOutOfRangeException>(() => AttentionDecode.Forward(new float[2], new float[2], new float[4], new float[4], new[] { 3 }, default, 1, 2, 1, 1, 2));
}
