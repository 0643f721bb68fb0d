// The GGUF container (ggml's docs/gguf.md, gguf-py's gguf_writer.py), version 3, little-endian:
//   "GGUF" u32 version=3 u64 n_tensors u64 n_kv
//   n_kv × (string key, u32 value_type, value)                 string = u64 byte length + UTF-8 bytes
//   n_tensors × (string name, u32 n_dims, u64 dims[n_dims] innermost first, u32 ggml_type, u64 offset)
//   zero padding to `general.alignment` (32), then each tensor's data at data_start + offset (offsets aligned, zero padded).
using System.Buffers.Binary;
using System.Text;

namespace LightGlm.Interop.Gguf;

/// <summary>enum gguf_type: the metadata value types.</summary>
public enum GgufValueType : uint
{
    UInt8 = 0, Int8 = 1, UInt16 = 2, Int16 = 3, UInt32 = 4, Int32 = 5, Float32 = 6, Bool = 7, String = 8, Array = 9,
    UInt64 = 10, Int64 = 11, Float64 = 12,
}

/// <summary>Builds a GGUF file: metadata first, then tensors whose bytes are produced only while the file is written.</summary>
public sealed class GgufWriter
{
    public const uint Magic = 0x46554747; // "GGUF" read as a little-endian u32
    public const uint Version = 3;
    public const int Alignment = 32;

    readonly List<(string Key, GgufValueType Type, Action<BinaryWriter> Write)> _kv = [];
    readonly List<Tensor> _tensors = [];
    readonly HashSet<string> _names = new(StringComparer.Ordinal);

    /// <summary>A tensor to write: row-major <paramref name="Shape"/> (outermost first, as PyTorch), <paramref name="Bytes"/> of data.</summary>
    sealed record Tensor(string Name, long[] Shape, GgmlType Type, long Bytes, Action<Stream> Write);

    public void Add(string key, string value) => AddKv(key, GgufValueType.String, w => WriteString(w, value));
    public void Add(string key, uint value) => AddKv(key, GgufValueType.UInt32, w => w.Write(value));
    public void Add(string key, float value) => AddKv(key, GgufValueType.Float32, w => w.Write(value));
    public void Add(string key, bool value) => AddKv(key, GgufValueType.Bool, w => w.Write((byte)(value ? 1 : 0)));
    public void Add(string key, IReadOnlyList<string> values) => AddArray(key, GgufValueType.String, values.Count, (w, i) => WriteString(w, values[i]));
    public void Add(string key, IReadOnlyList<float> values) => AddArray(key, GgufValueType.Float32, values.Count, (w, i) => w.Write(values[i]));
    public void Add(string key, IReadOnlyList<int> values) => AddArray(key, GgufValueType.Int32, values.Count, (w, i) => w.Write(values[i]));

    void AddArray(string key, GgufValueType item, int count, Action<BinaryWriter, int> write) =>
        AddKv(key, GgufValueType.Array, w =>
        {
            w.Write((uint)item);
            w.Write((ulong)count);
            for (int i = 0; i < count; i++) write(w, i);
        });

    void AddKv(string key, GgufValueType type, Action<BinaryWriter> write)
    {
        if (_kv.Any(k => k.Key == key)) throw new ArgumentException($"GGUF metadata key '{key}' added twice");
        _kv.Add((key, type, write));
    }

    /// <summary>
    /// Adds a tensor of row-major <paramref name="shape"/> stored as <paramref name="type"/>; <paramref name="write"/> must write
    /// exactly <see cref="GgmlQuant.Bytes"/>(type, elements) bytes when called (checked).
    /// </summary>
    public void AddTensor(string name, long[] shape, GgmlType type, Action<Stream> write)
    {
        if (!_names.Add(name)) throw new ArgumentException($"GGUF tensor '{name}' added twice");
        if (!GgmlQuant.Fits(type, shape[^1]))
            throw new ArgumentException($"GGUF tensor '{name}' ({string.Join(", ", shape)}): rows of {shape[^1]} values are not whole {GgmlQuant.Name(type)} blocks of {GgmlQuant.BlockValues}");
        long n = shape.Aggregate(1L, (a, b) => a * b);
        _tensors.Add(new Tensor(name, shape, type, GgmlQuant.Bytes(type, n), write));
    }

    static long Align(long x) => (x + Alignment - 1) / Alignment * Alignment;

    /// <summary>Writes the whole file to <paramref name="s"/>; returns the bytes written.</summary>
    public long WriteTo(Stream s)
    {
        var counting = new CountingStream(s);
        using (var w = new BinaryWriter(counting, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write(Version);
            w.Write((ulong)_tensors.Count);
            w.Write((ulong)_kv.Count);
            foreach (var (key, type, write) in _kv)
            {
                WriteString(w, key);
                w.Write((uint)type);
                write(w);
            }
            long offset = 0;
            foreach (var t in _tensors)
            {
                WriteString(w, t.Name);
                w.Write((uint)t.Shape.Length);
                for (int d = t.Shape.Length - 1; d >= 0; d--) w.Write((ulong)t.Shape[d]); // ggml's ne[0] is the innermost dim
                w.Write((uint)t.Type);
                w.Write((ulong)offset);
                offset = Align(offset + t.Bytes);
            }
            w.Flush();
        }
        Pad(counting, Align(counting.Written) - counting.Written);
        foreach (var t in _tensors)
        {
            long before = counting.Written;
            t.Write(counting);
            long wrote = counting.Written - before;
            if (wrote != t.Bytes) throw new InvalidOperationException($"GGUF tensor '{t.Name}': wrote {wrote} bytes, expected {t.Bytes}");
            Pad(counting, Align(wrote) - wrote);
        }
        return counting.Written;
    }

    static void Pad(Stream s, long n) { for (long i = 0; i < n; i++) s.WriteByte(0); }

    static void WriteString(BinaryWriter w, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    /// <summary>Counts bytes on their way to the file (the offsets and padding depend on it; FileStream's Position would too, but not every stream seeks).</summary>
    sealed class CountingStream(Stream inner) : Stream
    {
        public long Written { get; private set; }
        public override void Write(byte[] buffer, int offset, int count) { inner.Write(buffer, offset, count); Written += count; }
        public override void Write(ReadOnlySpan<byte> buffer) { inner.Write(buffer); Written += buffer.Length; }
        public override void WriteByte(byte value) { inner.WriteByte(value); Written++; }
        public override void Flush() => inner.Flush();
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => Written;
        public override long Position { get => Written; set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
