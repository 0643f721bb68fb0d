// A checkpoint directory's tensors: one model.safetensors, or shards listed by model.safetensors.index.json.
using System.Text.Json;

namespace LightGlm.Model.Checkpoints;

/// <summary>
/// All tensors of a (possibly sharded) safetensors checkpoint, memory-mapped. With an index, every shard it
/// names must exist and hold exactly the tensors the index puts there; a tensor in two files is an error.
/// </summary>
public sealed class CheckpointArchive : IDisposable
{
    public const string IndexFile = "model.safetensors.index.json";
    public const string SingleFile = "model.safetensors";

    public string Directory { get; }
    public IReadOnlyDictionary<string, TensorEntry> Tensors => _tensors;
    public IReadOnlyList<string> Files => _files.Keys.ToList();

    readonly Dictionary<string, TensorEntry> _tensors = new(StringComparer.Ordinal);
    readonly Dictionary<string, SafeTensorsFile> _files = new(StringComparer.Ordinal);

    CheckpointArchive(string directory) => Directory = directory;

    public static CheckpointArchive Open(string directory)
    {
        if (!System.IO.Directory.Exists(directory)) throw new DirectoryNotFoundException($"{directory}: checkpoint directory not found");
        var a = new CheckpointArchive(directory);
        try { a.Load(); }
        catch { a.Dispose(); throw; }
        return a;
    }

    void Load()
    {
        string index = Path.Combine(Directory, IndexFile);
        if (File.Exists(index))
        {
            Dictionary<string, string> weightMap;
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllText(index));
                if (!doc.RootElement.TryGetProperty("weight_map", out var wm) || wm.ValueKind != JsonValueKind.Object)
                    throw new InvalidDataException($"{index}: no 'weight_map' object (tensor name -> shard file)");
                weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var p in wm.EnumerateObject())
                {
                    if (p.Value.ValueKind != JsonValueKind.String || p.Value.GetString() is not { Length: > 0 } file)
                        throw new InvalidDataException($"{index}: weight_map['{p.Name}'] must be a shard file name (a string), found {p.Value.ValueKind} {p.Value.GetRawText()}");
                    if (!weightMap.TryAdd(p.Name, file))
                        throw new InvalidDataException($"{index}: weight_map lists tensor '{p.Name}' twice");
                }
            }
            catch (JsonException e) { throw new InvalidDataException($"{index}: not valid JSON: {e.Message}"); }
            foreach (var group in weightMap.GroupBy(kv => kv.Value, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                string shard = Path.Combine(Directory, group.Key);
                if (group.Key.Contains('/') || group.Key.Contains('\\') || !File.Exists(shard))
                    throw new FileNotFoundException($"{shard}: shard named by {IndexFile} is missing (it holds {group.Count()} tensors, e.g. '{group.First().Key}'); copy the whole checkpoint", shard);
                var f = OpenFile(group.Key);
                foreach (var (name, _) in group)
                    if (!f.Tensors.ContainsKey(name))
                        throw new InvalidDataException($"{shard}: tensor '{name}' is listed there by {IndexFile} but the file does not hold it");
                foreach (var name in f.Tensors.Keys)
                    if (!weightMap.TryGetValue(name, out var where) || where != group.Key)
                        throw new InvalidDataException($"{shard}: holds tensor '{name}' that {IndexFile} does not place in this file");
            }
            return;
        }
        if (File.Exists(Path.Combine(Directory, SingleFile))) { OpenFile(SingleFile); return; }
        var shards = System.IO.Directory.GetFiles(Directory, "*.safetensors");
        if (shards.Length > 0)
            throw new FileNotFoundException($"{Directory}: has {shards.Length} .safetensors file(s) but no {IndexFile} saying which tensor is where; restore the index file");
        var bins = System.IO.Directory.GetFiles(Directory, "*.bin");
        throw new FileNotFoundException(bins.Length > 0
            ? $"{Directory}: holds PyTorch .bin weights, which we do not read; convert them to safetensors (save_pretrained(..., safe_serialization=True))"
            : $"{Directory}: no {SingleFile} or {IndexFile}: not a safetensors checkpoint directory");
    }

    SafeTensorsFile OpenFile(string name)
    {
        var f = SafeTensorsFile.Open(Path.Combine(Directory, name));
        _files.Add(name, f);
        foreach (var (tname, e) in f.Tensors)
            if (!_tensors.TryAdd(tname, e))
                throw new InvalidDataException($"{f.Path}: tensor '{tname}' is also in {_tensors[tname].File}");
        return f;
    }

    public TensorEntry this[string name] => _tensors.TryGetValue(name, out var e) ? e
        : throw new InvalidDataException($"{Directory}: checkpoint has no tensor '{name}'");

    public bool Contains(string name) => _tensors.ContainsKey(name);

    public SafeTensorsFile FileOf(TensorEntry e) => _files[Path.GetFileName(e.File)];

    /// <summary>Rows [row, row+count) of a tensor as float32 (any stored dtype); scratch ≥ count·RowLength·2 bytes.</summary>
    public void ReadRows(TensorEntry e, long row, int count, Span<float> dst, Span<byte> scratch) =>
        FileOf(e).ReadRows(e, row, count, dst, scratch);

    /// <summary>The whole tensor as float32.</summary>
    public float[] ReadAll(TensorEntry e)
    {
        var dst = new float[checked((int)e.Elements)];
        var scratch = e.DType == TensorDType.F32 ? [] : new byte[dst.Length * e.DType.Size()];
        FileOf(e).ReadRows(e, 0, (int)e.Rows, dst, scratch);
        return dst;
    }

    /// <summary>The stored bytes of a tensor, unconverted.</summary>
    public byte[] ReadRaw(TensorEntry e)
    {
        var b = new byte[checked((int)(e.End - e.Begin))];
        FileOf(e).ReadBytes(e, 0, b);
        return b;
    }

    public void Dispose()
    {
        foreach (var f in _files.Values) f.Dispose();
        _files.Clear();
    }
}
