// Loads tests/LightGlm.Tests/Golden/hf/<name>/golden.json (written by tests/reference/hf/make_goldens.py).
using System.Text.Json;

namespace LightGlm.Tests.Interop;

public sealed record HfGolden(string Name, string Dir, int[] InputIds, float[][] Logits, int[] Greedy)
{
    public static readonly string[] All = ["chatglm2", "glm4", "chatglm3-mha", "llama", "qwen2"];

    public static string DirOf(string name) => Path.Combine(AppContext.BaseDirectory, "Golden", "hf", name);

    public static HfGolden Load(string name)
    {
        string dir = DirOf(name);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "golden.json")));
        var r = doc.RootElement;
        return new HfGolden(name, dir,
            r.GetProperty("input_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
            r.GetProperty("logits").EnumerateArray().Select(row => row.EnumerateArray().Select(e => e.GetSingle()).ToArray()).ToArray(),
            r.GetProperty("greedy").EnumerateArray().Select(e => e.GetInt32()).ToArray());
    }

    /// <summary>Largest |ours − golden| over all positions and vocabulary entries.</summary>
    public static float MaxDiff(float[][] expected, float[][] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        float max = 0;
        for (int t = 0; t < expected.Length; t++)
        {
            Assert.Equal(expected[t].Length, actual[t].Length);
            for (int v = 0; v < expected[t].Length; v++) max = Math.Max(max, Math.Abs(expected[t][v] - actual[t][v]));
        }
        return max;
    }

    /// <summary>A fresh temp directory (deleted by the caller's using).</summary>
    public static TempDir Temp() => new();

    public sealed class TempDir : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "lightglm-interop-" + Guid.NewGuid().ToString("N")[..12]);
        public TempDir() => Directory.CreateDirectory(Path);
        public string Sub(string name) => System.IO.Path.Combine(Path, name);
        public void Dispose() { try { Directory.Delete(Path, true); } catch (IOException) { } }
    }
}
