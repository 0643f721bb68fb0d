// ggml's tensor types that GGUF export writes (F32, F16, Q8_0, Q4_0) and their reference block codecs
// (ggml-quants.c quantize_row_q8_0_ref / quantize_row_q4_0_ref and the matching dequantize_row_*).
using System.Buffers.Binary;
using System.Diagnostics;

namespace LightGlm.Interop.Gguf;

/// <summary>enum ggml_type values (ggml.h); only the ones we write.</summary>
public enum GgmlType : uint
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q8_0 = 8,
}

public static class GgmlQuant
{
    /// <summary>Values per quantization block (QK8_0 = QK4_0 = 32).</summary>
    public const int BlockValues = 32;
    /// <summary>block_q8_0: fp16 scale d + 32 int8 (x ≈ d·q).</summary>
    public const int Q8_0BlockBytes = 2 + 32;
    /// <summary>block_q4_0: fp16 scale d + 16 bytes of nibbles (x ≈ d·(q − 8); byte j = q[j] | q[j+16] &lt;&lt; 4).</summary>
    public const int Q4_0BlockBytes = 2 + 16;

    public static string Name(GgmlType t) => t switch
    {
        GgmlType.F32 => "f32", GgmlType.F16 => "f16", GgmlType.Q8_0 => "q8_0", GgmlType.Q4_0 => "q4_0",
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, "not a type GGUF export writes"),
    };

    public static GgmlType Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "f32" or "fp32" => GgmlType.F32,
        "f16" or "fp16" => GgmlType.F16,
        "q8_0" => GgmlType.Q8_0,
        "q4_0" => GgmlType.Q4_0,
        _ => throw new ArgumentException($"GGUF dtype '{text}' is not one of f32, f16, q8_0, q4_0"),
    };

    /// <summary>Whether rows of <paramref name="cols"/> values can be stored as <paramref name="t"/> (blocks never straddle rows).</summary>
    public static bool Fits(GgmlType t, long cols) => t is GgmlType.F32 or GgmlType.F16 || cols % BlockValues == 0;

    /// <summary>Bytes of <paramref name="count"/> values (a multiple of 32 for the block types).</summary>
    public static long Bytes(GgmlType t, long count) => t switch
    {
        GgmlType.F32 => count * 4,
        GgmlType.F16 => count * 2,
        GgmlType.Q8_0 => checked(count / BlockValues * Q8_0BlockBytes),
        GgmlType.Q4_0 => checked(count / BlockValues * Q4_0BlockBytes),
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, null),
    };

    /// <summary>Encodes <paramref name="x"/> (length a multiple of 32 for Q8_0/Q4_0) into <paramref name="dst"/> (<see cref="Bytes"/> long).</summary>
    public static void Encode(GgmlType t, ReadOnlySpan<float> x, Span<byte> dst)
    {
        Debug.Assert(dst.Length == Bytes(t, x.Length));
        switch (t)
        {
            case GgmlType.F32:
                for (int i = 0; i < x.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(dst[(4 * i)..], x[i]);
                break;
            case GgmlType.F16:
                for (int i = 0; i < x.Length; i++) BinaryPrimitives.WriteHalfLittleEndian(dst[(2 * i)..], (Half)x[i]);
                break;
            case GgmlType.Q8_0:
                for (int b = 0; b < x.Length / BlockValues; b++) Q8_0Block(x.Slice(b * BlockValues, BlockValues), dst.Slice(b * Q8_0BlockBytes, Q8_0BlockBytes));
                break;
            case GgmlType.Q4_0:
                for (int b = 0; b < x.Length / BlockValues; b++) Q4_0Block(x.Slice(b * BlockValues, BlockValues), dst.Slice(b * Q4_0BlockBytes, Q4_0BlockBytes));
                break;
            default: throw new ArgumentOutOfRangeException(nameof(t), t, null);
        }
    }

    /// <summary>quantize_row_q8_0_ref: d = max|x| / 127, q = round(x / d) (half away from zero), so |x − d·q| ≤ d/2 (+ d's fp16 rounding).</summary>
    static void Q8_0Block(ReadOnlySpan<float> x, Span<byte> dst)
    {
        float amax = 0;
        foreach (float v in x) amax = MathF.Max(amax, MathF.Abs(v));
        float d = amax / 127f, id = d != 0 ? 1f / d : 0f;
        BinaryPrimitives.WriteHalfLittleEndian(dst, (Half)d);
        for (int j = 0; j < BlockValues; j++) dst[2 + j] = (byte)(sbyte)MathF.Round(x[j] * id, MidpointRounding.AwayFromZero);
    }

    /// <summary>
    /// quantize_row_q4_0_ref: m = the value of largest magnitude (with its sign), d = m / −8, q = min(15, (int)(x/d + 8.5)),
    /// so m maps to q = 0 and the grid d·(q − 8) covers [−8d, 7d]; |x − d·(q − 8)| ≤ |d|/2 (+ fp16 rounding of d).
    /// </summary>
    static void Q4_0Block(ReadOnlySpan<float> x, Span<byte> dst)
    {
        float amax = 0, max = 0;
        foreach (float v in x)
            if (amax < MathF.Abs(v)) { amax = MathF.Abs(v); max = v; }
        float d = max / -8f, id = d != 0 ? 1f / d : 0f;
        BinaryPrimitives.WriteHalfLittleEndian(dst, (Half)d);
        for (int j = 0; j < BlockValues / 2; j++)
        {
            int lo = Math.Min(15, (int)(sbyte)(x[j] * id + 8.5f));
            int hi = Math.Min(15, (int)(sbyte)(x[j + 16] * id + 8.5f));
            dst[2 + j] = (byte)(lo | (hi << 4));
        }
    }

    /// <summary>Decodes <paramref name="src"/> (<see cref="Bytes"/>(t, dst.Length) bytes) into float32 (dequantize_row_*).</summary>
    public static void Decode(GgmlType t, ReadOnlySpan<byte> src, Span<float> dst)
    {
        switch (t)
        {
            case GgmlType.F32:
                for (int i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadSingleLittleEndian(src[(4 * i)..]);
                break;
            case GgmlType.F16:
                for (int i = 0; i < dst.Length; i++) dst[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(src[(2 * i)..]);
                break;
            case GgmlType.Q8_0:
                for (int b = 0; b < dst.Length / BlockValues; b++)
                {
                    var blk = src.Slice(b * Q8_0BlockBytes, Q8_0BlockBytes);
                    float d = (float)BinaryPrimitives.ReadHalfLittleEndian(blk);
                    for (int j = 0; j < BlockValues; j++) dst[b * BlockValues + j] = d * (sbyte)blk[2 + j];
                }
                break;
            case GgmlType.Q4_0:
                for (int b = 0; b < dst.Length / BlockValues; b++)
                {
                    var blk = src.Slice(b * Q4_0BlockBytes, Q4_0BlockBytes);
                    float d = (float)BinaryPrimitives.ReadHalfLittleEndian(blk);
                    for (int j = 0; j < BlockValues / 2; j++)
                    {
                        dst[b * BlockValues + j] = d * ((blk[2 + j] & 0x0F) - 8);
                        dst[b * BlockValues + j + 16] = d * ((blk[2 + j] >> 4) - 8);
                    }
                }
                break;
            default: throw new ArgumentOutOfRangeException(nameof(t), t, null);
        }
    }
}
