// The safetensors element types we read and write, and their conversions to and from float32.
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LightGlm.Model.Checkpoints;

/// <summary>
/// Element types of a checkpoint tensor. bf16 = the top 16 bits of an IEEE float32. I8 and U8 hold the quants of a
/// quantized inference checkpoint (<see cref="QuantizedCheckpoint"/>): raw bytes, never read as floats.
/// </summary>
public enum TensorDType { F32, F16, BF16, I8, U8 }

public static class TensorDTypes
{
    public static int Size(this TensorDType t) => t switch { TensorDType.F32 => 4, TensorDType.F16 or TensorDType.BF16 => 2, _ => 1 };

    /// <summary>True for the float types (F32, F16, BF16), which read as float32.</summary>
    public static bool IsFloat(this TensorDType t) => t is TensorDType.F32 or TensorDType.F16 or TensorDType.BF16;

    /// <summary>The name in a safetensors header ("F32", "F16", "BF16", "I8", "U8").</summary>
    public static string HeaderName(this TensorDType t) => t.ToString();

    /// <summary>The torch_dtype string of a Hugging Face config.json.</summary>
    public static string TorchName(this TensorDType t) => t switch
    {
        TensorDType.F32 => "float32", TensorDType.F16 => "float16", TensorDType.BF16 => "bfloat16",
        TensorDType.I8 => "int8", _ => "uint8",
    };

    public static bool TryParseHeader(string name, out TensorDType t)
    {
        switch (name)
        {
            case "F32": t = TensorDType.F32; return true;
            case "F16": t = TensorDType.F16; return true;
            case "BF16": t = TensorDType.BF16; return true;
            case "I8": t = TensorDType.I8; return true;
            case "U8": t = TensorDType.U8; return true;
            default: t = default; return false;
        }
    }

    /// <summary>Parses a user's or a config's dtype: fp32/float32/f32, fp16/float16/half, bf16/bfloat16.</summary>
    public static TensorDType Parse(string text, string what) => text.ToLowerInvariant() switch
    {
        "fp32" or "float32" or "f32" or "float" => TensorDType.F32,
        "fp16" or "float16" or "f16" or "half" => TensorDType.F16,
        "bf16" or "bfloat16" => TensorDType.BF16,
        _ => throw new FormatException($"{what} = '{text}' is not a dtype we handle; use fp32, fp16 or bf16"),
    };

    /// <summary>bf16 → f32 is exact: f32 bits = bf16 bits &lt;&lt; 16.</summary>
    public static void BFloat16ToSingle(ReadOnlySpan<ushort> src, Span<float> dst)
    {
        var bits = MemoryMarshal.Cast<float, uint>(dst[..src.Length]);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
            for (; i + 16 <= src.Length; i += 16)
            {
                var (lo, hi) = Vector256.Widen(Vector256.Create(src.Slice(i, 16)));
                Vector256.ShiftLeft(lo, 16).CopyTo(bits.Slice(i, 8));
                Vector256.ShiftLeft(hi, 16).CopyTo(bits.Slice(i + 8, 8));
            }
        for (; i < src.Length; i++) bits[i] = (uint)src[i] << 16;
    }

    /// <summary>f32 → bf16 rounding to nearest even (as torch's .to(bfloat16)); NaN stays a quiet NaN.</summary>
    public static void SingleToBFloat16(ReadOnlySpan<float> src, Span<ushort> dst)
    {
        var bits = MemoryMarshal.Cast<float, uint>(src);
        for (int i = 0; i < bits.Length; i++)
        {
            uint u = bits[i];
            dst[i] = float.IsNaN(src[i]) ? (ushort)((u >> 16) | 0x40) : (ushort)((u + 0x7FFF + ((u >> 16) & 1)) >> 16);
        }
    }

    /// <summary>Decodes <paramref name="raw"/> (little-endian elements of <paramref name="type"/>) into float32.</summary>
    public static void ToSingle(TensorDType type, ReadOnlySpan<byte> raw, Span<float> dst)
    {
        switch (type)
        {
            case TensorDType.F32: MemoryMarshal.Cast<byte, float>(raw).CopyTo(dst); break;
            case TensorDType.F16: TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(raw), dst); break;
            case TensorDType.BF16: BFloat16ToSingle(MemoryMarshal.Cast<byte, ushort>(raw), dst); break;
            default: throw NotFloat(type);
        }
    }

    /// <summary>Encodes float32 values as <paramref name="type"/> little-endian bytes (round to nearest even).</summary>
    public static void FromSingle(TensorDType type, ReadOnlySpan<float> src, Span<byte> raw)
    {
        switch (type)
        {
            case TensorDType.F32: MemoryMarshal.AsBytes(src).CopyTo(raw); break;
            case TensorDType.F16: TensorPrimitives.ConvertToHalf(src, MemoryMarshal.Cast<byte, Half>(raw)); break;
            case TensorDType.BF16: SingleToBFloat16(src, MemoryMarshal.Cast<byte, ushort>(raw)); break;
            default: throw NotFloat(type);
        }
    }

    // I8/U8 tensors are quants whose meaning needs their scales: reading them as values would run a model on garbage.
    static InvalidDataException NotFloat(TensorDType t) =>
        new($"a {t} tensor holds quantized weights (a quantized checkpoint's quants), not values; open such a directory " +
            "as a quantized checkpoint (translate, eval, serve, generate, bench), not as fp32/bf16 weights");
}
