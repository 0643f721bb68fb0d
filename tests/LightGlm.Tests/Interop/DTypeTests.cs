// bf16/fp16 conversions and the fused bf16 dot product against scalar references, over many lengths.
using System.Runtime.InteropServices;
using LightGlm.Interop.Inference;
using LightGlm.Model.Checkpoints;

namespace LightGlm.Tests.Interop;

public sealed class DTypeTests
{
    [Fact]
    public void BFloat16RoundTripsAndRoundsToNearestEven()
    {
        float[] src = [1f, -2.5f, 3.14159265f, 1e-30f, 65504f, float.PositiveInfinity, 0f, -0f, 1.00390625f, 1.01171875f];
        var u = new ushort[src.Length];
        TensorDTypes.SingleToBFloat16(src, u);
        var back = new float[src.Length];
        TensorDTypes.BFloat16ToSingle(u, back);
        for (int i = 0; i < src.Length; i++)
        {
            // reference: round half to even on the low 16 bits
            uint b = BitConverter.SingleToUInt32Bits(src[i]);
            uint lsb = (b >> 16) & 1, rounded = (b + 0x7FFF + lsb) & 0xFFFF0000;
            Assert.Equal(BitConverter.UInt32BitsToSingle(rounded), back[i]);
        }
        Assert.Equal(1.0f, back[8]);       // 1 + 2^-8 is a tie: rounds to even (1.0)
        Assert.Equal(1.015625f, back[9]);  // 1 + 3·2^-8 is a tie: rounds to even (1 + 2^-6)
        TensorDTypes.SingleToBFloat16([float.NaN], u);
        TensorDTypes.BFloat16ToSingle(u.AsSpan(0, 1), back);
        Assert.True(float.IsNaN(back[0]));
    }

    [Fact]
    public void FusedBFloat16DotMatchesScalarForEveryLength()
    {
        foreach (bool narrow in new[] { false, true })
        {
            LightGlm.Kernels.BFloat16Dot.ForceVector256 = narrow;
            try { BFloat16DotMatchesScalar(); }
            finally { LightGlm.Kernels.BFloat16Dot.ForceVector256 = false; }
        }
    }

    static void BFloat16DotMatchesScalar()
    {
        var rng = new Random(5);
        for (int n = 0; n <= 131; n++)
        {
            var wf = Enumerable.Range(0, n).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
            var x = Enumerable.Range(0, n).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
            var w = new ushort[n];
            TensorDTypes.SingleToBFloat16(wf, w);
            double expected = 0;
            for (int i = 0; i < n; i++) expected += (double)BitConverter.Int32BitsToSingle(w[i] << 16) * x[i];
            Assert.True(Math.Abs(LightGlm.Kernels.BFloat16Dot.Dot(w, x) - expected) < 1e-5, $"n = {n}");
        }
    }

    [Fact]
    public void HalfDecodingIsExact()
    {
        Half[] h = [(Half)1.5f, (Half)(-0.0009765625f), Half.MaxValue, Half.Epsilon];
        var f = new float[h.Length];
        TensorDTypes.ToSingle(TensorDType.F16, MemoryMarshal.AsBytes(h.AsSpan()), f);
        for (int i = 0; i < h.Length; i++) Assert.Equal((float)h[i], f[i]);
    }
}
