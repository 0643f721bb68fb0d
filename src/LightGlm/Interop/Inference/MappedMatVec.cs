// Σ bf16(w)·x with the widening done in vector registers: decode over memory-mapped bf16 weights.
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using LightGlm.Model.Checkpoints;

namespace LightGlm.Interop.Inference;

/// <summary>The bf16 dot product decode runs on memory-mapped weights (<see cref="MappedRows"/>).</summary>
public static class MappedMatVec
{
    /// <summary>Σ_i bf16(w_i)·x_i with bf16 → f32 = bits &lt;&lt; 16 done in vector registers (16 weights per step, two accumulators).</summary>
    public static float DotBFloat16(ReadOnlySpan<ushort> w, ReadOnlySpan<float> x)
    {
        int i = 0;
        float sum = 0;
        if (Vector256.IsHardwareAccelerated && w.Length >= 16)
        {
            var acc0 = Vector256<float>.Zero;
            var acc1 = Vector256<float>.Zero;
            for (; i + 16 <= w.Length; i += 16)
            {
                var (lo, hi) = Vector256.Widen(Vector256.Create(w.Slice(i, 16)));
                acc0 += Vector256.ShiftLeft(lo, 16).AsSingle() * Vector256.Create(x.Slice(i, 8));
                acc1 += Vector256.ShiftLeft(hi, 16).AsSingle() * Vector256.Create(x.Slice(i + 8, 8));
            }
            sum = Vector256.Sum(acc0 + acc1);
        }
        for (; i < w.Length; i++) sum += BitConverter.Int32BitsToSingle(w[i] << 16) * x[i];
        return sum;
    }
}
