// The packed-qkv attention entry points equal the separate-buffer ones on the same data (forward and backward).
using LightGlm.Kernels;

namespace LightGlm.Tests.Kernels;

public class AttentionQkvTests
{
    [Theory]
    [InlineData(1, 1, 1, 1, 1)] [InlineData(2, 7, 4, 2, 3)] [InlineData(3, 17, 6, 3, 8)] [InlineData(2, 40, 8, 2, 32)]
    public void PackedLayoutMatchesSeparateBuffers(int B, int T, int H, int KV, int D)
    {
        int W = (H + 2 * KV) * D, N = B * T;
        var qkv = KernelAssert.Random(N * W, T + H);
        var q = new float[N * H * D]; var k = new float[N * KV * D]; var v = new float[N * KV * D];
        for (int n = 0; n < N; n++)
        {
            Array.Copy(qkv, n * W, q, n * H * D, H * D);
            Array.Copy(qkv, n * W + H * D, k, n * KV * D, KV * D);
            Array.Copy(qkv, n * W + (H + KV) * D, v, n * KV * D, KV * D);
        }
        int[] prefix = Enumerable.Range(0, B).Select(b => b % 2 == 0 ? 0 : T / 2).ToArray();
        var o1 = new float[N * H * D]; var a1 = new float[B * H * T * T];
        var o2 = new float[N * H * D]; var a2 = new float[B * H * T * T];
        Attention.Forward(o1, a1, q, k, v, B, T, H, KV, D, prefix);
        Attention.ForwardQkv(o2, a2, qkv, B, T, H, KV, D, prefix);
        KernelAssert.Close(o1, o2, 0, 0, "out");
        KernelAssert.Close(a1, a2, 0, 0, "att");

        var g = KernelAssert.Random(N * H * D, 3);
        var dq = KernelAssert.Random(q.Length, 4); var dk = KernelAssert.Random(k.Length, 5); var dv = KernelAssert.Random(v.Length, 6);
        var dqkv = new float[N * W];
        for (int n = 0; n < N; n++)
        {
            Array.Copy(dq, n * H * D, dqkv, n * W, H * D);
            Array.Copy(dk, n * KV * D, dqkv, n * W + H * D, KV * D);
            Array.Copy(dv, n * KV * D, dqkv, n * W + (H + KV) * D, KV * D);
        }
        Attention.Backward(dq, dk, dv, g, a1, q, k, v, B, T, H, KV, D);
        Attention.BackwardQkv(dqkv, g, a2, qkv, B, T, H, KV, D);
        for (int n = 0; n < N; n++)
        {
            KernelAssert.Close(dq.AsSpan(n * H * D, H * D).ToArray(), dqkv.AsSpan(n * W, H * D), 0, 0, "dq");
            KernelAssert.Close(dk.AsSpan(n * KV * D, KV * D).ToArray(), dqkv.AsSpan(n * W + H * D, KV * D), 0, 0, "dk");
            KernelAssert.Close(dv.AsSpan(n * KV * D, KV * D).ToArray(), dqkv.AsSpan(n * W + (H + KV) * D, KV * D), 0, 0, "dv");
        }
    }
}
