// Table 5: the eight rows of the ablation (baseline; + parallel training; + mixed compression; + hybrid fine-tuning;
// the pairs; all three) with accuracy, size, inference time and training time. Two sources:
//  - FromRun: one recipe run's measurements composed. Pipeline training computes the same gradients as one process
//    (tests/…/Parallel), so a "+parallel" row has its twin's model and accuracy; its training time is the teacher's
//    measured time × the pipeline/single step-time ratio the parallel stage measured. Said in the table's note.
//  - FromRuns: `experiment ablation`, one real run per row.
using System.Globalization;
using System.Text.Json.Nodes;
using LightGlm.Experiments.Reporting;

namespace LightGlm.Experiments.Stages;

public sealed record AblationRow(string Name, bool Parallel, bool Compression, bool Hybrid, string Model, double Accuracy,
    double Params, double Megabytes, double? MsPerToken, double TrainSeconds, string TimeSource);

public sealed class AblationTable(IReadOnlyList<AblationRow> rows, string note)
{
    public IReadOnlyList<AblationRow> Rows { get; } = rows;
    public string Note { get; } = note;

    /// <summary>The eight (parallel, compression, hybrid) combinations in the paper's order.</summary>
    public static readonly IReadOnlyList<(string Name, bool Parallel, bool Compression, bool Hybrid)> Combinations =
    [
        ("baseline", false, false, false), ("+ parallel training", true, false, false), ("+ mixed compression", false, true, false),
        ("+ hybrid fine-tuning", false, false, true), ("parallel + compression", true, true, false), ("parallel + hybrid", true, false, true),
        ("compression + hybrid", false, true, true), ("LightChatGLM (all three)", true, true, true),
    ];

    public static AblationTable? FromRun(RunDirectory run, JsonObject? eval)
    {
        if (eval is null || run.StageResult("teacher") is not { } teacher || eval["teacher"] is null) return null;
        double tTeacher = (double)teacher["train_seconds"]!;
        double? ratio = PipelineRatio(run.StageResult("parallel"), run.Recipe()?.Settings.Teacher.BatchSize);
        var hybrid = run.StageResult("hybrid");
        double? tHybrid = HybridSeconds(hybrid);
        var tables = run.StageResult("compression")?["tables"] as JsonObject;
        string? studentNoTarget = (string?)tables?["no_target"]?["rows"]?["student"];
        string? compressed = (string?)tables?["mixed"]?["rows"]?["student"];
        // With hybrid data the final student is the downstream stage's (Eq. 13 after mixed compression), when it ran.
        var downstream = run.StageResult("downstream");
        string? student = downstream is not null ? "student" : compressed;
        double Distil(string? name) => (double?)run.StageResult($"compression.{name}")?["train_seconds"] ?? double.NaN;
        double tDownstream = downstream is null ? 0 : (double?)downstream["train_seconds"] ?? double.NaN;
        var rows = new List<AblationRow>();
        foreach (var (name, par, comp, hyb) in Combinations)
        {
            if (par && ratio is null) continue;
            if (hyb && (hybrid is null || tHybrid is null)) continue;
            string? model = (comp, hyb) switch
            {
                (false, false) => "teacher",
                (false, true) => "teacher-hybrid",
                (true, false) => studentNoTarget,
                (true, true) => student,
            };
            if (model is null || eval[model] is not JsonObject m) continue;
            double teacherSeconds = par ? tTeacher * ratio!.Value : tTeacher;
            // The no-target student's teacher was fine-tuned on D_s for as many steps as the hybrid one: count that too.
            bool withDownstream = comp && hyb && downstream is not null;
            string? distilled = comp && hyb ? compressed : model;
            double seconds = teacherSeconds + (hyb || (comp && studentNoTarget == model && hybrid is not null) ? tHybrid ?? 0 : 0) + (comp ? Distil(distilled) : 0) +
                             (withDownstream ? tDownstream : 0);
            string source = (par ? $"teacher {tTeacher:0} s × measured pipeline/single step ratio {ratio:0.00}" : $"teacher {tTeacher:0} s") +
                            (hyb ? $" + hybrid fine-tuning {tHybrid:0} s" : comp && hybrid is not null ? $" + D_s fine-tuning {tHybrid:0} s" : "") +
                            (comp ? $" + distillation {Distil(distilled):0} s" : "") + (withDownstream ? $" + downstream distillation {tDownstream:0} s" : "");
            rows.Add(Row(name, par, comp, hyb, model, m, seconds, source));
        }
        return rows.Count == 0 ? null : new AblationTable(rows,
            "Composed from this run's measurements: pipeline training computes the same gradients as one process (tests/LightGlm.Tests/Parallel), so a '+ parallel' row " +
            "shares its twin's model and accuracy, and its training time is the teacher's measured time scaled by the pipeline/single step-time ratio measured for Figure 3 " +
            "on this machine. `lightglm experiment ablation` trains every row separately instead. Accuracy = mean teacher-forced accuracy of both directions (%); " +
            "ms/token = greedy decoding, batch 1.");
    }

    /// <summary>One row per real run (experiment ablation): the run's final model and the sum of its training stages' times.</summary>
    public static AblationTable FromRuns(IReadOnlyList<(string Name, bool Parallel, bool Compression, bool Hybrid, RunDirectory Run)> runs)
    {
        var rows = new List<AblationRow>();
        foreach (var (name, par, comp, hyb, run) in runs)
        {
            var eval = run.StageResult("eval")?["models"] as JsonObject
                       ?? throw new InvalidOperationException($"{run.Root}: the eval stage has not finished");
            // "student" is the run's final student: after downstream distillation when that stage ran (compression + hybrid rows).
            string model = comp ? "student" : hyb ? "teacher-hybrid" : "teacher";
            var m = eval[model] as JsonObject ?? throw new InvalidOperationException($"{run.Root}: no evaluation of '{model}'");
            double teacher = (double)run.StageResult("teacher")!["train_seconds"]!;
            double hybrid = hyb ? HybridSeconds(run.StageResult("hybrid")) ?? 0 : 0;
            string compressed = (string?)run.StageResult("compression")?["tables"]?["mixed"]?["rows"]?["student"] ?? "student";
            double distil = comp ? (double?)run.StageResult($"compression.{compressed}")?["train_seconds"] ?? 0 : 0;
            double downstream = comp ? (double?)run.StageResult("downstream")?["train_seconds"] ?? 0 : 0;
            rows.Add(Row(name, par, comp, hyb, model, m, teacher + hybrid + distil + downstream,
                $"measured: teacher {teacher:0} s{(hyb ? $" + hybrid {hybrid:0} s" : "")}{(comp ? $" + distillation {distil:0} s" : "")}" +
                (downstream > 0 ? $" + downstream distillation {downstream:0} s" : "")));
        }
        return new AblationTable(rows, "Each row is its own run of the recipe (experiment ablation) with the three techniques switched on or off; " +
            "stages whose settings are identical between rows are shared, not retrained (same inputs, same result). Accuracy = mean teacher-forced accuracy of both directions (%).");
    }

    static AblationRow Row(string name, bool par, bool comp, bool hyb, string model, JsonObject m, double seconds, string source) =>
        new(name, par, comp, hyb, model, ReportStage.AvgAccuracy(m), (double)m["params"]!, (double)m["checkpoint_bytes"]! / 1e6,
            (double?)m["decode_ms_per_token"], seconds, source);

    /// <summary>Seconds of the hybrid fine-tuning alone (one variant when it also ran the comparisons).</summary>
    static double? HybridSeconds(JsonObject? hybrid)
    {
        if (hybrid is null) return null;
        if ((double?)hybrid["train_seconds"] is double t) return t;
        if ((double?)hybrid["figure5"]?["hybrid"]?["train_seconds"] is double t2) return t2;
        int variants = Math.Max(1, (hybrid["figure5"] as JsonObject)?.Count ?? 1);
        return (double?)hybrid["wall_seconds"] / variants;
    }

    /// <summary>Pipeline / single-process seconds per step at the batch size closest to the teacher's.</summary>
    public static double? PipelineRatio(JsonObject? parallel, int? batch)
    {
        var rows = (parallel?["rows"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        var pairs = rows.Where(r => (string?)r["mode"] == "pipeline-parallel")
            .Select(p => (B: (int)p["batch"]!, P: (double)p["step_seconds"]!,
                          S: rows.FirstOrDefault(s => (string?)s["mode"] == "single" && (int)s["batch"]! == (int)p["batch"]!)))
            .Where(x => x.S is not null).ToList();
        if (pairs.Count == 0) return null;
        var best = pairs.OrderBy(x => Math.Abs(x.B - (batch ?? x.B))).First();
        return best.P / (double)best.S!["step_seconds"]!;
    }

    /// <summary>A table written by <see cref="ToJson"/> (ablation.json of `experiment ablation`).</summary>
    public static AblationTable FromJson(JsonArray rows, string note) => new(rows.OfType<JsonObject>().Select(r => new AblationRow(
        (string)r["row"]!, (bool)r["parallel"]!, (bool)r["compression"]!, (bool)r["hybrid"]!, (string)r["model"]!, (double)r["accuracy"]! / 100,
        (double)r["params"]!, (double)r["megabytes"]!, (double?)r["ms_per_token"], (double)r["train_seconds"]!, (string)r["time_source"]!)).ToList(), note);

    public JsonArray ToJson() => new(Rows.Select(r => (JsonNode)new JsonObject
    {
        ["row"] = r.Name, ["parallel"] = r.Parallel, ["compression"] = r.Compression, ["hybrid"] = r.Hybrid, ["model"] = r.Model,
        ["accuracy"] = Math.Round(100 * r.Accuracy, 2), ["params"] = r.Params, ["megabytes"] = Math.Round(r.Megabytes, 3),
        ["ms_per_token"] = r.MsPerToken, ["train_seconds"] = Math.Round(r.TrainSeconds, 1), ["time_source"] = r.TimeSource,
    }).ToArray());

    public ReportTable ToReportTable()
    {
        string F(double v, string f) => double.IsFinite(v) ? v.ToString(f, CultureInfo.InvariantCulture) : "–";
        return new ReportTable("Accuracy, size, inference time and training time", ["configuration", "model", "accuracy (%)", "params", "MB", "ms/token", "training s", "training time from"],
            Rows.Select(r => (IReadOnlyList<string>)[r.Name, r.Model, F(100 * r.Accuracy, "0.0"), F(r.Params, "N0"), F(r.Megabytes, "0.00"),
                r.MsPerToken is double ms ? F(ms, "0.00") : "–", F(r.TrainSeconds, "0"), r.TimeSource]).ToArray());
    }
}
