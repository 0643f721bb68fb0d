// The one safetensors writer: F32/F16/BF16 rows pulled from a callback (streamed), or raw bytes (I8/U8 quants), one file
// or HF-style shards + index.
using System.Text;
using System.Text.Json;
using LightGlm.IO;

namespace LightGlm.Model.Checkpoints;

/// <summary>
/// One tensor to write: name, stored dtype, shape, and a callback filling rows [row, row+count) as fp32. The writer
/// asks for ~16 MB of rows at a time, so a tensor can be produced while it is written (import, export, pruning
/// from a mapped teacher) without ever holding the whole model.
/// </summary>
public sealed record TensorToWrite(string Name, TensorDType DType, long[] Shape, Action<long, int, Span<float>> FillRows)
{
    public long Elements => Shape.Aggregate(1L, (a, b) => a * b);
    public long Rows => Shape.Length == 0 ? 1 : Shape[0];
    public long RowLength => Shape.Length <= 1 ? 1 : Shape.Skip(1).Aggregate(1L, (a, b) => a * b);
    public long Bytes => Elements * DType.Size();

    /// <summary>When set, rows [row, row+count) are produced as stored bytes (count·RowLength·size) instead of through
    /// <see cref="FillRows"/>: how I8/U8 quants are written.</summary>
    public Action<long, int, Span<byte>>? FillRaw { get; init; }

    /// <summary>A tensor whose stored bytes are produced row block by row block (quants: I8, U8).</summary>
    public static TensorToWrite Raw(string name, TensorDType dtype, long[] shape, Action<long, int, Span<byte>> fillRaw) =>
        new(name, dtype, shape, (_, _, _) => throw new InvalidOperationException($"tensor '{name}' is written as raw bytes"))
        { FillRaw = fillRaw };

    /// <summary>A tensor whose fp32 values are in memory already (a window of an arena: not copied).</summary>
    public static TensorToWrite Of(string name, long[] shape, ReadOnlyMemory<float> data, TensorDType dtype = TensorDType.F32)
    {
        long n = shape.Aggregate(1L, (a, b) => a * b);
        if (n != data.Length) throw new ArgumentException($"tensor '{name}' has {data.Length} values for shape ({string.Join(", ", shape)})");
        long rowLen = shape.Length <= 1 ? 1 : n / Math.Max(1, shape[0]);
        return new TensorToWrite(name, dtype, shape, (row, count, dst) => data.Span.Slice((int)(row * rowLen), (int)(count * rowLen)).CopyTo(dst));
    }
}

public static class SafeTensorsWriter
{
    public const string IndexFile = CheckpointArchive.IndexFile;
    public const string SingleFile = CheckpointArchive.SingleFile;

    /// <summary>Writes <paramref name="tensors"/> (in the given order) into one safetensors file, atomically.</summary>
    public static void Write(string path, IReadOnlyList<TensorToWrite> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var entries = new List<TensorEntry>(tensors.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        long at = 0;
        foreach (var t in tensors)
        {
            if (!seen.Add(t.Name)) throw new ArgumentException($"{path}: tensor '{t.Name}' is given twice");
            entries.Add(new TensorEntry(t.Name, path, t.DType, t.Shape, at, at + t.Bytes));
            at += t.Bytes;
        }
        var header = Encoding.UTF8.GetBytes(SafeTensorsFile.HeaderJson(entries, metadata));
        int pad = (8 - header.Length % 8) % 8; // data section 8-byte aligned, padded with spaces as the reference writer
        AtomicFile.Write(path, fs =>
        {
            fs.Write(BitConverter.GetBytes((ulong)(header.Length + pad)));
            fs.Write(header);
            for (int i = 0; i < pad; i++) fs.WriteByte((byte)' ');
            var buffers = new ChunkBuffers();
            foreach (var t in tensors) WriteData(fs, t, buffers);
        });
    }

    /// <summary>
    /// Writes <paramref name="tensors"/> into <paramref name="directory"/> as Hugging Face does: model.safetensors when
    /// the total fits in <paramref name="maxShardBytes"/>, else model-0000i-of-0000n.safetensors (greedy in order, as
    /// transformers' max_shard_size) + model.safetensors.index.json. Every file atomically. Returns the names written.
    /// </summary>
    public static List<string> WriteSharded(string directory, IReadOnlyList<TensorToWrite> tensors, long maxShardBytes,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        Directory.CreateDirectory(directory);
        var groups = new List<List<TensorToWrite>> { new() };
        long size = 0, total = tensors.Sum(t => t.Bytes);
        foreach (var t in tensors)
        {
            if (groups[^1].Count > 0 && size + t.Bytes > maxShardBytes) { groups.Add([]); size = 0; }
            groups[^1].Add(t);
            size += t.Bytes;
        }
        var names = new List<string>();
        var weightMap = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < groups.Count; i++)
        {
            string file = groups.Count == 1 ? SingleFile : $"model-{i + 1:D5}-of-{groups.Count:D5}.safetensors";
            Write(Path.Combine(directory, file), groups[i], metadata);
            names.Add(file);
            foreach (var t in groups[i]) weightMap[t.Name] = file;
        }
        string index = Path.Combine(directory, IndexFile);
        if (groups.Count > 1)
        {
            var json = JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["metadata"] = new Dictionary<string, long> { ["total_size"] = total },
                ["weight_map"] = weightMap,
            }, new JsonSerializerOptions { WriteIndented = true });
            AtomicFile.WriteAllText(index, json + "\n");
            names.Add(IndexFile);
        }
        else if (File.Exists(index)) File.Delete(index);
        return names;
    }

    /// <summary>
    /// The fp32 chunk and its encoded bytes, shared by every tensor of one file: a checkpoint of weights and AdamW
    /// moments would otherwise leave two large-object-heap arrays per tensor behind (≈ 2× the checkpoint in garbage,
    /// which the training memory estimate does not allow for).
    /// </summary>
    sealed class ChunkBuffers
    {
        float[] _f = [];
        byte[] _b = [];
        public float[] Floats(long n) => _f.Length >= n ? _f : (_f = new float[n]);
        public byte[] Bytes(long n) => _b.Length >= n ? _b : (_b = new byte[n]);
    }

    static void WriteData(Stream fs, TensorToWrite t, ChunkBuffers buffers)
    {
        if (t.Elements == 0) return;
        long rowLen = Math.Max(1, t.RowLength);
        if (t.FillRaw is { } raw)
        {
            long rowBytes = rowLen * t.DType.Size();
            int rows = (int)Math.Max(1, Math.Min(t.Rows, (1 << 24) / rowBytes)); // ~16 MB at a time
            var buf = buffers.Bytes(rows * rowBytes);
            for (long r = 0; r < t.Rows; r += rows)
            {
                int n = (int)Math.Min(rows, t.Rows - r);
                raw(r, n, buf.AsSpan(0, checked((int)(n * rowBytes))));
                fs.Write(buf, 0, (int)(n * rowBytes));
            }
            return;
        }
        if (!t.DType.IsFloat()) throw new ArgumentException($"tensor '{t.Name}' is {t.DType}: give its bytes (TensorToWrite.Raw), not floats");
        int rowsPerChunk = (int)Math.Max(1, Math.Min(t.Rows, (1 << 22) / rowLen)); // ~16 MB of fp32 at a time
        var f = buffers.Floats(rowsPerChunk * rowLen);
        int size = t.DType.Size();
        for (long r = 0; r < t.Rows; r += rowsPerChunk)
        {
            int n = (int)Math.Min(rowsPerChunk, t.Rows - r);
            int len = checked((int)(n * rowLen));
            t.FillRows(r, n, f.AsSpan(0, len));
            if (t.DType == TensorDType.F32 && BitConverter.IsLittleEndian)
            {
                fs.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(f.AsSpan(0, len)));
                continue;
            }
            var b = buffers.Bytes((long)len * size);
            TensorDTypes.FromSingle(t.DType, f.AsSpan(0, len), b.AsSpan(0, len * size));
            fs.Write(b, 0, len * size);
        }
    }

    /// <summary>The named tensors of an arena laid out by <paramref name="layout"/>, as F32 views (shapes from the layout).</summary>
    public static List<TensorToWrite> FromArena(ParameterLayout layout, float[] arena, string prefix = "") => FromArena(layout.Tensors, arena, prefix);

    /// <summary>The named tensors <paramref name="tensors"/> of an arena (a model's, or LoRA adapters'), as F32 views.</summary>
    public static List<TensorToWrite> FromArena(IReadOnlyList<ParameterTensor> tensors, float[] arena, string prefix = "")
    {
        var list = new List<TensorToWrite>(tensors.Count);
        foreach (var t in tensors)
            list.Add(TensorToWrite.Of(prefix + t.Name, t.Shape.Select(d => (long)d).ToArray(), arena.AsMemory(t.Offset, t.Length)));
        return list;
    }
}
