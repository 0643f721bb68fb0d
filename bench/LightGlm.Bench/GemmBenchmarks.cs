// GEMM and GEMV: managed (baseline) vs OpenBLAS on the shapes of the `small` config (N = B·T = 1024 rows).
using BenchmarkDotNet.Attributes;
using LightGlm.Kernels;

namespace LightGlm.Bench;

[MemoryDiagnoser]
public class GemmBenchmarks
{
    // (M, N, K, transB): q/k/v/o projections, FFN up/down, LM head, and a weight gradient (transA).
    [Params("1024x256x256", "1024x688x256", "1024x256x688", "1024x8192x256", "dW:256x688x1024")]
    public string Shape { get; set; } = "";

    int _m, _n, _k;
    bool _transA;
    float[] _a = [], _b = [], _c = [];

    [GlobalSetup]
    public void Setup()
    {
        _transA = Shape.StartsWith("dW:");
        var dims = Shape.Replace("dW:", "").Split('x').Select(int.Parse).ToArray();
        (_m, _n, _k) = (dims[0], dims[1], dims[2]);
        var r = new Random(1);
        _a = Enumerable.Range(0, _m * _k).Select(_ => (float)r.NextDouble()).ToArray();
        _b = Enumerable.Range(0, _n * _k).Select(_ => (float)r.NextDouble()).ToArray();
        _c = new float[_m * _n];
    }

    // y = x·Wᵀ (forward) or dW = dyᵀ·x (transA) — the layouts the model uses.
    void Run(GemmBackend backend)
    {
        if (_transA) Gemm.Sgemm(backend, true, false, _m, _n, _k, 1f, _a, _m, _b, _n, 0f, _c, _n);
        else Gemm.Sgemm(backend, false, true, _m, _n, _k, 1f, _a, _k, _b, _k, 0f, _c, _n);
    }

    [Benchmark(Baseline = true)]
    public void Managed() => Run(GemmBackend.Managed);

    [Benchmark]
    public void OpenBlas() => Run(GemmBackend.OpenBlas);
}

[MemoryDiagnoser]
public class GemvBenchmarks
{
    // Decode: one token through an (out, in) weight. LM head 8192x256, FFN 688x256.
    [Params("8192x256", "688x256", "256x688")]
    public string Shape { get; set; } = "";

    int _m, _n;
    float[] _a = [], _x = [], _y = [];

    [GlobalSetup]
    public void Setup()
    {
        var d = Shape.Split('x').Select(int.Parse).ToArray();
        (_m, _n) = (d[0], d[1]);
        var r = new Random(2);
        _a = Enumerable.Range(0, _m * _n).Select(_ => (float)r.NextDouble()).ToArray();
        _x = Enumerable.Range(0, _n).Select(_ => (float)r.NextDouble()).ToArray();
        _y = new float[_m];
    }

    [Benchmark(Baseline = true)]
    public void Managed() => Gemm.Sgemv(GemmBackend.Managed, false, _m, _n, 1f, _a, _n, _x, 0f, _y);

    [Benchmark]
    public void OpenBlas() => Gemm.Sgemv(GemmBackend.OpenBlas, false, _m, _n, 1f, _a, _n, _x, 0f, _y);
}
