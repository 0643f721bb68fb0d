// One memory-mapped safetensors file: an 8-byte little-endian header length, a JSON header, raw tensor bytes.
using System.IO.MemoryMappedFiles;
using System.Text;
using System.Text.Json;

namespace LightGlm.Interop.Safetensors;

/// <summary>Where one tensor lives: its file, element type, shape and byte range inside the file's data area.</summary>
public sealed record TensorEntry(string Name, string File, TensorDType DType, long[] Shape, long Begin, long End)
{
    public long Elements => Shape.Aggregate(1L, (a, b) => a * b);
    /// <summary>Rows of the tensor viewed as a matrix (first dimension; 1 for a scalar).</summary>
    public long Rows => Shape.Length == 0 ? 1 : Shape[0];
    /// <summary>Elements per row (product of the remaining dimensions).</summary>
    public long RowLength => Shape.Length <= 1 ? 1 : Shape.Skip(1).Aggregate(1L, (a, b) => a * b);
    public string ShapeText => "(" + string.Join(", ", Shape) + ")";
}

/// <summary>
/// Reads a safetensors file through a read-only memory map: the header is parsed and checked up front
/// (every offset inside the file, sizes = shape · element size, no overlaps); tensor bytes are paged in on demand.
/// </summary>
public sealed class SafetensorsFile : IDisposable
{
    public string Path { get; }
    public IReadOnlyDictionary<string, TensorEntry> Tensors => _tensors;
    public IReadOnlyDictionary<string, string> Metadata => _metadata;

    readonly Dictionary<string, TensorEntry> _tensors = new(StringComparer.Ordinal);
    readonly Dictionary<string, string> _metadata = new(StringComparer.Ordinal);
    readonly MemoryMappedFile? _map;
    readonly MemoryMappedViewAccessor? _view;
    readonly long _dataStart;

    SafetensorsFile(string path)
    {
        Path = path;
        long length = new FileInfo(path).Length;
        if (length < 8) throw new InvalidDataException($"{path}: {length} bytes is too short for a safetensors file (8-byte header length missing)");
        using (var fs = File.OpenRead(path))
        {
            Span<byte> head = stackalloc byte[8];
            fs.ReadExactly(head);
            ulong n = BitConverter.ToUInt64(head);
            if (n == 0 || n > 100_000_000 || (long)n > length - 8)
                throw new InvalidDataException($"{path}: header length {n} does not fit in a {length}-byte file; not a safetensors file or truncated");
            var json = new byte[n];
            fs.ReadExactly(json);
            _dataStart = 8 + (long)n;
            ParseHeader(json, length - _dataStart);
        }
        if (length > _dataStart)
        {
            _map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            _view = _map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        }
    }

    public static SafetensorsFile Open(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: safetensors file not found", path);
        return new SafetensorsFile(path);
    }

    void ParseHeader(byte[] json, long dataLength)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json); }
        catch (JsonException e) { throw new InvalidDataException($"{Path}: the safetensors header is not valid JSON: {e.Message}"); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{Path}: the safetensors header is not a JSON object");
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (p.Name == "__metadata__")
                {
                    foreach (var m in p.Value.EnumerateObject()) _metadata[m.Name] = m.Value.ToString();
                    continue;
                }
                string dtypeName = p.Value.TryGetProperty("dtype", out var d) ? d.GetString() ?? "" : "";
                if (!TensorDTypes.TryParseHeader(dtypeName, out var dtype))
                    throw new InvalidDataException($"{Path}: tensor '{p.Name}' has dtype '{dtypeName}'; we read F32, F16 and BF16 (convert the checkpoint, e.g. with torch, to one of them)");
                if (!p.Value.TryGetProperty("shape", out var shapeEl) || !p.Value.TryGetProperty("data_offsets", out var offEl) || offEl.GetArrayLength() != 2)
                    throw new InvalidDataException($"{Path}: tensor '{p.Name}' lacks 'shape' or a two-element 'data_offsets'");
                var shape = shapeEl.EnumerateArray().Select(x => x.GetInt64()).ToArray();
                long begin = offEl[0].GetInt64(), end = offEl[1].GetInt64();
                var e = new TensorEntry(p.Name, Path, dtype, shape, begin, end);
                if (shape.Any(s => s < 0) || begin < 0 || end < begin || end > dataLength)
                    throw new InvalidDataException($"{Path}: tensor '{p.Name}' has data_offsets [{begin}, {end}) outside the {dataLength}-byte data area (file truncated?)");
                if (end - begin != e.Elements * dtype.Size())
                    throw new InvalidDataException($"{Path}: tensor '{p.Name}' {dtypeName}{e.ShapeText} needs {e.Elements * dtype.Size()} bytes but data_offsets give {end - begin}");
                _tensors.Add(p.Name, e);
            }
        }
        long at = 0; // tensors must tile the data area without overlapping
        foreach (var e in _tensors.Values.OrderBy(e => e.Begin))
        {
            if (e.Begin < at) throw new InvalidDataException($"{Path}: tensor '{e.Name}' overlaps the tensor before it");
            at = e.End;
        }
    }

    /// <summary>Copies bytes [offset, offset + dst.Length) of a tensor's data out of the map.</summary>
    public void ReadBytes(TensorEntry e, long offset, Span<byte> dst)
    {
        if (offset < 0 || offset + dst.Length > e.End - e.Begin)
            throw new ArgumentOutOfRangeException(nameof(offset), $"{e.Name}: bytes [{offset}, {offset + dst.Length}) outside the tensor");
        if (dst.Length == 0) return;
        _view!.SafeMemoryMappedViewHandle.ReadSpan((ulong)(_view.PointerOffset + _dataStart + e.Begin + offset), dst);
    }

    /// <summary>Reads rows [row, row + count) of <paramref name="e"/> as float32 into <paramref name="dst"/> (count·RowLength values).</summary>
    public void ReadRows(TensorEntry e, long row, int count, Span<float> dst, Span<byte> scratch)
    {
        int n = checked((int)(count * e.RowLength));
        int bytes = n * e.DType.Size();
        if (e.DType == TensorDType.F32)
        {
            ReadBytes(e, row * e.RowLength * 4, System.Runtime.InteropServices.MemoryMarshal.AsBytes(dst[..n]));
            return;
        }
        var raw = scratch[..bytes];
        ReadBytes(e, row * e.RowLength * e.DType.Size(), raw);
        TensorDTypes.ToSingle(e.DType, raw, dst[..n]);
    }

    public void Dispose()
    {
        _view?.Dispose();
        _map?.Dispose();
    }

    internal static string HeaderJson(IEnumerable<TensorEntry> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        var sb = new StringBuilder("{");
        bool first = true;
        if (metadata is { Count: > 0 })
        {
            sb.Append("\"__metadata__\":").Append(JsonSerializer.Serialize(metadata));
            first = false;
        }
        foreach (var e in entries)
        {
            if (!first) sb.Append(',');
            first = false;
            sb.Append(JsonSerializer.Serialize(e.Name)).Append(":{\"dtype\":\"").Append(e.DType.HeaderName())
              .Append("\",\"shape\":[").Append(string.Join(',', e.Shape)).Append("],\"data_offsets\":[")
              .Append(e.Begin).Append(',').Append(e.End).Append("]}");
        }
        return sb.Append('}').ToString();
    }
}
