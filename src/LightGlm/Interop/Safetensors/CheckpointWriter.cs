// Writes tensors as Hugging Face does: one model.safetensors, or shards of at most a byte budget + an index.
using System.Text;
using System.Text.Json;

namespace LightGlm.Interop.Safetensors;

/// <summary>One tensor to write: name, target dtype, shape, and a callback that fills rows [row, row+count) as float32.</summary>
public sealed record TensorToWrite(string Name, TensorDType DType, long[] Shape, Action<long, int, Span<float>> FillRows)
{
    public long Elements => Shape.Aggregate(1L, (a, b) => a * b);
    public long Rows => Shape.Length == 0 ? 1 : Shape[0];
    public long RowLength => Shape.Length <= 1 ? 1 : Shape.Skip(1).Aggregate(1L, (a, b) => a * b);
    public long Bytes => Elements * DType.Size();
}

public static class CheckpointWriter
{
    /// <summary>
    /// Writes <paramref name="tensors"/> into <paramref name="directory"/>: model.safetensors when the total fits in
    /// <paramref name="maxShardBytes"/>, else model-0000i-of-0000n.safetensors (greedy in order, as transformers'
    /// max_shard_size) + model.safetensors.index.json. Each file is written to a temp name, then renamed.
    /// Returns the file names written.
    /// </summary>
    public static List<string> Write(string directory, IReadOnlyList<TensorToWrite> tensors, long maxShardBytes,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        System.IO.Directory.CreateDirectory(directory);
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
            string file = groups.Count == 1 ? CheckpointArchive.SingleFile : $"model-{i + 1:D5}-of-{groups.Count:D5}.safetensors";
            WriteFile(Path.Combine(directory, file), groups[i], metadata);
            names.Add(file);
            foreach (var t in groups[i]) weightMap[t.Name] = file;
        }
        string index = Path.Combine(directory, CheckpointArchive.IndexFile);
        if (groups.Count > 1)
        {
            var json = JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["metadata"] = new Dictionary<string, long> { ["total_size"] = total },
                ["weight_map"] = weightMap,
            }, new JsonSerializerOptions { WriteIndented = true });
            AtomicWrite(index, Encoding.UTF8.GetBytes(json + "\n"));
            names.Add(CheckpointArchive.IndexFile);
        }
        else if (File.Exists(index)) File.Delete(index);
        return names;
    }

    /// <summary>One safetensors file: header padded with spaces to a multiple of 8 (as the reference writer), then data.</summary>
    public static void WriteFile(string path, IReadOnlyList<TensorToWrite> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        var entries = new List<TensorEntry>();
        long at = 0;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in tensors)
        {
            if (!seen.Add(t.Name)) throw new InvalidOperationException($"tensor '{t.Name}' written twice into {path}");
            entries.Add(new TensorEntry(t.Name, path, t.DType, t.Shape, at, at + t.Bytes));
            at += t.Bytes;
        }
        var header = Encoding.UTF8.GetBytes(SafetensorsFile.HeaderJson(entries, metadata));
        int pad = (8 - header.Length % 8) % 8;
        string tmp = path + ".tmp";
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            fs.Write(BitConverter.GetBytes((ulong)(header.Length + pad)));
            fs.Write(header);
            for (int i = 0; i < pad; i++) fs.WriteByte((byte)' ');
            foreach (var t in tensors) WriteData(fs, t);
        }
        File.Move(tmp, path, overwrite: true);
    }

    static void WriteData(Stream fs, TensorToWrite t)
    {
        long rowLen = Math.Max(1, t.RowLength);
        int rowsPerChunk = (int)Math.Max(1, Math.Min(t.Rows, (1 << 22) / rowLen)); // ~16 MB of float32 at a time
        var f = new float[rowsPerChunk * rowLen];
        var b = new byte[f.Length * t.DType.Size()];
        for (long r = 0; r < t.Rows; r += rowsPerChunk)
        {
            int n = (int)Math.Min(rowsPerChunk, t.Rows - r);
            int len = checked((int)(n * rowLen));
            if (t.Elements == 0) break;
            t.FillRows(r, n, f.AsSpan(0, len));
            TensorDTypes.FromSingle(t.DType, f.AsSpan(0, len), b.AsSpan(0, len * t.DType.Size()));
            fs.Write(b, 0, len * t.DType.Size());
        }
    }

    public static void AtomicWrite(string path, byte[] bytes)
    {
        string tmp = path + ".tmp";
        File.WriteAllBytes(tmp, bytes);
        File.Move(tmp, path, overwrite: true);
    }
}
