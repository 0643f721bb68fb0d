// metrics.jsonl of a training run: one JSON object per line (steps and events), appended and flushed per line. On
// resume the file is rewritten (atomically) without the lines past the checkpoint, so the curve has no repeated steps.
using System.Text.Json;
using System.Text.Json.Nodes;
using LightGlm.IO;
using LightGlm.Model.Checkpoints;

namespace LightGlm.Training;

public sealed class MetricsLog
{
    readonly string? _path;
    static readonly JsonSerializerOptions Json = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public MetricsLog(string? path) => _path = path;

    /// <summary>Writes nothing (MPI ranks other than 0, runs without a checkpoint dir or metrics_file).</summary>
    public static MetricsLog None { get; } = new(null);

    public string? Path => _path;

    public void Write(JsonObject record)
    {
        if (_path is null) return;
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(_path)!);
        record["time"] ??= DateTimeOffset.UtcNow.ToString("O");
        using var f = new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.Read);
        var bytes = System.Text.Encoding.UTF8.GetBytes(record.ToJsonString(Json) + "\n");
        f.Write(bytes);
        f.Flush(flushToDisk: false);
    }

    /// <summary>Keeps only whole lines of steps ≤ <paramref name="step"/> (a killed run may have left a torn last line
    /// and steps after its last checkpoint, which the resumed run will redo).</summary>
    public void Resume(int step)
    {
        if (_path is null || !File.Exists(_path)) return;
        var keep = Read(_path).Where(r => r["step"] is not { } s || (int)s <= step).Select(r => r.ToJsonString(Json) + "\n");
        AtomicFile.WriteAllText(_path, string.Concat(keep));
    }

    /// <summary>The records of a metrics file; torn or malformed lines are skipped.</summary>
    public static List<JsonObject> Read(string path)
    {
        var list = new List<JsonObject>();
        foreach (var line in File.ReadLines(path))
        {
            try { if (JsonNode.Parse(line) is JsonObject o) list.Add(o); }
            catch (JsonException) { }
        }
        return list;
    }
}
