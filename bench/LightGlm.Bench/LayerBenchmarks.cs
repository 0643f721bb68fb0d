// Fast kernels vs plain scalar loops (baseline) on `small` shapes: B 8, T 128, C 256, H 8, KV 2, D 32, F 688, V 8192.
using BenchmarkDotNet.Attributes;
using LightGlm.Kernels;

namespace LightGlm.Bench;

[MemoryDiagnoser]
public class AttentionBenchmarks
{
    const int B = 8, T = 128, H = 8, KV = 2, D = 32;
    readonly float[] _q = Rand(B * T * H * D, 1), _k = Rand(B * T * KV * D, 2), _v = Rand(B * T * KV * D, 3);
    readonly float[] _o = new float[B * T * H * D], _att = new float[B * H * T * T];
    readonly float[] _dq = new float[B * T * H * D], _dk = new float[B * T * KV * D], _dv = new float[B * T * KV * D];

    internal static float[] Rand(int n, int seed)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray();
    }

    [Benchmark(Baseline = true)]
    public void ForwardScalar() => ScalarReference.Attention(_o, _att, _q, _k, _v, B, T, H, KV, D);

    [Benchmark]
    public void Forward() => Attention.Forward(_o, _att, _q, _k, _v, B, T, H, KV, D);

    [Benchmark]
    public void Backward() => Attention.Backward(_dq, _dk, _dv, _o, _att, _q, _k, _v, B, T, H, KV, D);
}

[MemoryDiagnoser]
public class PointwiseBenchmarks
{
    const int N = 1024, C = 256, F = 688, V = 8192;
    readonly float[] _g = AttentionBenchmarks.Rand(N * F, 1), _u = AttentionBenchmarks.Rand(N * F, 2), _o = new float[N * F];
    readonly float[] _x = AttentionBenchmarks.Rand(N * C, 3), _w = AttentionBenchmarks.Rand(C, 4), _y = new float[N * C], _rstd = new float[N];
    readonly float[] _z = AttentionBenchmarks.Rand(N * V, 5), _dz = new float[N * V];
    readonly int[] _t = Enumerable.Range(0, N).Select(i => i * 7 % V).ToArray();

    [Benchmark(Baseline = true)] public void SwiGluScalar() => ScalarReference.SwiGlu(_o, _g, _u);
    [Benchmark] public void SwiGluForward() => SwiGlu.Forward(_o, _g, _u, N, F);
    [Benchmark] public void RmsNormScalar() => ScalarReference.RmsNorm(_y, _rstd, _x, _w, N, C);
    [Benchmark] public void RmsNormForward() => RmsNorm.Forward(_y, _rstd, _x, _w, N, C, 1e-5f);
    [Benchmark] public float CrossEntropyScalar() => ScalarReference.CrossEntropyFused(_dz, _z, _t, N, V);
    [Benchmark] public double CrossEntropyFused() => CrossEntropy.ForwardBackward(_dz, _z, _t, N, V, 1f / N).Sum;
}
