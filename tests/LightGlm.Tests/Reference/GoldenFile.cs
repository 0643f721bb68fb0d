// Reads the golden files written by tests/reference/gen_golden.py: a small safetensors reader kept apart from the
// model's own checkpoint code, so a bug there cannot hide a parity failure here.
using System.Buffers.Binary;
using System.Text.Json;

namespace LightGlm.Tests.Reference;

/// <summary>One Golden/&lt;name&gt;/ directory: config.json + model.safetensors (loaded by the model) and golden.safetensors.</summary>
public sealed class GoldenFile
{
    readonly Dictionary<string, (string Dtype, int[] Shape, byte[] Bytes)> _tensors = new(StringComparer.Ordinal);

    public string Directory { get; }
    public IEnumerable<string> Names => _tensors.Keys;

    GoldenFile(string dir) => Directory = dir;

    /// <summary>The golden directory of config <paramref name="name"/> ("glm" or "llama") next to the test assembly.</summary>
    public static GoldenFile Load(string name, string file = "golden.safetensors")
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "Golden", name);
        var g = new GoldenFile(dir);
        g.Read(Path.Combine(dir, file));
        return g;
    }

    /// <summary>Safetensors: u64 LE header size, JSON header {name: {dtype, shape, data_offsets}}, then the data block.</summary>
    void Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8) throw new InvalidDataException($"{path}: shorter than the 8-byte header size");
        long n = BinaryPrimitives.ReadInt64LittleEndian(bytes);
        if (n <= 0 || 8 + n > bytes.Length) throw new InvalidDataException($"{path}: header size {n} does not fit in {bytes.Length} bytes");
        using var doc = JsonDocument.Parse(bytes.AsMemory(8, (int)n));
        int dataStart = 8 + (int)n;
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            if (p.Name == "__metadata__") continue;
            var dtype = p.Value.GetProperty("dtype").GetString()!;
            var shape = p.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var off = p.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            _tensors[p.Name] = (dtype, shape, bytes[(dataStart + off[0])..(dataStart + off[1])]);
        }
    }

    public bool Has(string name) => _tensors.ContainsKey(name);

    public int[] Shape(string name) => Get(name).Shape;

    public float[] F32(string name)
    {
        var (dtype, _, b) = Get(name);
        Assert.Equal("F32", dtype);
        var a = new float[b.Length / 4];
        for (int i = 0; i < a.Length; i++) a[i] = BinaryPrimitives.ReadSingleLittleEndian(b.AsSpan(4 * i));
        return a;
    }

    public int[] I32(string name)
    {
        var (dtype, _, b) = Get(name);
        Assert.Equal("I32", dtype);
        var a = new int[b.Length / 4];
        for (int i = 0; i < a.Length; i++) a[i] = BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(4 * i));
        return a;
    }

    (string Dtype, int[] Shape, byte[] Bytes) Get(string name) =>
        _tensors.TryGetValue(name, out var t) ? t : throw new KeyNotFoundException($"{Directory}/golden.safetensors has no tensor '{name}' (regenerate: tests/reference/regen.sh)");

    /// <summary>max|actual − expected| / max|expected|: the scale-relative error the parity tests bound.</summary>
    public static double RelErr(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        double diff = 0, scale = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = Math.Abs((double)actual[i] - expected[i]);
            if (double.IsNaN(d)) return double.NaN; // fails every bound
            diff = Math.Max(diff, d);
            scale = Math.Max(scale, Math.Abs((double)expected[i]));
        }
        return scale == 0 ? diff : diff / scale;
    }
}
