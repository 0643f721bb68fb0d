// A run directory: the recipe it ran, the machine it ran on, metrics as JSON lines, one marker
// per finished stage (so a second run continues where the first stopped), and the report.
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using LightGlm.IO;

namespace LightGlm.Experiments;

public sealed class RunDirectory
{
    readonly Training.MetricsLog _metrics;

    public string Root { get; }

    public RunDirectory(string root)
    {
        Root = Path.GetFullPath(root);
        Directory.CreateDirectory(Root);
        Directory.CreateDirectory(StagesDir);
        _metrics = new Training.MetricsLog(MetricsPath, flushToDisk: true);
    }

    string StagesDir => Path.Combine(Root, "stages");
    public string MetricsPath => Path.Combine(Root, "metrics.jsonl");
    public string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    /// <summary>Appends one metrics record (a JSON object per line) with the time and stage; loss.svg/loss.png beside
    /// it follow the latest stage's losses.</summary>
    public void LogMetric(string stage, JsonObject values)
    {
        var rec = new JsonObject { ["time"] = DateTime.UtcNow.ToString("O"), ["stage"] = stage };
        foreach (var (k, v) in values) rec[k] = v?.DeepClone();
        _metrics.Write(rec);
    }

    /// <summary>The records of metrics.jsonl (of one stage, or all); lines cut by a crash mid-write are skipped.</summary>
    public IEnumerable<JsonObject> ReadMetrics(string? stage = null) =>
        File.Exists(MetricsPath) ? Training.MetricsLog.Read(MetricsPath).Where(o => stage is null || (string?)o["stage"] == stage) : [];

    /// <summary>The recipe this run was made with (config.json), or null before the first run.</summary>
    public Recipes.Recipe? Recipe() => File.Exists(PathOf("config.json")) ? Recipes.Recipe.Load(PathOf("config.json")) : null;

    public bool IsStageDone(string stage) => File.Exists(StageMarker(stage));

    /// <summary>A finished stage's marker as JSON, or null (untyped: the runner's bookkeeping; readers use <see cref="Result{T}()"/>).</summary>
    public JsonObject? StageResult(string stage) =>
        IsStageDone(stage) ? JsonNode.Parse(File.ReadAllText(StageMarker(stage))) as JsonObject : null;

    /// <summary>The result of the stage <typeparamref name="T"/> belongs to, or null when it has not finished.</summary>
    public T? Result<T>() where T : class, IStageResult => Result<T>(T.Stage);

    /// <summary>The result recorded under <paramref name="marker"/> (a stage, or a part of one such as "compression.student"), or null.</summary>
    public T? Result<T>(string marker) where T : class =>
        StageResult(marker) is { } json ? StageJson.Read<T>(json, StageMarker(marker)) : null;

    /// <summary>Marks a stage finished with its results; written last, atomically, so a crash before it reruns the stage.</summary>
    public void MarkStageDone(string stage, JsonObject result) =>
        AtomicFile.WriteAllText(StageMarker(stage), result.ToJsonString(StageJson.Options));

    public void MarkStageDone<T>(string stage, T result) where T : class => MarkStageDone(stage, StageJson.ToJson(result));

    /// <summary>Takes over another run's finished stage (its marker and its parts' markers; the files they name stay in that run).</summary>
    public void CopyStageFrom(RunDirectory donor, string stage)
    {
        foreach (var part in Directory.EnumerateFiles(donor.StagesDir, stage + ".*.done.json"))
            AtomicFile.WriteAllText(Path.Combine(StagesDir, Path.GetFileName(part)), File.ReadAllText(part));
        MarkStageDone(stage, StageJson.Merge(donor.StageResult(stage)!, new StageResult { SharedFrom = donor.Root }));
        LogMetric(stage, new JsonObject { ["event"] = "stage_shared", ["from"] = donor.Root });
    }

    /// <summary>Forgets a stage and the parts of it that finished (markers "stage.part").</summary>
    public void ForgetStage(string stage)
    {
        File.Delete(StageMarker(stage));
        foreach (var part in Directory.EnumerateFiles(StagesDir, stage + ".*.done.json")) File.Delete(part);
    }

    string StageMarker(string stage) => Path.Combine(StagesDir, stage + ".done.json");

    /// <summary>Writes machine.json: what ran, where, with which version.</summary>
    public void WriteMachineInfo()
    {
        var info = new JsonObject
        {
            ["lightglm_version"] = typeof(RunDirectory).Assembly.GetName().Version?.ToString(),
            ["git_commit"] = GitCommit(),
            ["dotnet"] = Environment.Version.ToString(),
            ["os"] = RuntimeInformation.OSDescription,
            ["cpu_cores"] = Environment.ProcessorCount,
            ["cpu_model"] = CpuModel(),
            ["memory_gb"] = Math.Round(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1073741824.0, 1),
            ["started"] = DateTime.UtcNow.ToString("O"),
            ["command_line"] = Environment.CommandLine,
        };
        AtomicFile.WriteAllText(PathOf("machine.json"), info.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    static string? CpuModel()
    {
        try
        {
            return File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim();
        }
        catch (IOException) { return null; }
    }

    static string? GitCommit()
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo("git", "rev-parse --short HEAD")
            { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory });
            if (p is null) return null;
            string s = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit(5000);
            return p.ExitCode == 0 ? s : null;
        }
        catch (System.ComponentModel.Win32Exception) { return null; }
    }
}
