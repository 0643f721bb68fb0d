using System.Text;
using LightGlm.Model;
using LightGlm.Model.Checkpoints;
using Xunit.Abstractions;

namespace LightGlm.Tests.Reliability;

/// <summary>Thousands of mutated real model files: config.json and model.safetensors must fail cleanly.</summary>
public class CheckpointFuzzTests(ITestOutputHelper output)
{
    static ModelConfig Tiny() => ModelConfig.FromJson("""
        { "model_type": "chatglm", "vocab_size": 40, "hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 4,
          "num_key_value_heads": 2, "intermediate_size": 24, "partial_rotary_factor": 0.5, "rope_interleaved": true,
          "attention_bias": true, "prefix_lm": true, "max_position_embeddings": 32 }
        """);

    [Fact]
    public void MutatedConfigJsonFailsCleanly()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"fuzzcfg-{Guid.NewGuid():N}");
        try
        {
            ModelDirectory.Save(GlmModel.Create(Tiny(), seed: 3), dir);
            byte[] valid = File.ReadAllBytes(Path.Combine(dir, "config.json"));
            var outcome = Mutator.Run(valid, cases: 2000, seed: 11,
                bytes => ModelConfig.FromJson(Encoding.UTF8.GetString(bytes), "config.json"),
                [typeof(InvalidDataException)]);
            output.WriteLine($"config.json fuzz: {outcome.Cases} cases, {outcome.Accepted} accepted, {outcome.Rejected} rejected");
            Assert.True(outcome.Rejected > outcome.Cases / 4, $"only {outcome.Rejected} rejected");
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void MutatedSafetensorsFailCleanlyOrLoadCompletely()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"fuzzst-{Guid.NewGuid():N}");
        try
        {
            var model = GlmModel.Create(Tiny(), seed: 5);
            ModelDirectory.Save(model, dir);
            string weights = Path.Combine(dir, "model.safetensors");
            byte[] valid = File.ReadAllBytes(weights);
            string probe = Path.Combine(dir, "probe.safetensors");
            var outcome = Mutator.Run(valid, cases: 1500, seed: 13, bytes =>
            {
                File.WriteAllBytes(probe, bytes);
                var arena = new float[model.Layout.TotalLength];
                ModelDirectory.ReadArena(probe, model.Layout, arena);
            }, [typeof(InvalidDataException)]);
            output.WriteLine($"safetensors fuzz: {outcome.Cases} cases, {outcome.Accepted} accepted, {outcome.Rejected} rejected: " +
                             string.Join(", ", outcome.ByException.Select(kv => $"{kv.Key} {kv.Value}")));
            Assert.True(outcome.Rejected > outcome.Cases / 4, $"only {outcome.Rejected} rejected");
        }
        finally { Directory.Delete(dir, true); }
    }
}
