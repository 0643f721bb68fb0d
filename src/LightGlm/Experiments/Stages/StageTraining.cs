// A recipe stage's training on the one run loop (Training/RunLoop.cs): the stage's checkpoint dir, its metrics in the
// run's metrics.jsonl, its progress line, training CPU time across attempts and learning-curve probes. Ctrl-C stops at
// a step boundary with a checkpoint, so running the recipe again continues exactly.
using System.Diagnostics;
using System.Text.Json.Nodes;
using LightGlm.Training;

namespace LightGlm.Experiments.Stages;

/// <summary>Tokens and RealTokens (non-padding) count this attempt's steps; CpuSeconds is the training CPU time of every
/// attempt. Points = the metric records of the validation steps (all attempts): step, cpu_s, real_tokens, valid_loss and
/// the probe's fields — the learning curve.</summary>
public sealed record TrainingCurve(IReadOnlyList<(int Step, double Loss)> Train, IReadOnlyList<(int Step, double Loss)> Valid,
    double Seconds, double TokensPerSecond, long Tokens = 0, long RealTokens = 0, double CpuSeconds = 0,
    IReadOnlyList<JsonObject>? Points = null);

public static class StageTraining
{
    /// <param name="validate">Optional validation loss, called every <paramref name="validEvery"/> steps and at the end.</param>
    /// <param name="probe">Optional extra measurements at the validation points (e.g. BLEU of the model so far: the
    /// learning curve); its fields join the metric record. Its CPU time is not counted as training (cpu_s).</param>
    public static TrainingCurve Run(StageContext c, string stage, Trainer trainer, string checkpointDir, int checkpointEvery,
        Func<double>? validate = null, int validEvery = 0, string? tokenizerJson = null, Func<JsonObject>? probe = null)
    {
        // Earlier attempts of this stage logged their curve already (up to the step this one resumes from): kept so the figures are whole.
        var train = new List<(int, double)>();
        var valid = new List<(int, double)>();
        var points = new List<JsonObject>();
        double cpuBefore = 0; // training CPU time carries on across attempts: the last attempt's total is in the metrics
        void Earlier(int resumedAt)
        {
            foreach (var m in c.Run.ReadMetrics(stage))
            {
                if (m["step"] is null || m["event"] is not null || (int)m["step"]! > resumedAt) continue;
                int s = (int)m["step"]!;
                if (m["loss"] is { } l) train.Add((s, (double)l));
                if (m["valid_loss"] is { } v) { valid.Add((s, (double)v)); points.Add(m); }
                if (m["cpu_s"] is { } cs) cpuBefore = Math.Max(cpuBefore, (double)cs);
            }
        }
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var probeCpu = TimeSpan.Zero;
        double TrainCpu() => cpuBefore + (Process.GetCurrentProcess().TotalProcessorTime - cpu0 - probeCpu).TotalSeconds;
        int total = trainer.Options.Steps;
        var run = RunLoop.Run(trainer, new RunLoopOptions
        {
            CheckpointDir = checkpointDir, CheckpointEvery = checkpointEvery, TokenizerJson = tokenizerJson, ValidEvery = validEvery,
        }, new RunLoopHooks
        {
            Validate = validate,
            Annotate = (_, rec) =>
            {
                if (probe is not null && rec.ContainsKey("valid_loss"))
                {
                    var p0 = Process.GetCurrentProcess().TotalProcessorTime;
                    foreach (var (k, val) in probe()) rec[k] = val?.DeepClone();
                    probeCpu += Process.GetCurrentProcess().TotalProcessorTime - p0;
                }
                rec["cpu_s"] = Math.Round(TrainCpu(), 1);
                foreach (var k in new[] { "loss", "valid_loss" }) if (rec[k] is { } x) rec[k] = Math.Round((double)x, 5);
                rec["grad_norm"] = Math.Round((double)rec["grad_norm"]!, 4);
            },
            Metric = rec =>
            {
                if ((string?)rec["event"] is "start" or "resume") { Earlier((int)rec["step"]!); return; }
                if (rec["event"] is not null) { c.Run.LogMetric(stage, rec); return; }
                int step = (int)rec["step"]!;
                train.Add((step, (double)rec["loss"]!));
                if (rec["valid_loss"] is { } v) { valid.Add((step, (double)v)); points.Add((JsonObject)rec.DeepClone()); }
                if (step % 10 == 0 || step == total || rec.ContainsKey("valid_loss")) c.Run.LogMetric(stage, rec);
            },
            Stepped = (r, _) => c.Progress.Report(r.Step / (double)total, $"step {r.Step}/{total} loss {r.Loss:F3}", r.Tokens / Math.Max(r.Seconds, 1e-9)),
            Log = text => c.Progress.Report(trainer.State.Step / (double)total, text),
        }, c.Cancel);
        return new TrainingCurve(train, valid, run.Seconds, run.TokensPerSecond, run.Tokens, run.RealTokens, TrainCpu(), points);
    }

    /// <summary><paramref name="curve"/> (a resumed attempt's validation points) preceded by the points that earlier,
    /// interrupted attempts logged to <paramref name="stage"/>'s metrics before it (records <paramref name="mine"/>
    /// picks), so that a figure's curve stays whole.</summary>
    public static List<(int Step, double Loss)> WithEarlier(StageContext c, string stage, Func<JsonObject, bool> mine, IReadOnlyList<(int Step, double Loss)> curve)
    {
        if (curve.Count == 0 || curve[0].Step == 0) return [.. curve];
        var earlier = c.Run.ReadMetrics(stage).Where(m => mine(m) && m["event"] is null && m["step"] is not null && m["valid_loss"] is not null && (int)m["step"]! < curve[0].Step)
            .GroupBy(m => (int)m["step"]!).Select(g => (g.Key, (double)g.Last()["valid_loss"]!)).OrderBy(p => p.Item1);
        return [.. earlier, .. curve];
    }
}
