// The compression stage's choices that decide what its table compares: the top-layer-drop baseline at equal size.
using System.Text.Json.Nodes;
using LightGlm.Compression;
using LightGlm.Experiments.Recipes;
using LightGlm.Experiments.Stages;
using LightGlm.Model;

namespace LightGlm.Tests.Experiments;

public class CompressionStageTests
{
    static ModelConfig QuickTeacher() => ModelConfig.FromJson(new JsonObject
    {
        ["vocab_size"] = 4000, ["hidden_size"] = 192, ["num_hidden_layers"] = 4, ["num_attention_heads"] = 6, ["num_key_value_heads"] = 2,
        ["intermediate_size"] = 512, ["partial_rotary_factor"] = 0.5, ["attention_bias"] = true,
    }.ToJsonString());

    [Fact]
    public void LayerDropKeepsTheDepthWhoseSizeIsNearestTheStudents()
    {
        var t = QuickTeacher();
        var r = Recipe.Load("quick");
        Assert.Equal("equal", r.Get<string>("compression.layer_drop_size"));
        // The quick student: all 4 layers at hidden 144, half head dim and FFN (1,743,760 parameters); one full-width layer
        // (1,930,112) is the nearest depth.
        var student = t.Resized(c: 144, d: 16, f: 256);
        Assert.Equal(1_743_760, student.ParameterCount());
        Assert.Equal(1, CompressionTargets.LayerDropKeep(r.Settings.Compression, t, student.ParameterCount()));
        // Every size picks the depth that minimises the difference.
        for (int l = 1; l <= t.L; l++)
            Assert.Equal(l, CompressionTargets.LayerDropKeep(r.Settings.Compression, t, t.Resized(l: l).ParameterCount() + 1000));
        // Unknown before the student exists, and on request: keep_layers at full width.
        r = r.With("compression.keep_layers", "2");
        Assert.Equal(2, CompressionTargets.LayerDropKeep(r.Settings.Compression, t, 0));
        Assert.Equal(2, CompressionTargets.LayerDropKeep(r.With("compression.layer_drop_size", "keep_layers").Settings.Compression, t, student.ParameterCount()));
        var bad = Assert.Throws<InvalidDataException>(() => CompressionTargets.LayerDropKeep(r.With("compression.layer_drop_size", "same").Settings.Compression, t, 1));
        Assert.Contains("layer_drop_size", bad.Message);
    }

    [Fact]
    public void LevelsAreHiddenRatiosNamedByTheirRatio()
    {
        var r = Recipe.Load("quick");
        Assert.Empty(r.Settings.Compression.Levels);
        Assert.Equal([0.5, 0.35], r.With("compression.levels", "[0.5, 0.35, 0.5]").Settings.Compression.Levels);
        Assert.Equal("student-h0.35", CompressionMethods.LevelName(0.35));
        foreach (var bad in new[] { "[0]", "[1.5]", "[-0.5]" })
            Assert.Contains("compression.levels", Assert.Throws<InvalidDataException>(() => r.With("compression.levels", bad).Settings.Compression.Levels).Message);
        Assert.ThrowsAny<Exception>(() => r.With("compression.levels", "[\"half\"]").Settings.Compression.Levels);
    }
}
