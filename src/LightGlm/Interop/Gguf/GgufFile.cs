// Reads back a GGUF file's header, metadata and tensor table (the layout GgufWriter writes) and decodes tensors:
// what the tests and `bench llama-cpp` use to check an export without trusting the writer.
using System.Text;

namespace LightGlm.Interop.Gguf;

/// <summary>One tensor of the table: row-major <see cref="Shape"/> (outermost first), data at DataStart + <see cref="Offset"/>.</summary>
public sealed record GgufTensorInfo(string Name, long[] Shape, GgmlType Type, long Offset)
{
    public long Elements => Shape.Aggregate(1L, (a, b) => a * b);
    public long Bytes => GgmlQuant.Bytes(Type, Elements);
}

public sealed class GgufFile
{
    public required string Path { get; init; }
    public required uint Version { get; init; }
    public required IReadOnlyDictionary<string, object> Metadata { get; init; }
    public required IReadOnlyList<GgufTensorInfo> Tensors { get; init; }
    public required long DataStart { get; init; }
    public required int Alignment { get; init; }

    public GgufTensorInfo Tensor(string name) => Tensors.FirstOrDefault(t => t.Name == name)
        ?? throw new KeyNotFoundException($"{Path}: no tensor '{name}'");

    public T Get<T>(string key) => Metadata.TryGetValue(key, out var v) ? (T)v : throw new KeyNotFoundException($"{Path}: no metadata key '{key}'");

    /// <summary>Parses and checks header, metadata and tensor table; throws InvalidDataException naming the file and what is wrong.</summary>
    public static GgufFile Read(string path)
    {
        using var fs = File.OpenRead(path);
        using var r = new BinaryReader(fs, Encoding.UTF8);
        long length = fs.Length;
        try
        {
            uint magic = r.ReadUInt32();
            if (magic != GgufWriter.Magic) throw new InvalidDataException($"{path}: not a GGUF file (magic 0x{magic:X8}, expected 'GGUF')");
            uint version = r.ReadUInt32();
            if (version is not (2 or 3)) throw new InvalidDataException($"{path}: GGUF version {version}; only 2 and 3 are read");
            ulong nTensors = r.ReadUInt64(), nKv = r.ReadUInt64();
            if (nTensors > 1_000_000 || nKv > 1_000_000) throw new InvalidDataException($"{path}: implausible counts ({nTensors} tensors, {nKv} keys); the header is damaged");
            var meta = new Dictionary<string, object>(StringComparer.Ordinal);
            for (ulong i = 0; i < nKv; i++)
            {
                string key = ReadString(r, length);
                var type = (GgufValueType)r.ReadUInt32();
                if (!meta.TryAdd(key, ReadValue(r, type, length))) throw new InvalidDataException($"{path}: metadata key '{key}' appears twice");
            }
            int alignment = meta.TryGetValue("general.alignment", out var a) ? checked((int)(uint)a) : GgufWriter.Alignment;
            var tensors = new List<GgufTensorInfo>();
            for (ulong i = 0; i < nTensors; i++)
            {
                string name = ReadString(r, length);
                uint nd = r.ReadUInt32();
                if (nd is 0 or > 4) throw new InvalidDataException($"{path}: tensor '{name}' has {nd} dims");
                var ne = new long[nd];
                for (int d = 0; d < nd; d++) ne[d] = checked((long)r.ReadUInt64());
                var type = (GgmlType)r.ReadUInt32();
                if (!Enum.IsDefined(type)) throw new InvalidDataException($"{path}: tensor '{name}' has ggml type {(uint)type}, which this reader does not decode");
                long offset = checked((long)r.ReadUInt64());
                if (offset % alignment != 0) throw new InvalidDataException($"{path}: tensor '{name}' offset {offset} is not a multiple of the alignment {alignment}");
                tensors.Add(new GgufTensorInfo(name, ne.Reverse().ToArray(), type, offset));
            }
            long dataStart = (fs.Position + alignment - 1) / alignment * alignment;
            foreach (var t in tensors)
                if (dataStart + t.Offset + t.Bytes > length)
                    throw new InvalidDataException($"{path}: tensor '{t.Name}' ({string.Join(", ", t.Shape)}, {GgmlQuant.Name(t.Type)}) ends at byte {dataStart + t.Offset + t.Bytes} but the file has {length}; it is truncated");
            return new GgufFile { Path = path, Version = version, Metadata = meta, Tensors = tensors, DataStart = dataStart, Alignment = alignment };
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException($"{path}: the file ends inside the GGUF header ({length} bytes); it is truncated");
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith(path, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{path}: {e.Message}; the GGUF header is damaged");
        }
    }

    /// <summary>A tensor's values as float32 (quantized types dequantized as ggml does).</summary>
    public float[] ReadFloats(string name)
    {
        var t = Tensor(name);
        var raw = new byte[t.Bytes];
        using (var fs = File.OpenRead(Path))
        {
            fs.Position = DataStart + t.Offset;
            fs.ReadExactly(raw);
        }
        var dst = new float[t.Elements];
        GgmlQuant.Decode(t.Type, raw, dst);
        return dst;
    }

    static string ReadString(BinaryReader r, long fileLength)
    {
        ulong n = r.ReadUInt64();
        if (n > (ulong)fileLength) throw new InvalidDataException($"string length {n} exceeds the file");
        return Encoding.UTF8.GetString(r.ReadBytes((int)n));
    }

    static object ReadValue(BinaryReader r, GgufValueType type, long fileLength) => type switch
    {
        GgufValueType.UInt8 => r.ReadByte(),
        GgufValueType.Int8 => r.ReadSByte(),
        GgufValueType.UInt16 => r.ReadUInt16(),
        GgufValueType.Int16 => r.ReadInt16(),
        GgufValueType.UInt32 => r.ReadUInt32(),
        GgufValueType.Int32 => r.ReadInt32(),
        GgufValueType.Float32 => r.ReadSingle(),
        GgufValueType.Bool => r.ReadByte() != 0,
        GgufValueType.String => ReadString(r, fileLength),
        GgufValueType.UInt64 => r.ReadUInt64(),
        GgufValueType.Int64 => r.ReadInt64(),
        GgufValueType.Float64 => r.ReadDouble(),
        GgufValueType.Array => ReadArray(r, fileLength),
        _ => throw new InvalidDataException($"unknown GGUF value type {(uint)type}"),
    };

    static object ReadArray(BinaryReader r, long fileLength)
    {
        var item = (GgufValueType)r.ReadUInt32();
        ulong n = r.ReadUInt64();
        if (n > (ulong)fileLength) throw new InvalidDataException($"array length {n} exceeds the file");
        return item switch
        {
            GgufValueType.String => Enumerable.Range(0, (int)n).Select(_ => ReadString(r, fileLength)).ToArray(),
            GgufValueType.Float32 => Enumerable.Range(0, (int)n).Select(_ => r.ReadSingle()).ToArray(),
            GgufValueType.Int32 => Enumerable.Range(0, (int)n).Select(_ => r.ReadInt32()).ToArray(),
            _ => Enumerable.Range(0, (int)n).Select(_ => ReadValue(r, item, fileLength)).ToArray(),
        };
    }
}
