// safetensors reader: memory-mapped, header validated, F32/F16/BF16 converted to fp32 on read.
using System.IO.MemoryMappedFiles;
using System.Text.Json;

namespace LightGlm.Model.Checkpoints;

/// <summary>One tensor's header entry. Begin/End are byte offsets relative to the data section.</summary>
public sealed record SafeTensorInfo(string Name, string DType, long[] Shape, long Begin, long End)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
    public string ShapeText => "(" + string.Join(", ", Shape) + ")";
}

/// <summary>
/// Format: u64 little-endian header length n; n bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__};
/// then the data. Every problem (truncation, bad JSON, unknown dtype, size ≠ shape·dtype, overlap) is reported naming
/// the file and the tensor.
/// </summary>
public sealed class SafeTensorsFile : IDisposable
{
    public string Path { get; }
    public IReadOnlyDictionary<string, SafeTensorInfo> Tensors => _tensors;
    public IReadOnlyDictionary<string, string> Metadata => _metadata;

    readonly Dictionary<string, SafeTensorInfo> _tensors = new(StringComparer.Ordinal);
    readonly Dictionary<string, string> _metadata = new(StringComparer.Ordinal);
    readonly MemoryMappedFile? _map;
    readonly MemoryMappedViewAccessor? _view;
    readonly long _dataStart;

    public static int DTypeSize(string dtype) => dtype switch
    {
        "F64" or "I64" or "U64" => 8,
        "F32" or "I32" or "U32" => 4,
        "F16" or "BF16" or "I16" or "U16" => 2,
        "I8" or "U8" or "BOOL" or "F8_E4M3" or "F8_E5M2" => 1,
        _ => 0,
    };

    public SafeTensorsFile(string path)
    {
        Path = path;
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: safetensors file not found", path);
        long length = new FileInfo(path).Length;
        if (length < 8) throw new InvalidDataException($"{path}: truncated safetensors file ({length} bytes; the 8-byte header length is missing)");
        byte[] header;
        using (var fs = File.OpenRead(path))
        {
            Span<byte> len8 = stackalloc byte[8];
            fs.ReadExactly(len8);
            ulong n = BitConverter.ToUInt64(len8);
            if (n == 0 || n > (ulong)(length - 8) || n > 100_000_000)
                throw new InvalidDataException($"{path}: header length {n} does not fit in a file of {length} bytes (truncated or not a safetensors file)");
            header = new byte[n];
            fs.ReadExactly(header);
            _dataStart = 8 + (long)n;
        }
        try { ParseHeader(header, length - _dataStart); }
        catch (Exception e) when (e is InvalidOperationException or FormatException or OverflowException or ArgumentException)
        {   // invalid UTF-8 in a name, a non-integer offset, an overflowing shape: all say "malformed header"
            throw new InvalidDataException($"{path}: malformed safetensors header ({e.Message})", e);
        }
        if (length > _dataStart)
        {
            _map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            _view = _map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        }
    }

    void ParseHeader(byte[] header, long dataLength)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(header); }
        catch (JsonException e) { throw new InvalidDataException($"{Path}: the safetensors header is not valid JSON: {e.Message}", e); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{Path}: the safetensors header is not a JSON object");
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (p.Name == "__metadata__")
                {
                    if (p.Value.ValueKind == JsonValueKind.Object)
                        foreach (var m in p.Value.EnumerateObject()) _metadata[m.Name] = m.Value.ToString();
                    continue;
                }
                _tensors[p.Name] = ParseEntry(p.Name, p.Value, dataLength);
            }
        }
        // Data ranges must not overlap (a mislabelled offset usually shows up here).
        SafeTensorInfo? prev = null;
        foreach (var t in _tensors.Values.OrderBy(t => t.Begin).ThenBy(t => t.End))
        {
            if (prev is not null && t.Begin < prev.End && t.End > t.Begin)
                throw new InvalidDataException($"{Path}: tensors '{prev.Name}' [{prev.Begin}, {prev.End}) and '{t.Name}' [{t.Begin}, {t.End}) overlap");
            prev = t;
        }
    }

    SafeTensorInfo ParseEntry(string name, JsonElement e, long dataLength)
    {
        string Where() => $"{Path}: tensor '{name}'";
        if (e.ValueKind != JsonValueKind.Object
            || !e.TryGetProperty("dtype", out var dt) || dt.ValueKind != JsonValueKind.String
            || !e.TryGetProperty("shape", out var sh) || sh.ValueKind != JsonValueKind.Array
            || !e.TryGetProperty("data_offsets", out var off) || off.ValueKind != JsonValueKind.Array || off.GetArrayLength() != 2)
            throw new InvalidDataException($"{Where()}: header entry needs dtype (string), shape (array), data_offsets ([begin, end])");
        string dtype = dt.GetString()!;
        int size = DTypeSize(dtype);
        if (size == 0) throw new InvalidDataException($"{Where()}: unknown dtype '{dtype}'");
        long[] shape;
        try { shape = sh.EnumerateArray().Select(x => x.GetInt64()).ToArray(); }
        catch (Exception ex) when (ex is FormatException or InvalidOperationException)
        { throw new InvalidDataException($"{Where()}: shape {sh} is not a list of integers"); }
        if (shape.Any(d => d < 0)) throw new InvalidDataException($"{Where()}: negative dimension in shape {sh}");
        long begin = off[0].GetInt64(), end = off[1].GetInt64();
        if (begin < 0 || end < begin) throw new InvalidDataException($"{Where()}: data_offsets [{begin}, {end}] are not an increasing pair");
        if (end > dataLength)
            throw new InvalidDataException($"{Where()}: data_offsets end {end} is past the data section ({dataLength} bytes): the file is truncated");
        var info = new SafeTensorInfo(name, dtype, shape, begin, end);
        if (info.ElementCount * size != end - begin)
            throw new InvalidDataException($"{Where()}: {end - begin} bytes for shape {info.ShapeText} of {dtype} (expected {info.ElementCount * size}): mislabelled dtype or shape");
        return info;
    }

    public SafeTensorInfo Get(string name) =>
        _tensors.TryGetValue(name, out var t) ? t : throw new InvalidDataException($"{Path}: tensor '{name}' is missing");

    /// <summary>Reads a tensor as fp32 into dest[offset..offset+count] (F32 as is; F16 and BF16 widened exactly).</summary>
    public void ReadFloat32(string name, float[] dest, int offset)
    {
        var t = Get(name);
        long count = t.ElementCount;
        if (count == 0) return;
        if (offset < 0 || offset + count > dest.Length) throw new ArgumentException($"{Path}: tensor '{name}' ({count} values) does not fit the destination");
        long pos = _dataStart + t.Begin;
        switch (t.DType)
        {
            case "F32":
                _view!.ReadArray(pos, dest, offset, (int)count);
                if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("big-endian hosts are not supported");
                break;
            case "F16":
            case "BF16":
                {
                    const int chunk = 1 << 16;
                    var buf = new ushort[Math.Min(chunk, count)];
                    for (long done = 0; done < count; done += buf.Length)
                    {
                        int n = (int)Math.Min(buf.Length, count - done);
                        _view!.ReadArray(pos + 2 * done, buf, 0, n);
                        var d = dest.AsSpan(offset + (int)done, n);
                        if (t.DType == "BF16") for (int i = 0; i < n; i++) d[i] = BitConverter.Int32BitsToSingle(buf[i] << 16);
                        else for (int i = 0; i < n; i++) d[i] = (float)BitConverter.UInt16BitsToHalf(buf[i]);
                    }
                    break;
                }
            default:
                throw new InvalidDataException($"{Path}: tensor '{name}' has dtype {t.DType}; only F32, F16 and BF16 convert to fp32");
        }
    }

    /// <summary>A tensor as a new fp32 array.</summary>
    public float[] ReadFloat32(string name)
    {
        var t = Get(name);
        var a = new float[t.ElementCount];
        ReadFloat32(name, a, 0);
        return a;
    }

    public void Dispose()
    {
        _view?.Dispose();
        _map?.Dispose();
    }
}
