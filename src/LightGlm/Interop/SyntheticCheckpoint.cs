// Random-weight checkpoints with the exact config and tensor shapes of real models (ChatGLM2-6B, Qwen2.5-0.5B, …),
// written as their Hugging Face directories would be: what the large-model commands are measured on, since no real
// weights can be downloaded here.
using System.Text.Json;
using System.Text.Json.Nodes;
using LightGlm.IO;
using LightGlm.Model;
using LightGlm.Model.Checkpoints;

namespace LightGlm.Interop;

public static class SyntheticCheckpoint
{
    /// <summary>The shapes <see cref="Shape"/> knows, with their Hugging Face format.</summary>
    public static IReadOnlyDictionary<string, (ModelConfig Config, HfArchitecture Format)> Shapes { get; } =
        new Dictionary<string, (ModelConfig, HfArchitecture)>(StringComparer.OrdinalIgnoreCase)
        {
            // THUDM/chatglm2-6b config.json: padded_vocab_size 65024, hidden 4096, 28 layers, 32 heads, multi_query_group_num 2,
            // ffn_hidden_size 13696, rotary on half of each head's 128 dims (interleaved pairs), qkv bias, seq_length 32768.
            ["chatglm2-6b"] = (new ModelConfig
            {
                ModelType = "chatglm", VocabSize = 65024, HiddenSize = 4096, NumHiddenLayers = 28, NumAttentionHeads = 32,
                NumKeyValueHeads = 2, IntermediateSize = 13696, RmsNormEps = 1e-5, RopeTheta = 10000, PartialRotaryFactor = 0.5,
                RopeInterleaved = true, AttentionBias = true, TieWordEmbeddings = false, MaxPositionEmbeddings = 32768,
            }, HfArchitecture.ChatGlm),
            // Qwen/Qwen2.5-0.5B config.json: vocab 151936, hidden 896, 24 layers, 14 heads, 2 KV heads, intermediate 4864,
            // rope_theta 1e6, rms_norm_eps 1e-6, q/k/v bias, tied embeddings, 32768 positions.
            ["qwen2.5-0.5b"] = (new ModelConfig
            {
                ModelType = "qwen2", VocabSize = 151936, HiddenSize = 896, NumHiddenLayers = 24, NumAttentionHeads = 14,
                NumKeyValueHeads = 2, IntermediateSize = 4864, RmsNormEps = 1e-6, RopeTheta = 1_000_000, PartialRotaryFactor = 1.0,
                RopeInterleaved = false, AttentionBias = true, TieWordEmbeddings = true, MaxPositionEmbeddings = 32768,
            }, HfArchitecture.Qwen2),
        };

    /// <summary>A known shape by name (case-insensitive); the error lists the names.</summary>
    public static (ModelConfig Config, HfArchitecture Format) Shape(string name) =>
        Shapes.TryGetValue(name, out var s) ? (s.Config.Clone(), s.Format)
            : throw new ArgumentException($"unknown shape '{name}'; known: {string.Join(", ", Shapes.Keys)}");

    /// <summary>
    /// Writes a checkpoint of <paramref name="config"/> into <paramref name="outDir"/> (new or empty; written whole or
    /// not at all) in <paramref name="format"/>'s layout (null = ours), weights uniform with std <paramref name="std"/>,
    /// norms 1, deterministic in <paramref name="seed"/> row by row (a 6B model streams: one row in memory at a time).
    /// </summary>
    public static IReadOnlyList<string> Write(ModelConfig config, HfArchitecture? format, string outDir, TensorDType dtype,
        ulong seed = 1, double std = 0.02, long maxShardBytes = HfImporter.DefaultMaxShardBytes)
    {
        config.Validate("synthetic config", arena: false);
        var layout = format is { } f ? ArchitectureMap.For(f, config) : ArchitectureMap.Ours(config);
        var tensors = new List<TensorToWrite>();
        foreach (var group in layout.Mappings.GroupBy(m => m.Hf, StringComparer.Ordinal))
        {
            string name = group.Key;
            long[] shape = group.First().HfShape;
            bool norm = shape.Length == 1 && name.Contains("norm", StringComparison.Ordinal);
            ulong h = Hash(name) ^ seed * 0x9E3779B97F4A7C15UL;
            float a = (float)(std * Math.Sqrt(3)); // uniform(−a, a) has standard deviation std
            long rowLen = shape.Length == 1 ? 1 : shape[1];
            tensors.Add(new TensorToWrite(name, dtype, shape, (row, count, dst) =>
            {
                if (norm) { dst[..(int)(count * rowLen)].Fill(1f); return; }
                for (int i = 0; i < count; i++)
                {
                    var rng = new Rng(h ^ (ulong)(row + i + 1) * 0xD1B54A32D192ED03UL);
                    var d = dst.Slice((int)(i * rowLen), (int)rowLen);
                    for (int j = 0; j < d.Length; j++) d[j] = (2 * rng.NextFloat() - 1) * a;
                }
            }));
        }
        foreach (var (name, shape) in layout.Zero)
            tensors.Add(new TensorToWrite(name, dtype, shape, (_, _, dst) => dst.Clear()));
        foreach (var (name, values) in layout.Generated)
            tensors.Add(new TensorToWrite(name, dtype, [values.Length], (row, count, dst) => values.AsSpan((int)row, count).CopyTo(dst)));
        tensors.Sort((x, y) => string.CompareOrdinal(x.Name, y.Name));
        List<string> files = [];
        AtomicDirectory.Write(outDir, partial =>
        {
            files = SafeTensorsWriter.WriteSharded(partial, tensors, maxShardBytes, new Dictionary<string, string> { ["format"] = "pt" });
            JsonObject cfg = format is { } target ? ConfigTranslation.ToHf(target, config, dtype)
                : JsonNode.Parse(config.ToJson())!.AsObject();
            AtomicFile.WriteAllText(Path.Combine(partial, "config.json"), cfg.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        });
        return files;
    }

    static ulong Hash(string s)
    {
        ulong h = 14695981039346656037UL; // FNV-1a
        foreach (char ch in s) { h ^= ch; h *= 1099511628211UL; }
        return h;
    }
}
