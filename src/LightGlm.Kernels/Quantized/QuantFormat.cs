// Weight-only quantization formats and their block layout: [float scale][G quants] per group, rows padded to whole groups.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LightGlm.Kernels.Quantized;

/// <summary>Int8 (1 byte per weight) or int4 (two weights per byte, low nibble first).</summary>
public enum QuantFormat { Int8, Int4 }

/// <summary>
/// Block layout of one group of G consecutive weights of a row (ggml's Q8_0/Q4_0 idea, symmetric, no offset):
/// a 4-byte fp32 scale d followed by the quants; w ≈ d·q with q ∈ [−127, 127] (int8) or q ∈ [−7, 7] (int4, stored q+8).
/// Blocks of one row are contiguous, rows follow each other. Sizes are asserted below so a layout change cannot go unnoticed.
/// </summary>
public readonly record struct QuantBlockLayout(QuantFormat Format, int GroupSize)
{
    /// <summary>Largest quant magnitude: 127 for int8, 7 for int4 (symmetric, so −8 is never used).</summary>
    public int QMax => Format == QuantFormat.Int8 ? 127 : 7;

    /// <summary>Bytes holding the G quants of a block.</summary>
    public int QuantBytes => Format == QuantFormat.Int8 ? GroupSize : GroupSize / 2;

    /// <summary>Bytes of one block: scale (4) + quants.</summary>
    public int BlockBytes => sizeof(float) + QuantBytes;

    public static QuantBlockLayout Create(QuantFormat format, int groupSize)
    {
        if (groupSize <= 0 || groupSize % 32 != 0)
            throw new ArgumentException($"group size {groupSize} must be a positive multiple of 32 (32, 64, 128, ...)", nameof(groupSize));
        var layout = new QuantBlockLayout(format, groupSize);
        // The layouts the kernels and the files agree on: Q8 G=32 is 36 bytes, Q4 G=32 is 20 bytes (as ggml's Q8_0 / Q4_0).
        Check(layout.BlockBytes == (format == QuantFormat.Int8 ? 4 + groupSize : 4 + groupSize / 2), layout);
        Check(Unsafe.SizeOf<BlockQ8x32>() == 36 && Unsafe.SizeOf<BlockQ4x32>() == 20, layout);
        return layout;
    }

    static void Check(bool ok, QuantBlockLayout l)
    {
        if (!ok) throw new InvalidOperationException($"quantized block layout size check failed for {l}");
    }
}

/// <summary>The G = 32 int8 block as a struct, only so its size (36 bytes) is asserted against the byte layout.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
internal unsafe struct BlockQ8x32 { public float D; public fixed sbyte Q[32]; }

/// <summary>The G = 32 int4 block as a struct (20 bytes), for the same size assert.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
internal unsafe struct BlockQ4x32 { public float D; public fixed byte Q[16]; }
