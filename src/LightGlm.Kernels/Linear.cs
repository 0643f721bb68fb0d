// nn.Linear on rows: out = inp·Wᵀ + b with W (OC, IC) as PyTorch; GEMM for N > 1, GEMV for a single row (decode).
namespace LightGlm.Kernels;

public static class Linear
{
    /// <summary>out (N, OC) = inp (N, IC) · weightᵀ (IC, OC) + bias (OC, or empty); overwritten. out must not overlap inp.</summary>
    public static void Forward(Span<float> output, ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
        int N, int IC, int OC)
    {
        const string k = "Linear.Forward";
        Check.Dims(k, (nameof(N), N), (nameof(IC), IC), (nameof(OC), OC));
        Check.Len(k, nameof(output), (ReadOnlySpan<float>)output, (long)N * OC);
        Check.Len(k, nameof(input), input, (long)N * IC);
        Check.Len(k, nameof(weight), weight, (long)OC * IC);
        if (!bias.IsEmpty) Check.Len(k, nameof(bias), bias, OC);
        if (N == 0 || OC == 0) return;
        float beta = 0f;
        if (!bias.IsEmpty)
        {
            for (int n = 0; n < N; n++) bias[..OC].CopyTo(output.Slice(n * OC, OC));
            beta = 1f;
        }
        if (IC == 0) { if (bias.IsEmpty) output[..(N * OC)].Clear(); return; }
        if (N == 1) Gemm.Sgemv(false, OC, IC, 1f, weight, IC, input, beta, output);
        else Gemm.Sgemm(false, true, N, OC, IC, 1f, input, IC, weight, IC, beta, output, OC);
    }

    /// <summary>
    /// Inverts out = x·Wᵀ + b:  dinp += dout·W;  dweight += doutᵀ·x;  dbias += Σ_n dout_n.
    /// All three are ACCUMULATED; pass an empty dinp or dbias to skip it.
    /// </summary>
    public static void Backward(Span<float> dinput, Span<float> dweight, Span<float> dbias, ReadOnlySpan<float> doutput,
        ReadOnlySpan<float> input, ReadOnlySpan<float> weight, int N, int IC, int OC)
    {
        const string k = "Linear.Backward";
        Check.Dims(k, (nameof(N), N), (nameof(IC), IC), (nameof(OC), OC));
        Check.Len(k, nameof(doutput), doutput, (long)N * OC);
        Check.Len(k, nameof(input), input, (long)N * IC);
        Check.Len(k, nameof(weight), weight, (long)OC * IC);
        Check.Len(k, nameof(dweight), (ReadOnlySpan<float>)dweight, (long)OC * IC);
        if (N == 0 || OC == 0 || IC == 0) return;
        if (!dinput.IsEmpty)
            Gemm.Sgemm(false, false, N, IC, OC, 1f, doutput, OC, weight, IC, 1f, dinput, IC);
        Gemm.Sgemm(true, false, OC, IC, N, 1f, doutput, OC, input, IC, 1f, dweight, IC);
        if (!dbias.IsEmpty)
        {
            Check.Len(k, nameof(dbias), (ReadOnlySpan<float>)dbias, OC);
            for (int n = 0; n < N; n++)
                System.Numerics.Tensors.TensorPrimitives.Add(dbias[..OC], doutput.Slice(n * OC, OC), dbias[..OC]);
        }
    }
}
