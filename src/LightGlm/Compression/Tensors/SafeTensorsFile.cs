// Minimal safetensors reader/writer for compression (F32/F16/BF16 in, F32 out). Replaced by Model/Checkpoints' when that lands.
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LightGlm.Compression.Tensors;

/// <summary>
/// The format: 8-byte little-endian header length N, N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}},
/// then the raw little-endian data. Writes go to a temp file renamed into place, so a crash never leaves a half file.
/// </summary>
public static class SafeTensorsFile
{
    public static TensorSet Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: safetensors file not found", path);
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8) throw new InvalidDataException($"{path}: too short for a safetensors file ({bytes.Length} bytes)");
        long n = BinaryPrimitives.ReadInt64LittleEndian(bytes);
        if (n <= 0 || 8 + n > bytes.Length) throw new InvalidDataException($"{path}: header length {n} does not fit the file ({bytes.Length} bytes)");
        JsonObject header;
        try { header = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 8, (int)n))!.AsObject(); }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException)
        { throw new InvalidDataException($"{path}: header is not a JSON object: {e.Message}", e); }
        var set = new TensorSet();
        long dataStart = 8 + n;
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__") continue;
            try
            {
                string dtype = node!["dtype"]!.GetValue<string>();
                int[] shape = node["shape"]!.AsArray().Select(x => x!.GetValue<int>()).ToArray();
                var offs = node["data_offsets"]!.AsArray();
                long b = offs[0]!.GetValue<long>(), e = offs[1]!.GetValue<long>();
                long count = shape.Aggregate(1L, (a, s) => a * s);
                int width = dtype switch { "F32" => 4, "F16" or "BF16" => 2, _ => throw new InvalidDataException($"{path}: tensor '{name}' has dtype {dtype}; only F32, F16, BF16 are read") };
                if (e - b != count * width || dataStart + e > bytes.Length)
                    throw new InvalidDataException($"{path}: tensor '{name}' offsets [{b}, {e}] do not match shape [{string.Join(", ", shape)}] × {width} bytes or run past the file");
                var data = new float[count];
                var src = bytes.AsSpan((int)(dataStart + b), (int)(e - b));
                for (long i = 0; i < count; i++)
                    data[i] = dtype switch
                    {
                        "F32" => BinaryPrimitives.ReadSingleLittleEndian(src[(int)(i * 4)..]),
                        "F16" => (float)BinaryPrimitives.ReadHalfLittleEndian(src[(int)(i * 2)..]),
                        _ => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(src[(int)(i * 2)..]) << 16),
                    };
                set.Add(name, shape, data);
            }
            catch (Exception ex) when (ex is NullReferenceException or InvalidOperationException or FormatException)
            { throw new InvalidDataException($"{path}: tensor '{name}' has a malformed header entry: {ex.Message}", ex); }
        }
        return set;
    }

    public static void Write(string path, TensorSet set, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var m = new JsonObject();
            foreach (var (k, v) in metadata) m[k] = v;
            header["__metadata__"] = m;
        }
        long offset = 0;
        var ordered = set.All.OrderBy(t => t.Name, StringComparer.Ordinal).ToList();
        foreach (var t in ordered)
        {
            header[t.Name] = new JsonObject
            {
                ["dtype"] = "F32",
                ["shape"] = new JsonArray(t.Shape.Select(s => (JsonNode)s).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + t.Count * 4),
            };
            offset += t.Count * 4;
        }
        var hb = Encoding.UTF8.GetBytes(header.ToJsonString());
        int pad = (8 - hb.Length % 8) % 8; // align the data to 8 bytes, padded with spaces as the spec allows
        var tmp = path + ".tmp-" + Environment.ProcessId;
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write))
        {
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(len, hb.Length + pad);
            fs.Write(len);
            fs.Write(hb);
            for (int i = 0; i < pad; i++) fs.WriteByte((byte)' ');
            foreach (var t in ordered)
            {
                var buf = new byte[t.Count * 4];
                for (long i = 0; i < t.Count; i++) BinaryPrimitives.WriteSingleLittleEndian(buf.AsSpan((int)(i * 4)), t.Data[i]);
                fs.Write(buf);
            }
        }
        File.Move(tmp, path, overwrite: true);
    }
}
