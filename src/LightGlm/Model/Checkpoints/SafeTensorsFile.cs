// The one safetensors reader: memory-mapped, header checked up front, F32/F16/BF16 read as fp32 (whole or by rows).
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace LightGlm.Model.Checkpoints;

/// <summary>Where one tensor lives: its file, element type, shape and byte range [Begin, End) inside the file's data area.</summary>
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
/// Format: u64 little-endian header length n; n bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]},
/// __metadata__}; then the data. Every problem (truncation, bad JSON, a dtype we do not read, size ≠ shape·dtype,
/// overlap, gap, bytes past the last tensor) is reported naming the file and the tensor. Tensor bytes stay in the page cache until read.
/// </summary>
public sealed class SafeTensorsFile : IDisposable
{
    public string Path { get; }
    public IReadOnlyDictionary<string, TensorEntry> Tensors => _tensors;
    public IReadOnlyDictionary<string, string> Metadata => _metadata;

    readonly Dictionary<string, TensorEntry> _tensors = new(StringComparer.Ordinal);
    readonly Dictionary<string, string> _metadata = new(StringComparer.Ordinal);
    readonly MemoryMappedFile? _map;
    readonly MemoryMappedViewAccessor? _view;
    readonly long _dataStart;
    readonly nint _viewStart;   // address of byte 0 of the file in the view; the handle is kept referenced while open
    bool _viewReferenced;

    public SafeTensorsFile(string path)
    {
        Path = path;
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: safetensors file not found", path);
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("big-endian hosts are not supported");
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
            _view.SafeMemoryMappedViewHandle.DangerousAddRef(ref _viewReferenced);
            _viewStart = _view.SafeMemoryMappedViewHandle.DangerousGetHandle() + (nint)_view.PointerOffset;
        }
    }

    public static SafeTensorsFile Open(string path) => new(path);

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
                {   // the format's metadata is a map of strings to strings; anything else is not a file we wrote or HF wrote
                    if (p.Value.ValueKind != JsonValueKind.Object)
                        throw new InvalidDataException($"{Path}: header field '__metadata__' must be an object of strings, found {Kind(p.Value)}");
                    foreach (var m in p.Value.EnumerateObject())
                    {
                        if (m.Value.ValueKind != JsonValueKind.String)
                            throw new InvalidDataException($"{Path}: header field '__metadata__.{m.Name}' must be a string, found {Kind(m.Value)}");
                        _metadata[m.Name] = m.Value.GetString()!;
                    }
                    continue;
                }
                if (!_tensors.TryAdd(p.Name, ParseEntry(p.Name, p.Value, dataLength)))
                    throw new InvalidDataException($"{Path}: tensor '{p.Name}' appears twice in the header");
            }
        }
        ProveLayout(dataLength);
    }

    /// <summary>
    /// The header must tile the data section exactly, as the reference reader (safetensors' validate) requires:
    /// sorted by offset, the first tensor begins at 0, each begins where the previous one ends (no gap, no overlap),
    /// and the last one ends at the end of the file. A header short of the data, or with a hole, would otherwise load
    /// and run the model on shifted bytes.
    /// </summary>
    void ProveLayout(long dataLength)
    {
        long expected = 0;
        TensorEntry? prev = null;
        foreach (var t in _tensors.Values.OrderBy(t => t.Begin).ThenBy(t => t.End))
        {
            if (t.Begin < expected)
                throw new InvalidDataException($"{Path}: tensors '{prev!.Name}' [{prev.Begin}, {prev.End}) and '{t.Name}' [{t.Begin}, {t.End}) overlap");
            if (t.Begin > expected)
                throw new InvalidDataException(prev is null
                    ? $"{Path}: tensor '{t.Name}' begins at data offset {t.Begin}, expected 0 (the first {t.Begin} bytes belong to no tensor: a wrong header)"
                    : $"{Path}: gap of {t.Begin - expected} bytes between tensor '{prev.Name}' (ends at {prev.End}) and tensor '{t.Name}' (begins at {t.Begin}): a wrong header");
            expected = t.End;
            prev = t;
        }
        if (expected != dataLength)
            throw new InvalidDataException(prev is null
                ? $"{Path}: the header lists no tensors but the data section holds {dataLength} bytes"
                : $"{Path}: the data section holds {dataLength} bytes but the tensors end at {expected} (last tensor '{prev.Name}'): "
                  + "the header does not describe the data (bytes appended, or a header from another file)");
    }

    static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object", JsonValueKind.Array => "an array", JsonValueKind.String => $"a string ({e.GetRawText()})",
        JsonValueKind.Number => $"a number ({e.GetRawText()})", JsonValueKind.True or JsonValueKind.False => $"a boolean ({e.GetRawText()})",
        _ => "null",
    };

    TensorEntry ParseEntry(string name, JsonElement e, long dataLength)
    {
        string Where() => $"{Path}: tensor '{name}'";
        if (e.ValueKind != JsonValueKind.Object
            || !e.TryGetProperty("dtype", out var dt) || dt.ValueKind != JsonValueKind.String
            || !e.TryGetProperty("shape", out var sh) || sh.ValueKind != JsonValueKind.Array
            || !e.TryGetProperty("data_offsets", out var off) || off.ValueKind != JsonValueKind.Array || off.GetArrayLength() != 2)
            throw new InvalidDataException($"{Where()}: header entry needs dtype (string), shape (array), data_offsets ([begin, end])");
        string dtypeName = dt.GetString()!;
        if (!TensorDTypes.TryParseHeader(dtypeName, out var dtype))
            throw new InvalidDataException($"{Where()}: dtype '{dtypeName}' is not one we read (F32, F16, BF16); convert the checkpoint, e.g. with torch, to one of them");
        var shape = new long[sh.GetArrayLength()];
        for (int i = 0; i < shape.Length; i++)
            if (sh[i].ValueKind != JsonValueKind.Number || !sh[i].TryGetInt64(out shape[i]) || shape[i] < 0)
                throw new InvalidDataException($"{Where()}: shape[{i}] must be a non-negative integer, found {Kind(sh[i])} in shape {sh.GetRawText()}");
        long Offset(int i) => off[i].ValueKind == JsonValueKind.Number && off[i].TryGetInt64(out long v) && v >= 0 ? v
            : throw new InvalidDataException($"{Where()}: data_offsets[{i}] must be a non-negative integer, found {Kind(off[i])}");
        long begin = Offset(0), end = Offset(1);
        if (begin < 0 || end < begin) throw new InvalidDataException($"{Where()}: data_offsets [{begin}, {end}] are not an increasing pair");
        if (end > dataLength)
            throw new InvalidDataException($"{Where()}: data_offsets end {end} is past the {dataLength}-byte data section: the file is truncated");
        var info = new TensorEntry(name, Path, dtype, shape, begin, end);
        // product(shape)·size in floating point first: a shape whose product overflows a long cannot match any file
        double want = shape.Aggregate(1.0, (a, d) => a * d) * dtype.Size();
        if (want > dataLength || info.Elements * dtype.Size() != end - begin)
            throw new InvalidDataException($"{Where()}: {end - begin} bytes for {dtypeName}{info.ShapeText} (expected {want:0}): mislabelled dtype or shape");
        return info;
    }

    public TensorEntry Get(string name) =>
        _tensors.TryGetValue(name, out var t) ? t : throw new InvalidDataException($"{Path}: tensor '{name}' is missing");

    /// <summary>Copies bytes [offset, offset + dst.Length) of a tensor's data out of the map, unconverted.</summary>
    public void ReadBytes(TensorEntry e, long offset, Span<byte> dst)
    {
        if (offset < 0 || offset + dst.Length > e.End - e.Begin)
            throw new ArgumentOutOfRangeException(nameof(offset), $"{Path}: tensor '{e.Name}': bytes [{offset}, {offset + dst.Length}) outside the tensor");
        if (dst.Length == 0) return;
        _view!.SafeMemoryMappedViewHandle.ReadSpan((ulong)(_view.PointerOffset + _dataStart + e.Begin + offset), dst);
    }

    /// <summary>The address of a tensor's first data byte inside the map, for kernels that read weights in place (decode over
    /// bf16 rows): valid, read-only, until this file is disposed.</summary>
    public nint DataAddress(TensorEntry e) =>
        _view is null ? throw new InvalidOperationException($"{Path}: no tensor data is mapped") : _viewStart + (nint)(_dataStart + e.Begin);

    /// <summary>Rows [row, row + count) of <paramref name="e"/> as fp32 into dst (count·RowLength values); scratch ≥ that many stored elements' bytes unless F32.</summary>
    public void ReadRows(TensorEntry e, long row, int count, Span<float> dst, Span<byte> scratch)
    {
        int n = checked((int)(count * e.RowLength));
        if (e.DType == TensorDType.F32)
        {
            ReadBytes(e, row * e.RowLength * 4, MemoryMarshal.AsBytes(dst[..n]));
            return;
        }
        var raw = scratch[..(n * e.DType.Size())];
        ReadBytes(e, row * e.RowLength * e.DType.Size(), raw);
        TensorDTypes.ToSingle(e.DType, raw, dst[..n]);
    }

    /// <summary>Reads a tensor as fp32 into dest[offset..offset+count] (F32 as is; F16 and BF16 widened exactly), 64K values at a time.</summary>
    public void ReadFloat32(string name, float[] dest, int offset)
    {
        var t = Get(name);
        long count = t.Elements;
        if (count == 0) return;
        if (offset < 0 || offset + count > dest.Length) throw new ArgumentException($"{Path}: tensor '{name}' ({count} values) does not fit the destination");
        if (t.DType == TensorDType.F32) { ReadBytes(t, 0, MemoryMarshal.AsBytes(dest.AsSpan(offset, (int)count))); return; }
        const int chunk = 1 << 16;
        var buf = new byte[(int)Math.Min(chunk, count) * t.DType.Size()];
        for (long done = 0; done < count; done += chunk)
        {
            int n = (int)Math.Min(chunk, count - done);
            ReadBytes(t, done * t.DType.Size(), buf.AsSpan(0, n * t.DType.Size()));
            TensorDTypes.ToSingle(t.DType, buf.AsSpan(0, n * t.DType.Size()), dest.AsSpan(offset + (int)done, n));
        }
    }

    /// <summary>A tensor as a new fp32 array.</summary>
    public float[] ReadFloat32(string name)
    {
        var a = new float[checked((int)Get(name).Elements)];
        ReadFloat32(name, a, 0);
        return a;
    }

    public void Dispose()
    {
        if (_viewReferenced) { _view!.SafeMemoryMappedViewHandle.DangerousRelease(); _viewReferenced = false; }
        _view?.Dispose();
        _map?.Dispose();
    }

    /// <summary>The JSON header of a file holding <paramref name="entries"/> (used by the writer).</summary>
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
