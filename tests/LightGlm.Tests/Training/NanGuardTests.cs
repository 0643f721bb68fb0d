// The NaN/Inf guard: a poisoned gradient never reaches the weights; the run rolls back to its last checkpoint with a
// lower learning rate and finishes; a run that keeps diverging gives up after max_rollbacks with a clear error.
using System.Text.Json.Nodes;
using LightGlm.Model;
using LightGlm.Training;

namespace LightGlm.Tests.Training;

public sealed class NanGuardTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "lightglm-nan-" + Guid.NewGuid().ToString("N"));
    public NanGuardTests() => Directory.CreateDirectory(_dir);
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    sealed class Log : ITrainingProgress
    {
        public readonly List<string> Lines = [];
        public void Started(Trainer t, int tokens, bool resumed) { }
        public void Stepped(Trainer t, StepResult s) { }
        public void Message(string text) => Lines.Add(text);
    }

    RunConfig Config(int steps, double lr, NanGuardOptions guard, bool checkpoints = true)
    {
        File.WriteAllText(Path.Combine(_dir, "text.txt"), string.Concat(Enumerable.Range(0, 300).Select(i => $"line {i % 17} of a pattern; ")));
        var rc = new RunConfig
        {
            Model = new ModelConfig
            {
                ModelType = "llama", VocabSize = 0, HiddenSize = 16, NumHiddenLayers = 2, NumAttentionHeads = 2, NumKeyValueHeads = 2,
                IntermediateSize = 24, MaxPositionEmbeddings = 32,
            },
            Data = new DataConfig { Train = [Path.Combine(_dir, "text.txt")] },
            Steps = steps, BatchSize = 2, SeqLen = 16, Seed = 3,
            Optimizer = new OptimizerOptions { Lr = lr }, Schedule = new ScheduleOptions { WarmupSteps = 0 },
            CheckpointDir = checkpoints ? Path.Combine(_dir, "ck") : null, CheckpointEvery = 2, NanGuard = guard,
            MetricsFile = Path.Combine(_dir, "metrics.jsonl"),
        };
        rc.Validate("test");
        return rc;
    }

    [Fact]
    public void ANonFiniteStepLeavesWeightsAndStateUntouched()
    {
        var c = new ModelConfig { ModelType = "llama", VocabSize = 20, HiddenSize = 16, NumHiddenLayers = 2, NumAttentionHeads = 2, NumKeyValueHeads = 2, IntermediateSize = 24, MaxPositionEmbeddings = 32 };
        var m = GlmModel.Create(c, seed: 1);
        var t = new Trainer(m, new TrainerOptions { Steps = 5, BatchSize = 2, SeqLen = 8 }, new TokenStreamSource(Enumerable.Range(0, 200).Select(i => i % 20).ToArray(), 1));
        t.Step();
        var before = (float[])m.Weights.Clone();
        var mBefore = (float[])t.Optimizer.M.Clone();
        t.AfterBackward = tr => tr.Model.Grads[123] = float.PositiveInfinity;
        var r = t.Step();
        Assert.True(r.NonFinite);
        Assert.Equal(before, m.Weights);
        Assert.Equal(mBefore, t.Optimizer.M);
        Assert.Equal(1, t.State.Step);
        Assert.Equal(1, t.Optimizer.StepCount);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)] // no checkpoint dir: rolls back to the in-memory snapshot
    public void InjectedNaNRollsBackLowersTheLearningRateAndFinishes(bool checkpoints)
    {
        var rc = Config(steps: 8, lr: 1e-2, new NanGuardOptions { InjectAtSteps = [5], LrFactor = 0.25, MaxRollbacks = 2 }, checkpoints);
        var log = new Log();
        var s = TrainingRun.Run(rc, log);
        Assert.Equal(8, s.Steps);
        Assert.Equal(1, s.Rollbacks);
        Assert.True(double.IsFinite(s.LastLoss));
        var line = Assert.Single(log.Lines, l => l.Contains("rolled back"));
        Assert.Contains("non-finite gradient norm NaN at step 5", line);
        Assert.Contains("rolled back to step 4", line);
        Assert.Contains("learning rate x0.25", line);
        var records = MetricsLog.Read(rc.MetricsFile!);
        Assert.Contains(records, r => (string?)r["event"] == "nan_guard");
        // Steps 5.. ran at a quarter of the scheduled rate (constant schedule after warm-up 0: cosine → compare to config).
        var lr5 = records.Last(r => r["step"] is { } st && (int)st == 5 && r["lr"] is not null)["lr"]!.GetValue<double>();
        Assert.Equal(0.25 * LrSchedule.At(4, 8, rc.Optimizer, rc.Schedule), lr5, 12);
        if (checkpoints)
            Assert.All(LightGlm.Model.Checkpoints.ModelDirectory.Load(TrainingCheckpoint.LatestValid(rc.CheckpointDir!)!).Weights, w => Assert.True(float.IsFinite(w)));
    }

    [Fact]
    public void ARunThatKeepsDivergingGivesUpWithAClearError()
    {
        // lr = 1e30: every update blows the weights up, so the next loss is Inf/NaN — a real divergence, not an injection.
        var rc = Config(steps: 10, lr: 1e30, new NanGuardOptions { MaxRollbacks = 2, LrFactor = 0.5 });
        var log = new Log();
        var e = Assert.Throws<NonFiniteTrainingException>(() => TrainingRun.Run(rc, log));
        Assert.Contains("after 2 rollback(s)", e.Message);
        Assert.Contains("giving up", e.Message);
        Assert.Equal(2, log.Lines.Count(l => l.Contains("rolled back")));
        // The checkpoint on disk holds finite weights: the bad steps never reached it.
        var latest = TrainingCheckpoint.LatestValid(rc.CheckpointDir!);
        if (latest is not null)
            Assert.All(LightGlm.Model.Checkpoints.ModelDirectory.Load(latest).Weights, w => Assert.True(float.IsFinite(w)));
    }
}
