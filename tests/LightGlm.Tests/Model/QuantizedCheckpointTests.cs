// The quantized checkpoint (Model/Checkpoints/QuantizedCheckpoint*.cs): written then loaded, it gives the very logits of
// quantizing at load (same quantizer, same kernels: bit for bit); damaged files and wrong entries are named; fp32 readers
// (training's arena, the mapped reader) refuse it with what to do.
using System.Text.Json.Nodes;
using LightGlm.Interop;
using LightGlm.Kernels.Quantized;
using LightGlm.Model;
using LightGlm.Model.Checkpoints;
using LightGlm.Model.Inference;

namespace LightGlm.Tests.Model;

public sealed class QuantizedCheckpointTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("lightglm-qckpt-").FullName;
    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }

    /// <summary>Widths 16/20/24 (tiny configs) pad every row to a group; "wide" has C = 64 (whole groups) and F = 80 (not).</summary>
    static ModelConfig Config(string kind) => kind switch
    {
        "glm" => TinyModels.Glm(vocab: 40),
        "llama" => TinyModels.Llama(vocab: 40),
        "wide-tied" => new ModelConfig
        {
            ModelType = "llama", VocabSize = 50, HiddenSize = 64, NumHiddenLayers = 2, NumAttentionHeads = 4, NumKeyValueHeads = 1,
            IntermediateSize = 80, AttentionBias = true, TieWordEmbeddings = true, MaxPositionEmbeddings = 64,
        },
        _ => throw new ArgumentException(kind),
    };

    /// <summary>A random model whose norms and biases are random too (Create sets them to 1 and 0, which would hide a
    /// loader that reads the wrong layer's norm or drops a bias).</summary>
    internal static GlmModel RandomModel(ModelConfig c, ulong seed)
    {
        var m = GlmModel.Create(c, seed, std: 0.2);
        var rng = new Rng(seed + 100);
        foreach (var t in m.Layout.Tensors.Where(t => t.NoDecay))
            foreach (ref var w in m.Weights.AsSpan(t.Offset, t.Length)) w = (float)(1 + 0.5 * rng.NextGaussian()) * (t.Name.EndsWith(".bias") ? 0.3f : 1f);
        return m;
    }

    string Write(GlmModel m, WeightFormat f, long maxShardBytes = QuantizedCheckpointWriter.DefaultMaxShardBytes, string name = "q")
    {
        string dir = Path.Combine(_dir, name);
        QuantizedCheckpointWriter.Write(InferenceWeights.Fp32(m), JsonNode.Parse(m.Config.ToJson())!.AsObject(), dir,
            QuantizationEntry.Create(f, 32), maxShardBytes: maxShardBytes);
        return dir;
    }

    /// <summary>
    /// Logits of every path the session has: a two-prompt prefill of 13 rows (dequantized tiles + sgemm), decode of two
    /// slots at once (the n-row quantized kernel), and of one (the fused dequantize-dot).
    /// </summary>
    internal static float[] Logits(InferenceWeights w)
    {
        int V = w.Config.V;
        var s = new InferenceSession(w, 2, 32, 16);
        var all = new List<float>();
        var l = new float[2 * V];
        s.Prefill([0, 1], [[3, 1, 4, 1, 5, 9, 2, 6], [5, 3, 5, 8, 9]], l, bidirectional: true);
        all.AddRange(l);
        for (int t = 0; t < 3; t++)
        {
            s.Decode([0, 1], [(7 * t + 2) % V, (5 * t + 1) % V], l);
            all.AddRange(l);
        }
        s.Decode([1], [4], l.AsSpan(0, V));
        all.AddRange(l.AsSpan(0, V).ToArray());
        return all.ToArray();
    }

    [Theory]
    [InlineData("glm", WeightFormat.Int8)]
    [InlineData("glm", WeightFormat.Int4)]
    [InlineData("llama", WeightFormat.Int8)]
    [InlineData("llama", WeightFormat.Int4)]
    [InlineData("wide-tied", WeightFormat.Int8)]
    [InlineData("wide-tied", WeightFormat.Int4)]
    public void WrittenThenLoadedGivesTheLogitsOfQuantizingAtLoad(string kind, WeightFormat format)
    {
        var m = RandomModel(Config(kind), 11);
        var atLoad = InferenceWeights.Create(m, format, 32);
        using var loaded = QuantizedCheckpointWeights.Open(Write(m, format));
        Assert.Equal(format, loaded.Format);
        Assert.Equal(32, loaded.GroupSize);
        // The same quants and scales, projection by projection (q|k|v and gate|up stacked as the engine does) ...
        foreach (var (a, b) in atLoad.Projections.Zip(loaded.Projections))
        {
            var (qa, qb) = (Assert.IsType<QuantizedProjection>(a), Assert.IsType<QuantizedProjection>(b));
            Assert.Equal(qa.Matrix.Data, qb.Matrix.Data);
            Assert.Equal(qa.Bias.ToArray(), qb.Bias.ToArray());
        }
        // ... hence the same logits, bit for bit, on every path of the session; and not the fp32 model's (quantized for real).
        var expected = Logits(atLoad);
        Assert.Equal(expected, Logits(loaded));
        Assert.NotEqual(Logits(InferenceWeights.Fp32(m)), expected);
        Assert.Equal(atLoad.ProjectionBytes, loaded.ProjectionBytes);
    }

    [Fact]
    public void ShardsStayUnderTheLimitAndLoadTheSame()
    {
        var m = RandomModel(Config("wide-tied"), 2);
        string dir = Write(m, WeightFormat.Int8, maxShardBytes: 20_000);
        var shards = Directory.GetFiles(dir, "model-*.safetensors");
        Assert.True(shards.Length > 3, $"{shards.Length} shards");
        Assert.True(File.Exists(Path.Combine(dir, CheckpointArchive.IndexFile)));
        // a shard holding a single large tensor may exceed the limit (as transformers): here none is larger than 20 KB + header
        Assert.All(shards, s => Assert.True(new FileInfo(s).Length < 30_000, $"{s}: {new FileInfo(s).Length} bytes"));
        using var loaded = QuantizedCheckpointWeights.Open(dir);
        Assert.Equal(Logits(InferenceWeights.Create(m, WeightFormat.Int8)), Logits(loaded));
    }

    [Fact]
    public void FileLayoutIsTheDocumentedOne()
    {
        var m = GlmModel.Create(Config("glm"), seed: 5, std: 0.2); // C = 16: rows padded to one group of 32
        string dir = Write(m, WeightFormat.Int4);
        using var f = new SafeTensorsFile(Path.Combine(dir, ModelDirectory.WeightsFile));
        var q = f.Get(TensorNames.Q(0));
        Assert.Equal(TensorDType.U8, q.DType);
        Assert.Equal(new long[] { 16, 16 }, q.Shape); // (H·D, 32 / 2): two int4 per byte over the padded width
        var scale = f.Get(TensorNames.Q(0) + "_scale");
        Assert.Equal(TensorDType.F32, scale.DType);
        Assert.Equal(new long[] { 16, 1 }, scale.Shape);
        Assert.Equal(TensorDType.F32, f.Get(TensorNames.Embed).DType);
        Assert.Equal(TensorDType.F32, f.Get(TensorNames.QBias(0)).DType);
        // Row 0 of q_proj decoded by hand from the file (low nibble = weight i, high = weight i + 16, stored q + 8) equals
        // the engine's own quantization of that row.
        var raw = new byte[16]; f.ReadBytes(q, 0, raw);
        var d = new byte[4]; f.ReadBytes(scale, 0, d);
        float s = BitConverter.ToSingle(d);
        var mine = new float[16];
        for (int i = 0; i < 16; i++) mine[i] = s * ((raw[i] & 0xF) - 8);
        var engine = QuantizedMatrix.Quantize(m.Parameter(TensorNames.Q(0))[..16], 1, 16, QuantFormat.Int4).Dequantize();
        Assert.Equal(engine, mine);
        Assert.All(raw, b => Assert.Equal(8, b >> 4)); // weights 16..31 are padding: value 0, stored 8
        var cfg = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!["quantization"]!;
        Assert.Equal(4, (int)cfg["bits"]!);
        Assert.Equal(32, (int)cfg["group_size"]!);
        Assert.Equal("lightglm-rtn-symmetric", (string)cfg["method"]!);
    }

    [Fact]
    public void TruncatedShardIsNamed()
    {
        var m = GlmModel.Create(Config("llama"), seed: 5, std: 0.2);
        string dir = Write(m, WeightFormat.Int8, maxShardBytes: 4_000);
        string shard = Directory.GetFiles(dir, "model-*.safetensors").Order().Last();
        using (var fs = new FileStream(shard, FileMode.Open)) fs.SetLength(fs.Length - 7);
        var e = Assert.Throws<InvalidDataException>(() => QuantizedCheckpointWeights.Open(dir));
        Assert.Contains(Path.GetFileName(shard), e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void DamagedScaleIsNamed()
    {
        var m = GlmModel.Create(Config("llama"), seed: 5, std: 0.2);
        string dir = Write(m, WeightFormat.Int8);
        string path = Path.Combine(dir, ModelDirectory.WeightsFile);
        long at;
        using (var f = new SafeTensorsFile(path))
        {
            using var fs = File.OpenRead(path);
            var len = new byte[8]; fs.ReadExactly(len);
            at = 8 + (long)BitConverter.ToUInt64(len) + f.Get(TensorNames.Down(1) + "_scale").Begin + 4 * 3;
        }
        using (var fs = new FileStream(path, FileMode.Open)) { fs.Position = at; fs.Write(BitConverter.GetBytes(float.NaN)); }
        var e = Assert.Throws<InvalidDataException>(() => QuantizedCheckpointWeights.Open(dir));
        Assert.Contains($"'{TensorNames.Down(1)}_scale' row 3", e.Message);
        Assert.Contains("damaged", e.Message);
    }

    [Theory]
    [InlineData("bits", "3", "bits is 3, expected 8 or 4")]
    [InlineData("group_size", "48", "group_size is 48")]
    [InlineData("method", "\"gptq\"", "method is \"gptq\"")]
    [InlineData("format_version", "2", "this build reads version 1")]
    [InlineData("bits", "4", "is I8(20, 32); int4, group 32 with this config.json needs U8(20, 16)")] // int8 tensors under an int4 entry
    public void WrongQuantizationEntryIsNamed(string field, string value, string expected)
    {
        var m = GlmModel.Create(Config("llama"), seed: 5, std: 0.2); // F = 20: up_proj is (20, 32 int8 quants)
        string dir = Write(m, WeightFormat.Int8);
        string cfg = Path.Combine(dir, "config.json");
        var json = JsonNode.Parse(File.ReadAllText(cfg))!.AsObject();
        json["quantization"]![field] = JsonNode.Parse(value);
        File.WriteAllText(cfg, json.ToJsonString());
        var e = Assert.Throws<InvalidDataException>(() => QuantizedCheckpointWeights.Open(dir));
        Assert.Contains(expected, e.Message);
        Assert.Contains(dir, e.Message);
    }

    [Fact]
    public void FloatReadersRefuseItWithWhatToDo()
    {
        var m = GlmModel.Create(Config("llama"), seed: 5, std: 0.2);
        string dir = Write(m, WeightFormat.Int4);
        foreach (var open in new Action[] { () => ModelDirectory.Load(dir), () => MappedWeights.Open(dir).Dispose() })
        {
            var e = Assert.Throws<InvalidDataException>(open);
            Assert.Contains(dir, e.Message);
            Assert.Contains("quantized inference checkpoint (int4, group 32", e.Message);
            Assert.Contains("cannot be trained", e.Message);
            Assert.Contains("use the fp32/bf16 model directory it was made from", e.Message);
        }
        // Without its entry the quants are still not read as floats: the I8/U8 tensor is named.
        string cfg = Path.Combine(dir, "config.json");
        var json = JsonNode.Parse(File.ReadAllText(cfg))!.AsObject();
        json.Remove("quantization");
        File.WriteAllText(cfg, json.ToJsonString());
        var bare = Assert.Throws<InvalidDataException>(() => ModelDirectory.Load(dir));
        Assert.Contains("U8", bare.Message);
    }
}
