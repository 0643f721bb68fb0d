// Our tensors read straight out of a memory-mapped checkpoint (ours or Hugging Face's) through the architecture map.
using LightGlm.Model;
using System.Text.Json.Nodes;
using LightGlm.Model.Checkpoints;

namespace LightGlm.Interop;

/// <summary>One of our tensors: its mapping and the stored tensor it reads from.</summary>
public sealed record MappedTensor(TensorMapping Map, TensorEntry Entry);

/// <summary>
/// A model's weights as float32 rows on demand, stored in any of F32/F16/BF16 and possibly fused (ChatGLM's
/// query_key_value, dense_h_to_4h): nothing is converted up front, so a 6B checkpoint stays on disk / in the
/// page cache and only the rows being multiplied are widened to float32.
/// </summary>
public sealed class MappedWeights : IDisposable
{
    public ModelConfig Config { get; }
    public HfArchitecture? Architecture { get; }
    public ArchitectureLayout Layout { get; }
    public CheckpointArchive Archive { get; }
    public HfConfigReading? Reading { get; }
    public IReadOnlyDictionary<string, MappedTensor> Tensors => _tensors;
    public JsonObject RawConfig { get; }

    readonly Dictionary<string, MappedTensor> _tensors = new(StringComparer.Ordinal);

    MappedWeights(string dir)
    {
        string cfgPath = Path.Combine(dir, "config.json");
        if (!File.Exists(cfgPath)) throw new FileNotFoundException($"{cfgPath}: no config.json; is {dir} a model directory?", cfgPath);
        QuantizedCheckpoint.RefuseFloatReader(dir); // quants read as bf16 would be garbage: name the directory for what it is
        try { RawConfig = JsonNode.Parse(File.ReadAllText(cfgPath)) as JsonObject ?? throw new InvalidDataException($"{cfgPath}: not a JSON object"); }
        catch (System.Text.Json.JsonException e) { throw new InvalidDataException($"{cfgPath}: not valid JSON: {e.Message}"); }
        if (IsLightGlmConfig(RawConfig))
        {
            Config = ModelConfig.Load(cfgPath, arena: false); // mapped: any size
            Layout = ArchitectureMap.Ours(Config);
        }
        else
        {
            Reading = ConfigTranslation.FromHf(RawConfig, cfgPath);
            Config = Reading.Config;
            Architecture = Reading.Architecture;
            Layout = ArchitectureMap.For(Reading.Architecture, Config, Reading.PerHeadQkv);
        }
        Archive = CheckpointArchive.Open(dir);
        try { Bind(); }
        catch { Archive.Dispose(); throw; }
    }

    /// <summary>
    /// A config.json in the engine contract's form (ours), not a Hugging Face one: model_type lightglm, or the
    /// contract-only field rope_interleaved (our llama/chatglm-typed directories write it; HF configs never do).
    /// </summary>
    public static bool IsLightGlmConfig(JsonObject cfg) =>
        cfg["model_type"]?.GetValue<string>() == "lightglm" || cfg.ContainsKey("rope_interleaved");

    /// <summary>
    /// True when <paramref name="dir"/> should be used mapped rather than loaded whole into the engine's fp32 arena: a
    /// Hugging Face directory, shards, 16-bit weights, or more than <paramref name="maxInMemoryParams"/> parameters.
    /// </summary>
    public static bool ShouldMap(string dir, long maxInMemoryParams = 500_000_000)
    {
        string cfg = Path.Combine(dir, "config.json");
        if (!File.Exists(cfg) || JsonFile.Read(cfg) is not JsonObject raw) return false;
        if (raw.ContainsKey(QuantizationEntry.Key)) return false; // a quantized checkpoint: its own reader, QuantizedCheckpointWeights
        if (!IsLightGlmConfig(raw) || File.Exists(Path.Combine(dir, CheckpointArchive.IndexFile))) return true;
        string single = Path.Combine(dir, CheckpointArchive.SingleFile);
        if (!File.Exists(single)) return false;
        using var f = new SafeTensorsFile(single);
        return f.Tensors.Values.Any(e => e.DType != TensorDType.F32) || f.Tensors.Values.Sum(e => e.Elements) > maxInMemoryParams;
    }

    /// <summary>Opens a LightGlm model directory or a Hugging Face checkpoint directory and checks every tensor.</summary>
    public static MappedWeights Open(string dir) => new(dir);

    void Bind()
    {
        string dir = Archive.Directory;
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var m in Layout.Mappings)
        {
            if (!Archive.Tensors.TryGetValue(m.Hf, out var e))
                throw new InvalidDataException($"{dir}: tensor '{m.Hf}' (for our '{m.Ours}') is missing from the checkpoint; expected shape {Shape(m.HfShape)} from config.json");
            if (!e.Shape.SequenceEqual(m.HfShape))
                throw new InvalidDataException($"{e.File}: tensor '{m.Hf}' has shape {e.ShapeText} but config.json implies {Shape(m.HfShape)}; the config and weights disagree");
            _tensors.TryAdd(m.Ours, new MappedTensor(m, e));
            used.Add(m.Hf);
        }
        foreach (var (name, shape) in Layout.Zero)
        {
            if (!Archive.Tensors.TryGetValue(name, out var e)) continue; // absent = zero
            if (!e.Shape.SequenceEqual(shape)) throw new InvalidDataException($"{e.File}: tensor '{name}' has shape {e.ShapeText}, expected {Shape(shape)}");
            if (Archive.ReadAll(e).Any(x => x != 0))
                throw new InvalidDataException($"{e.File}: tensor '{name}' is not zero; our engine has no bias there, so this checkpoint cannot be imported faithfully");
            used.Add(name);
        }
        var unexpected = Archive.Tensors.Keys.Where(n => !used.Contains(n) && !Layout.Ignored(n)).OrderBy(n => n, StringComparer.Ordinal).ToList();
        if (unexpected.Count > 0)
            throw new InvalidDataException($"{dir}: {unexpected.Count} tensor(s) are not part of a {Architecture?.FormatName() ?? "LightGlm"} model with this config.json, e.g. '{string.Join("', '", unexpected.Take(4))}'; check config.json (layers, biases, tied head)");
    }

    static string Shape(long[] s) => "(" + string.Join(", ", s) + ")";

    public MappedTensor this[string ours] => _tensors.TryGetValue(ours, out var t) ? t
        : throw new KeyNotFoundException($"no tensor '{ours}' in this model");

    public bool Has(string ours) => _tensors.ContainsKey(ours);

    /// <summary>Our rows [row, row+count) of tensor <paramref name="t"/> as float32, following the row map (runs of consecutive rows read at once).</summary>
    public void ReadRows(MappedTensor t, int row, int count, Span<float> dst, Span<byte> scratch)
    {
        int len = (int)t.Map.RowLength;
        var rows = t.Map.HfRows;
        int i = 0;
        while (i < count)
        {
            int start = rows[row + i], run = 1;
            while (i + run < count && rows[row + i + run] == start + run) run++;
            Archive.ReadRows(t.Entry, start, run, dst.Slice(i * len, run * len), scratch);
            i += run;
        }
    }

    /// <summary>A whole tensor of ours as float32.</summary>
    public float[] ReadAll(string ours)
    {
        var t = this[ours];
        int rows = t.Map.HfRows.Length, len = (int)t.Map.RowLength;
        var dst = new float[checked(rows * len)];
        var scratch = new byte[dst.Length * 2 + 16];
        ReadRows(t, 0, rows, dst, scratch);
        return dst;
    }

    public void Dispose() => Archive.Dispose();
}
