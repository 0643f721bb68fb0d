// The depth + width student of Table 4: one layer fewer than the width-only student, wider, at the same size.
using System.Text.Json.Nodes;
using LightGlm.Compression;
using LightGlm.Experiments.Recipes;
using LightGlm.Experiments.Stages;
using LightGlm.Model;

namespace LightGlm.Tests.Experiments;

public class DepthVariantTests
{
    [Fact]
    public void TheDepthStudentHasOneLayerFewerAndTheWidthOnlyStudentsSize()
    {
        var r = Recipe.Load("quick");
        var t = ModelConfig.FromJson(new JsonObject
        {
            ["model_type"] = "chatglm", ["vocab_size"] = 4000, ["hidden_size"] = 192, ["num_hidden_layers"] = 4,
            ["num_attention_heads"] = 6, ["num_key_value_heads"] = 2, ["intermediate_size"] = 512, ["partial_rotary_factor"] = 0.5,
            ["rope_interleaved"] = true, ["attention_bias"] = true, ["max_position_embeddings"] = 256,
        }.ToJsonString());
        var w = CompressionTargets.Width(r.Settings.Compression, t);
        var d = CompressionTargets.Depth(r.Settings.Compression, t);
        Assert.Equal(w.Layers - 1, d.Layers);
        Assert.Equal(w.HeadDim, d.HeadDim);
        Assert.Equal(w.Ffn, d.Ffn);
        Assert.True((d.Hidden ?? t.C) > (w.Hidden ?? t.C), $"depth student hidden {d.Hidden} should be wider than {w.Hidden}");
        long sw = t.Resized(l: w.Layers, c: w.Hidden ?? t.C, d: w.HeadDim, f: w.Ffn).ParameterCount();
        long sd = t.Resized(l: d.Layers, c: d.Hidden ?? t.C, d: d.HeadDim, f: d.Ffn).ParameterCount();
        Assert.InRange(sd / (double)sw, 0.95, 1.05);
    }
}
