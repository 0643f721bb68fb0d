// Per-thread pinned scratch buffers, grown on demand and reused, so hot loops do not allocate.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LightGlm.Kernels;

internal static unsafe class Scratch
{
    const int Slots = 5;
    [ThreadStatic] static float[]?[]? _buffers;

    /// <summary>A pointer to at least n floats in this thread's slot (valid until the same slot is requested again larger).</summary>
    public static float* Get(int slot, long n)
    {
        var bufs = _buffers ??= new float[Slots][];
        var buf = bufs[slot];
        if (buf is null || buf.Length < n) bufs[slot] = buf = GC.AllocateUninitializedArray<float>((int)Math.Max(n, 16), pinned: true);
        return (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buf));
    }
}
