// Wrong or partial checkpoints fail with errors that name the file, the tensor or the field.
using System.Text;
using System.Text.Json.Nodes;
using LightGlm.Interop;
using LightGlm.Model.Checkpoints;

namespace LightGlm.Tests.Interop;

public sealed class BadCheckpointTests
{
    static string CopyGolden(HfGolden.TempDir tmp, string name)
    {
        string dst = tmp.Sub(name);
        Directory.CreateDirectory(dst);
        foreach (var f in Directory.GetFiles(HfGolden.DirOf(name))) File.Copy(f, Path.Combine(dst, Path.GetFileName(f)));
        return dst;
    }

    static InvalidDataException ImportFails(string dir, HfGolden.TempDir tmp) =>
        Assert.ThrowsAny<InvalidDataException>(() => HfImporter.Import(dir, tmp.Sub("out")));

    static void EditConfig(string dir, Action<JsonObject> edit)
    {
        string p = Path.Combine(dir, "config.json");
        var o = JsonNode.Parse(File.ReadAllText(p))!.AsObject();
        edit(o);
        File.WriteAllText(p, o.ToJsonString());
    }

    [Fact]
    public void MissingShardNamesTheShardAndATensor()
    {
        using var tmp = HfGolden.Temp();
        string dir = CopyGolden(tmp, "llama");
        File.Delete(Path.Combine(dir, "model-00002-of-00003.safetensors"));
        var e = Assert.Throws<FileNotFoundException>(() => HfImporter.Import(dir, tmp.Sub("out")));
        Assert.Contains("model-00002-of-00003.safetensors", e.Message);
        Assert.Contains("model.layers.", e.Message);
        Assert.False(Directory.Exists(tmp.Sub("out")) && Directory.GetFiles(tmp.Sub("out")).Length > 0);
    }

    [Fact]
    public void MissingIndexWithShardsSaysSo()
    {
        using var tmp = HfGolden.Temp();
        string dir = CopyGolden(tmp, "llama");
        File.Delete(Path.Combine(dir, CheckpointArchive.IndexFile));
        var e = Assert.Throws<FileNotFoundException>(() => HfImporter.Import(dir, tmp.Sub("out")));
        Assert.Contains(CheckpointArchive.IndexFile, e.Message);
    }

    [Fact]
    public void ShapeMismatchNamesTheTensorAndBothShapes()
    {
        using var tmp = HfGolden.Temp();
        string dir = CopyGolden(tmp, "chatglm2");
        EditConfig(dir, o => o["ffn_hidden_size"] = 50);
        var e = ImportFails(dir, tmp);
        Assert.Contains("mlp.dense_h_to_4h.weight", e.Message);
        Assert.Contains("(96, 32)", e.Message);
        Assert.Contains("(100, 32)", e.Message);
    }

    [Fact]
    public void TensorMissingFromCheckpointIsNamed()
    {
        using var tmp = HfGolden.Temp();
        string dir = CopyGolden(tmp, "qwen2");
        EditConfig(dir, o => o["num_hidden_layers"] = 3);
        var e = ImportFails(dir, tmp);
        Assert.Contains("model.layers.2.", e.Message);
        Assert.Contains("missing", e.Message);
    }

    [Fact]
    public void ExtraTensorsAreReported()
    {
        using var tmp = HfGolden.Temp();
        string dir = CopyGolden(tmp, "llama");
        EditConfig(dir, o => o["num_hidden_layers"] = 1);
        var e = ImportFails(dir, tmp);
        Assert.Contains("model.layers.1.", e.Message);
    }

    [Theory]
    [InlineData("gpt2", "unknown architecture")]
    [InlineData("glm", "unknown architecture")]
    [InlineData("lightglm", "already a LightGlm model")]
    public void UnknownArchitectureIsRefused(string modelType, string expected)
    {
        using var tmp = HfGolden.Temp();
        string dir = CopyGolden(tmp, "qwen2");
        EditConfig(dir, o => o["model_type"] = modelType);
        var e = Assert.ThrowsAny<Exception>(() => HfImporter.Import(dir, tmp.Sub("out")));
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData("chatglm2", "rmsnorm", "false")]
    [InlineData("chatglm2", "quantization_bit", "4")]
    [InlineData("chatglm2", "pre_seq_len", "128")]
    [InlineData("chatglm2", "position_encoding_2d", "true")]
    [InlineData("llama", "rope_scaling", "{\"rope_type\":\"llama3\",\"factor\":8.0}")]
    [InlineData("llama", "hidden_act", "\"gelu\"")]
    [InlineData("qwen2", "use_sliding_window", "true")]
    public void UnsupportedSettingsNameTheField(string name, string field, string json)
    {
        using var tmp = HfGolden.Temp();
        string dir = CopyGolden(tmp, name);
        EditConfig(dir, o => o[field] = JsonNode.Parse(json));
        var e = ImportFails(dir, tmp);
        Assert.Contains(field == "position_encoding_2d" ? "ChatGLM-6B (v1" : field, e.Message);
    }

    [Fact]
    public void UnsupportedDTypeNamesTheTensor()
    {
        using var tmp = HfGolden.Temp();
        string dir = CopyGolden(tmp, "qwen2");
        string path = Path.Combine(dir, "model.safetensors");
        var bytes = File.ReadAllBytes(path);
        int n = (int)BitConverter.ToUInt64(bytes, 0);
        string header = Encoding.UTF8.GetString(bytes, 8, n);
        int at = header.IndexOf("\"model.norm.weight\":{\"dtype\":\"F16\"", StringComparison.Ordinal);
        Assert.True(at >= 0, header);
        header = header.Remove(at, "\"model.norm.weight\":{\"dtype\":\"F16\"".Length).Insert(at, "\"model.norm.weight\":{\"dtype\":\"I16\"");
        Encoding.UTF8.GetBytes(header).CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);
        var e = ImportFails(dir, tmp);
        Assert.Contains("model.norm.weight", e.Message);
        Assert.Contains("I16", e.Message);
    }

    [Fact]
    public void TruncatedShardIsReported()
    {
        using var tmp = HfGolden.Temp();
        string dir = CopyGolden(tmp, "chatglm2");
        string path = Path.Combine(dir, "model-00002-of-00002.safetensors");
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 100)]);
        var e = ImportFails(dir, tmp);
        Assert.Contains("model-00002-of-00002.safetensors", e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void NonZeroLlamaOutputBiasIsRefused()
    {
        // LLaMA's attention_bias also biases o_proj, which our engine lacks: only an all-zero o_proj.bias imports
        using var tmp = HfGolden.Temp();
        HfImporter.Import(HfGolden.DirOf("qwen2"), tmp.Sub("ours"));
        HfExporter.Export(tmp.Sub("ours"), HfArchitecture.Llama, tmp.Sub("hf"));
        var cfg = JsonNode.Parse(File.ReadAllText(Path.Combine(tmp.Sub("hf"), "config.json")))!;
        Assert.True(cfg["attention_bias"]!.GetValue<bool>());
        HfImporter.Import(tmp.Sub("hf"), tmp.Sub("ok")); // zeros: fine
        string path = Path.Combine(tmp.Sub("hf"), "model.safetensors");
        using (var a = CheckpointArchive.Open(tmp.Sub("hf")))
        {
            var e = a["model.layers.0.self_attn.o_proj.bias"];
            var bytes = File.ReadAllBytes(path);
            long dataStart = 8 + (long)BitConverter.ToUInt64(bytes, 0);
            a.Dispose();
            BitConverter.GetBytes(0.5f).CopyTo(bytes, dataStart + e.Begin);
            File.WriteAllBytes(path, bytes);
        }
        var ex = Assert.Throws<InvalidDataException>(() => HfImporter.Import(tmp.Sub("hf"), tmp.Sub("bad")));
        Assert.Contains("o_proj.bias", ex.Message);
    }

    [Fact]
    public void ExportRefusesARotaryLayoutTheTargetCannotExpress()
    {
        using var tmp = HfGolden.Temp();
        HfImporter.Import(HfGolden.DirOf("chatglm2"), tmp.Sub("ours"));
        var e = Assert.Throws<InvalidDataException>(() => HfExporter.Export(tmp.Sub("ours"), HfArchitecture.Llama, tmp.Sub("hf")));
        Assert.Contains("hf-chatglm", e.Message);
        HfImporter.Import(HfGolden.DirOf("llama"), tmp.Sub("llama"));
        e = Assert.Throws<InvalidDataException>(() => HfExporter.Export(tmp.Sub("llama"), HfArchitecture.ChatGlm, tmp.Sub("hf2")));
        Assert.Contains("hf-llama", e.Message);
    }
}
