// safetensors writer: F32 tensors from arena views, header padded to 8 bytes, written atomically.
using System.Runtime.InteropServices;
using System.Text.Json;

namespace LightGlm.Model.Checkpoints;

/// <summary>A tensor to write: name, shape and fp32 data (a window of an arena, not copied).</summary>
public readonly record struct TensorToWrite(string Name, long[] Shape, ReadOnlyMemory<float> Data);

public static class SafeTensorsWriter
{
    /// <summary>Writes tensors (in the given order) as F32 to <paramref name="path"/>, atomically.</summary>
    public static void Write(string path, IReadOnlyList<TensorToWrite> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in tensors)
        {
            if (!names.Add(t.Name)) throw new ArgumentException($"{path}: tensor '{t.Name}' is given twice");
            long n = t.Shape.Aggregate(1L, (a, b) => a * b);
            if (n != t.Data.Length) throw new ArgumentException($"{path}: tensor '{t.Name}' has {t.Data.Length} values for shape ({string.Join(", ", t.Shape)})");
        }
        byte[] header = BuildHeader(tensors, metadata);
        AtomicFile.Write(path, s =>
        {
            Span<byte> len = stackalloc byte[8];
            BitConverter.TryWriteBytes(len, (ulong)header.Length);
            s.Write(len);
            s.Write(header);
            foreach (var t in tensors) s.Write(MemoryMarshal.AsBytes(t.Data.Span));
        });
    }

    static byte[] BuildHeader(IReadOnlyList<TensorToWrite> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) w.WriteString(k, v);
                w.WriteEndObject();
            }
            long offset = 0;
            foreach (var t in tensors)
            {
                w.WriteStartObject(t.Name);
                w.WriteString("dtype", "F32");
                w.WriteStartArray("shape");
                foreach (var d in t.Shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                offset += 4L * t.Data.Length;
                w.WriteNumberValue(offset);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        // Pad with spaces so the data section starts 8-byte aligned (as the reference implementation does).
        int pad = (int)((8 - ms.Length % 8) % 8);
        for (int i = 0; i < pad; i++) ms.WriteByte((byte)' ');
        return ms.ToArray();
    }

    /// <summary>The named tensors of an arena laid out by <paramref name="layout"/>, as views (shapes from the layout).</summary>
    public static List<TensorToWrite> FromArena(ParameterLayout layout, float[] arena, string prefix = "")
    {
        var list = new List<TensorToWrite>(layout.Tensors.Count);
        foreach (var t in layout.Tensors)
            list.Add(new TensorToWrite(prefix + t.Name, t.Shape.Select(d => (long)d).ToArray(), arena.AsMemory(t.Offset, t.Length)));
        return list;
    }
}
