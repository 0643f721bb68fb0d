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

/// <summary>ablation.json of `experiment ablation`: the table's note and its rows (accuracy in %, rounded as printed).</summary>
public sealed record AblationFile(string Note, IReadOnlyList<AblationFileRow> Rows);

public sealed record AblationFileRow(string Row, bool Parallel, bool Compression, bool Hybrid, string Model, double Accuracy,
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

    public static AblationTable? FromRun(RunDirectory run, IReadOnlyDictionary<string, ModelScores>? eval)
    {
        if (eval is null || run.Result<TeacherResult>() is not { } teacher || !eval.ContainsKey("teacher")) return null;
        double tTeacher = teacher.TrainSeconds;
        double? ratio = PipelineRatio(run.Result<ParallelResult>(), run.Recipe()?.Settings.Teacher.BatchSize);
        var hybrid = run.Result<HybridResult>();
        double? tHybrid = HybridSeconds(hybrid);
        var compression = run.Result<CompressionResult>();
        string? studentNoTarget = compression?.NoTargetStudent;
        string? compressed = compression?.MixedStudent;
        // With hybrid data the final student is the downstream stage's (Eq. 13 after mixed compression), when it ran.
        var downstream = run.Result<DownstreamResult>();
        string? student = downstream is not null ? "student" : compressed;
        double Distil(string? name) => DistilSeconds(run, name) ?? double.NaN;
        double tDownstream = downstream is null ? 0 : downstream.TrainSeconds ?? double.NaN;
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
            if (model is null || eval.GetValueOrDefault(model) is not { } m) continue;
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
            var eval = run.Result<EvalResult>()?.Models
                       ?? throw new InvalidOperationException($"{run.Root}: the eval stage has not finished");
            // "student" is the run's final student: after downstream distillation when that stage ran (compression + hybrid rows).
            string model = comp ? "student" : hyb ? "teacher-hybrid" : "teacher";
            var m = eval.GetValueOrDefault(model) ?? throw new InvalidOperationException($"{run.Root}: no evaluation of '{model}'");
            double teacher = run.Result<TeacherResult>()!.TrainSeconds;
            double hybrid = hyb ? HybridSeconds(run.Result<HybridResult>()) ?? 0 : 0;
            string compressed = run.Result<CompressionResult>()?.MixedStudent ?? "student";
            double distil = comp ? DistilSeconds(run, compressed) ?? 0 : 0;
            double downstream = comp ? run.Result<DownstreamResult>()?.TrainSeconds ?? 0 : 0;
            rows.Add(Row(name, par, comp, hyb, model, m, teacher + hybrid + distil + downstream,
                $"measured: teacher {teacher:0} s{(hyb ? $" + hybrid {hybrid:0} s" : "")}{(comp ? $" + distillation {distil:0} s" : "")}" +
                (downstream > 0 ? $" + downstream distillation {downstream:0} s" : "")));
        }
        return new AblationTable(rows, "Each row is its own run of the recipe (experiment ablation) with the three techniques switched on or off; " +
            "stages whose settings are identical between rows are shared, not retrained (same inputs, same result). Accuracy = mean teacher-forced accuracy of both directions (%).");
    }

    static AblationRow Row(string name, bool par, bool comp, bool hyb, string model, ModelScores m, double seconds, string source) =>
        new(name, par, comp, hyb, model, m.MeanAccuracy, m.Params, m.CheckpointBytes / 1e6, m.DecodeMsPerToken, seconds, source);

    /// <summary>The distillation seconds of one compression student (its part marker), or null.</summary>
    static double? DistilSeconds(RunDirectory run, string? name) =>
        name is null ? null : run.Result<CompressedModel>($"{CompressionResult.Stage}.{name}")?.TrainSeconds;

    /// <summary>Seconds of the hybrid fine-tuning alone (one variant when it also ran the comparisons).</summary>
    static double? HybridSeconds(HybridResult? hybrid)
    {
        if (hybrid is null) return null;
        if (hybrid.TrainSeconds is double t) return t;
        if (hybrid.Figure5?.GetValueOrDefault("hybrid")?.TrainSeconds is double t2) return t2;
        int variants = Math.Max(1, hybrid.Figure5?.Count ?? 1);
        return hybrid.WallSeconds / variants;
    }

    /// <summary>Pipeline / single-process seconds per step at the batch size closest to the teacher's.</summary>
    public static double? PipelineRatio(ParallelResult? parallel, int? batch)
    {
        var rows = parallel?.Rows ?? [];
        var pairs = rows.Where(r => r.Mode == "pipeline-parallel")
            .Select(p => (B: p.Batch, P: p.StepSeconds, S: rows.FirstOrDefault(s => s.Mode == "single" && s.Batch == p.Batch)))
            .Where(x => x.S is not null).ToList();
        if (pairs.Count == 0) return null;
        var best = pairs.OrderBy(x => Math.Abs(x.B - (batch ?? x.B))).First();
        return best.P / best.S!.StepSeconds;
    }

    /// <summary>A table saved by <see cref="ToFile"/> (ablation.json of `experiment ablation`).</summary>
    public static AblationTable FromFile(AblationFile file, string note) => new(file.Rows.Select(r => new AblationRow(
        r.Row, r.Parallel, r.Compression, r.Hybrid, r.Model, r.Accuracy / 100, r.Params, r.Megabytes, r.MsPerToken, r.TrainSeconds, r.TimeSource)).ToList(), note);

    public AblationFile ToFile() => new(Note, Rows.Select(r => new AblationFileRow(r.Name, r.Parallel, r.Compression, r.Hybrid, r.Model,
        Math.Round(100 * r.Accuracy, 2), r.Params, Math.Round(r.Megabytes, 3), r.MsPerToken, Math.Round(r.TrainSeconds, 1), r.TimeSource)).ToList());

    /// <summary>The rows as ablation.json and report.json hold them.</summary>
    public JsonArray ToJson() => StageJson.ToNode(ToFile().Rows)!.AsArray();

    public ReportTable ToReportTable()
    {
        string F(double v, string f) => double.IsFinite(v) ? v.ToString(f, CultureInfo.InvariantCulture) : "–";
        return new ReportTable("Accuracy, size, inference time and training time", ["configuration", "model", "accuracy (%)", "params", "MB", "ms/token", "training s", "training time from"],
            Rows.Select(r => (IReadOnlyList<string>)[r.Name, r.Model, F(100 * r.Accuracy, "0.0"), F(r.Params, "N0"), F(r.Megabytes, "0.00"),
                r.MsPerToken is double ms ? F(ms, "0.00") : "–", F(r.TrainSeconds, "0"), r.TimeSource]).ToArray());
    }
}
