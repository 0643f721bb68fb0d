// Model directories and safetensors: round trip, F16/BF16 widening, and clear errors on bad files and configs.
using System.Text;
using LightGlm.Model;
using LightGlm.Model.Checkpoints;

namespace LightGlm.Tests.Model;

public sealed class CheckpointTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "lightglm-ckpt-" + Guid.NewGuid().ToString("N"));
    public CheckpointTests() => Directory.CreateDirectory(_dir);
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    [Fact]
    public void ModelDirectoryRoundTripsBitExactly()
    {
        var m = GlmModel.Create(TinyModels.Glm(), seed: 11);
        ModelDirectory.Save(m, _dir);
        var back = ModelDirectory.Load(_dir);
        Assert.Equal(m.Config.ToJson(), back.Config.ToJson());
        Assert.Equal(m.Weights, back.Weights);
        using var f = new SafeTensorsFile(Path.Combine(_dir, "model.safetensors"));
        Assert.Equal([13L, 16L], f.Get("model.embed_tokens.weight").Shape);
        Assert.Equal([16L], f.Get("model.layers.1.self_attn.q_proj.bias").Shape);
        Assert.Contains("lm_head.weight", f.Tensors.Keys);
        Assert.Empty(Directory.GetFiles(_dir, ".*tmp*")); // no temp files left behind
    }

    [Fact]
    public void TiedModelHasNoLmHead()
    {
        var c = TinyModels.Llama();
        c.TieWordEmbeddings = true;
        var m = GlmModel.Create(c);
        Assert.False(m.Layout.TryGet("lm_head.weight", out _));
        Assert.Equal(m.Layout.Embedding, m.Layout.LmHead);
        ModelDirectory.Save(m, _dir);
        Assert.Equal(m.Weights, ModelDirectory.Load(_dir).Weights);
    }

    [Fact]
    public void ReadsF16AndBf16()
    {
        float[] values = [1f, -2.5f, 0.333251953125f, 65504f, 0f, -0.0078125f];
        var path = Path.Combine(_dir, "h.safetensors");
        var header = "{\"a\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[0,12]},\"b\":{\"dtype\":\"BF16\",\"shape\":[6],\"data_offsets\":[12,24]}}";
        using (var fs = File.Create(path))
        {
            var hb = Encoding.UTF8.GetBytes(header);
            fs.Write(BitConverter.GetBytes((ulong)hb.Length));
            fs.Write(hb);
            foreach (var v in values) fs.Write(BitConverter.GetBytes(BitConverter.HalfToUInt16Bits((Half)v)));
            foreach (var v in values) fs.Write(BitConverter.GetBytes((ushort)(BitConverter.SingleToInt32Bits(v) >> 16)));
        }
        using var f = new SafeTensorsFile(path);
        Assert.Equal(values, f.ReadFloat32("a"));
        Assert.Equal(values.Select(v => BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(v) & ~0xFFFF)), f.ReadFloat32("b"));
    }

    [Fact]
    public void TruncatedFileNamesFileAndTensor()
    {
        var m = GlmModel.Create(TinyModels.Llama());
        ModelDirectory.Save(m, _dir);
        var path = Path.Combine(_dir, "model.safetensors");
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 10)]);
        var e = Assert.Throws<InvalidDataException>(() => ModelDirectory.Load(_dir));
        Assert.Contains(path, e.Message);
        Assert.Contains("lm_head.weight", e.Message);
        Assert.Contains("truncated", e.Message);
        File.WriteAllBytes(path, bytes[..5]);
        e = Assert.Throws<InvalidDataException>(() => ModelDirectory.Load(_dir));
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void MislabelledDtypeOrShapeIsCaught()
    {
        var path = Path.Combine(_dir, "bad.safetensors");
        var header = "{\"w\":{\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[0,16]}}";
        var hb = Encoding.UTF8.GetBytes(header);
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((ulong)hb.Length), .. hb, .. new byte[16]]);
        var e = Assert.Throws<InvalidDataException>(() => new SafeTensorsFile(path));
        Assert.Contains("'w'", e.Message);
        Assert.Contains("mislabelled", e.Message);

        // A right-sized file whose tensor has the wrong shape for the config.
        var c = TinyModels.Llama();
        var m = GlmModel.Create(c);
        ModelDirectory.Save(m, _dir);
        var wrong = c.Clone();
        wrong.IntermediateSize = 22;
        File.WriteAllText(Path.Combine(_dir, "config.json"), wrong.ToJson());
        e = Assert.Throws<InvalidDataException>(() => ModelDirectory.Load(_dir));
        Assert.Contains("model.layers.0.mlp.gate_proj.weight", e.Message);
        Assert.Contains("(20, 16)", e.Message);
        Assert.Contains("(22, 16)", e.Message);
    }

    [Fact]
    public void MissingFilesAreNamed()
    {
        var e1 = Assert.Throws<DirectoryNotFoundException>(() => ModelDirectory.Load(Path.Combine(_dir, "nope")));
        Assert.Contains("nope", e1.Message);
        var e2 = Assert.Throws<FileNotFoundException>(() => ModelDirectory.Load(_dir));
        Assert.Contains("config.json", e2.Message);
        File.WriteAllText(Path.Combine(_dir, "config.json"), TinyModels.Llama().ToJson());
        var e3 = Assert.Throws<FileNotFoundException>(() => ModelDirectory.Load(_dir));
        Assert.Contains("model.safetensors", e3.Message);
    }

    [Fact]
    public void ConfigErrorsAreReportedTogether()
    {
        var json = """{"model_type":"gpt9","vocab_size":0,"hidden_size":30,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":3,"intermediate_size":8,"partial_rotary_factor":1.5}""";
        var e = Assert.Throws<InvalidDataException>(() => ModelConfig.FromJson(json, "run.json"));
        Assert.Contains("run.json", e.Message);
        Assert.Contains("model_type = 'gpt9'", e.Message);
        Assert.Contains("vocab_size = 0", e.Message);
        Assert.Contains("num_key_value_heads = 3", e.Message);
        Assert.Contains("hidden_size = 30", e.Message);
        Assert.Contains("partial_rotary_factor = 1.5", e.Message);
    }

    [Fact]
    public void HuggingFaceConfigLoads()
    {
        var json = """
        {"architectures":["LlamaForCausalLM"],"model_type":"llama","vocab_size":32000,"hidden_size":64,"intermediate_size":172,
         "num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"rms_norm_eps":1e-6,"rope_theta":500000.0,
         "tie_word_embeddings":false,"torch_dtype":"bfloat16","bos_token_id":1,"eos_token_id":[2,3],"max_position_embeddings":128}
        """;
        var c = ModelConfig.FromJson(json);
        Assert.Equal(16, c.D);
        Assert.Equal(2, c.EosTokenId);
        Assert.Equal(1e-6, c.RmsNormEps);
        Assert.Equal(16, c.R);
    }
}
