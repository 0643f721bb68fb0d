// The resumable training loop every recipe stage shares: resume from the stage's latest checkpoint,
// step, log loss and throughput to metrics.jsonl, checkpoint every N steps (atomically), stop on Ctrl-C
// at a step boundary so that running the recipe again continues exactly.
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
        bool resumed = false;
        if (TrainingCheckpoint.LatestValid(checkpointDir, text => c.Progress.Report(0, text)) is { } latest)
        {
            TrainingCheckpoint.Restore(trainer, latest);
            resumed = true;
            c.Progress.Report(trainer.State.Step / (double)trainer.Options.Steps, $"resumed at step {trainer.State.Step}");
        }
        // NaN/Inf: roll back to the last checkpoint (or the start) with a lower learning rate; give up after 3 times.
        var guard = new NanGuard(new NanGuardOptions(), checkpointDir, text => c.Run.LogMetric(stage, new JsonObject { ["event"] = "nan_guard", ["message"] = text }));
        guard.Remember(trainer, onDisk: resumed);
        var train = new List<(int, double)>();
        var valid = new List<(int, double)>();
        var points = new List<JsonObject>();
        // Training CPU time carries on across attempts (resume): the last attempt's total is in the metrics.
        double cpuBefore = 0;
        // Earlier attempts of this stage logged their curve already: keep it so the figures are whole.
        foreach (var m in c.Run.ReadMetrics(stage))
        {
            if (m["step"] is null) continue;
            int s = (int)m["step"]!;
            if (s > trainer.State.Step) continue;
            if (m["loss"] is { } l) train.Add((s, (double)l));
            if (m["valid_loss"] is { } v) { valid.Add((s, (double)v)); points.Add(m); }
            if (m["cpu_s"] is { } cs) cpuBefore = Math.Max(cpuBefore, (double)cs);
        }
        var sw = Stopwatch.StartNew();
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var probeCpu = TimeSpan.Zero;
        double TrainCpu() => cpuBefore + (Process.GetCurrentProcess().TotalProcessorTime - cpu0 - probeCpu).TotalSeconds;
        long tokens = 0, real = 0;
        int total = trainer.Options.Steps;
        while (!trainer.Done)
        {
            if (c.Cancel.IsCancellationRequested)
            {
                TrainingCheckpoint.Save(trainer, checkpointDir, tokenizerJson: tokenizerJson);
                c.Cancel.ThrowIfCancellationRequested();
            }
            var r = trainer.Step();
            if (r.NonFinite)
            {
                guard.Recover(trainer, r); // throws NonFiniteTrainingException (the checkpoint stays intact) after too many
                continue;
            }
            tokens += r.Tokens;
            real += r.RealTokens;
            train.Add((r.Step, r.Loss));
            var rec = new JsonObject { ["step"] = r.Step, ["loss"] = Math.Round(r.Loss, 5), ["lr"] = r.Lr, ["grad_norm"] = Math.Round(r.GradNorm, 4) };
            bool last = trainer.Done;
            if (validate is not null && (last || (validEvery > 0 && r.Step % validEvery == 0)))
            {
                double v = validate();
                valid.Add((r.Step, v));
                rec["valid_loss"] = Math.Round(v, 5);
                if (probe is not null)
                {
                    var p0 = Process.GetCurrentProcess().TotalProcessorTime;
                    foreach (var (k, val) in probe()) rec[k] = val?.DeepClone();
                    probeCpu += Process.GetCurrentProcess().TotalProcessorTime - p0;
                }
            }
            double tps = tokens / Math.Max(sw.Elapsed.TotalSeconds, 1e-9);
            rec["tokens_per_s"] = Math.Round(tps);
            rec["real_tokens_per_s"] = Math.Round(real / Math.Max(sw.Elapsed.TotalSeconds, 1e-9));
            rec["real_tokens"] = trainer.State.RealTokensSeen;
            rec["cpu_s"] = Math.Round(TrainCpu(), 1);
            if (rec.ContainsKey("valid_loss")) points.Add((JsonObject)rec.DeepClone());
            if (r.Step % 10 == 0 || last || rec.ContainsKey("valid_loss")) c.Run.LogMetric(stage, rec);
            c.Progress.Report(r.Step / (double)total, $"step {r.Step}/{total} loss {r.Loss:F3}", tps);
            if (last || (checkpointEvery > 0 && r.Step % checkpointEvery == 0))
            {
                TrainingCheckpoint.Save(trainer, checkpointDir, tokenizerJson: tokenizerJson);
                guard.Remember(trainer, onDisk: true);
            }
        }
        return new TrainingCurve(train, valid, sw.Elapsed.TotalSeconds, tokens / Math.Max(sw.Elapsed.TotalSeconds, 1e-9), tokens, real, TrainCpu(), points);
    }

    public static JsonArray ToJson(IEnumerable<(int Step, double Loss)> curve) =>
        new(curve.Select(p => (JsonNode)new JsonArray(p.Step, Math.Round(p.Loss, 5))).ToArray());
}
