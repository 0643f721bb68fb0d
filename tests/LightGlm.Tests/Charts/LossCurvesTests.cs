// Training's loss curves: drawn from metrics.jsonl records (the latest stage, one series per model/variant and loss
// field), and redrawn beside the file by whatever loop writes it — `train` (MetricsLog) or a recipe's stages (RunDirectory).
using System.Text.Json.Nodes;
using LightGlm.Charts;
using LightGlm.Experiments;
using LightGlm.Model;
using LightGlm.Training;

namespace LightGlm.Tests.Charts;

public sealed class LossCurvesTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("loss-curves-").FullName;
    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }

    static JsonObject J(string json) => JsonNode.Parse(json)!.AsObject();

    static string[] Legend(ChartImage chart) =>
        ChartPixels.Texts(chart.Svg).Select(t => t.Text).ToArray();

    [Fact]
    public void DrawsTheLatestStagesLossesOneSeriesPerModelAndField()
    {
        Assert.Null(LossCurves.Draw([J("""{"event":"start","step":0}"""), J("""{"step":3,"lr":0.1}""")]));
        var chart = LossCurves.Draw([
            J("""{"stage":"teacher","step":0,"loss":5.0}"""), J("""{"stage":"teacher","step":10,"loss":4.0,"valid_loss":4.5}"""),
            J("""{"stage":"compression","model":"student","step":0,"valid_loss":6.0}"""),
            J("""{"stage":"compression","model":"student","step":5,"valid_loss":5.5}"""),
            J("""{"stage":"compression","model":"random","step":0,"valid_loss":6.5,"loss":"NaN"}"""),
            J("""{"stage":"compression","event":"stage_done"}"""),
        ])!;
        var text = Legend(chart);
        Assert.Contains("Training loss: compression", text);
        Assert.Contains("student valid_loss", text);
        Assert.Contains("random valid_loss", text);
        Assert.DoesNotContain(text, t => t.Contains("teacher"));
        Assert.DoesNotContain("random loss", text); // a non-number is not a point
    }

    [Fact]
    public void MetricsLogRedrawsAtMostOncePerIntervalAndAlwaysAtTheEnd()
    {
        string path = Path.Combine(_dir, "metrics.jsonl"), png = Path.Combine(_dir, LossCurves.PngName);
        var log = new MetricsLog(path, chartInterval: TimeSpan.FromHours(1));
        log.Write(new JsonObject { ["event"] = "start", ["step"] = 0 });
        for (int s = 1; s <= 40; s++) log.Write(new JsonObject { ["step"] = s, ["loss"] = 5.0 - 0.1 * s, ["valid_loss"] = 5.2 - 0.1 * s });
        Assert.False(File.Exists(png)); // throttled: the first interval has not passed
        log.Write(new JsonObject { ["event"] = "end", ["step"] = 40 });
        byte[] last = File.ReadAllBytes(png);
        Assert.True(File.Exists(Path.Combine(_dir, LossCurves.SvgName)));
        Assert.True(ChartPixels.Count(last, ChartPixels.Orange) > 1500, "the valid_loss line is not in the final chart");
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));

        // Interval zero: every record with a loss redraws it.
        string eager = Path.Combine(_dir, "eager");
        var every = new MetricsLog(Path.Combine(eager, "metrics.jsonl"), chartInterval: TimeSpan.Zero);
        every.Write(new JsonObject { ["step"] = 1, ["loss"] = 5.0 });
        byte[] one = File.ReadAllBytes(Path.Combine(eager, LossCurves.PngName));
        every.Write(new JsonObject { ["step"] = 2, ["loss"] = 4.0 });
        Assert.NotEqual(one, File.ReadAllBytes(Path.Combine(eager, LossCurves.PngName)));

        // No chart when asked for none.
        string quiet = Path.Combine(_dir, "quiet");
        var none = new MetricsLog(Path.Combine(quiet, "metrics.jsonl"), chartInterval: Timeout.InfiniteTimeSpan);
        none.Write(new JsonObject { ["step"] = 1, ["loss"] = 5.0 });
        none.Write(new JsonObject { ["event"] = "end" });
        Assert.False(File.Exists(Path.Combine(quiet, LossCurves.PngName)));
    }

    [Fact]
    public void TrainWritesLossSvgAndPngBesideItsMetrics()
    {
        File.WriteAllText(Path.Combine(_dir, "text.txt"), string.Concat(Enumerable.Range(0, 300).Select(i => $"line {i % 17} of a pattern; ")));
        var rc = new RunConfig
        {
            Model = new ModelConfig
            {
                ModelType = "llama", VocabSize = 0, HiddenSize = 16, NumHiddenLayers = 1, NumAttentionHeads = 2, NumKeyValueHeads = 2,
                IntermediateSize = 24, MaxPositionEmbeddings = 32,
            },
            Data = new DataConfig { Train = [Path.Combine(_dir, "text.txt")] },
            Steps = 12, BatchSize = 2, SeqLen = 16, Seed = 3,
            Schedule = new ScheduleOptions { WarmupSteps = 0 },
            CheckpointDir = Path.Combine(_dir, "ck"), CheckpointEvery = 6,
        };
        rc.Validate("test");
        TrainingRun.Run(rc, new NullProgress());
        string ck = Path.Combine(_dir, "ck");
        Assert.True(File.Exists(Path.Combine(ck, "metrics.jsonl")));
        Assert.Contains(ChartPixels.Texts(File.ReadAllText(Path.Combine(ck, LossCurves.SvgName))), t => t.Text == "Training loss");
        // The end of the run redrew it: the train loss line spans the steps (blue, far more than a legend symbol).
        Assert.True(ChartPixels.Count(File.ReadAllBytes(Path.Combine(ck, LossCurves.PngName)), ChartPixels.Blue) > 1500);
    }

    [Fact]
    public void RecipeStagesWriteLossSvgAndPngInTheRunDirectory()
    {
        var run = new RunDirectory(Path.Combine(_dir, "run"));
        for (int s = 0; s <= 30; s += 10) run.LogMetric("teacher", new JsonObject { ["step"] = s, ["loss"] = 5.0 - 0.05 * s });
        run.LogMetric("teacher", new JsonObject { ["event"] = "stage_done" });
        Assert.Contains(ChartPixels.Texts(File.ReadAllText(run.PathOf(LossCurves.SvgName))), t => t.Text == "Training loss: teacher");
        Assert.True(ChartPixels.Count(File.ReadAllBytes(run.PathOf(LossCurves.PngName)), ChartPixels.Blue) > 1500);
        Assert.Equal(5, run.ReadMetrics("teacher").Count());
    }

    sealed class NullProgress : ITrainingProgress
    {
        public void Started(Trainer t, int tokens, bool resumed) { }
        public void Stepped(Trainer t, StepResult s) { }
        public void Message(string text) { }
    }
}
