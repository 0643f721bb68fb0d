// metrics.jsonl of a training run: one JSON object per line (steps and events), appended and flushed per line. On
// resume the file is rewritten (atomically) without the lines past the checkpoint, so the curve has no repeated steps.
// Whatever loop writes it, loss.svg/loss.png beside it are redrawn as it grows (Charts/LossCurves.cs).
using System.Text.Json;
using System.Text.Json.Nodes;
using LightGlm.Charts;
using LightGlm.IO;
using LightGlm.Model.Checkpoints;

namespace LightGlm.Training;

public sealed class MetricsLog
{
    readonly string? _path;
    readonly bool _flushToDisk;
    readonly object _lock = new();
    readonly LossCurves.Refresher? _chart;
    static readonly JsonSerializerOptions Json = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>How often, at most, the loss chart is redrawn while records arrive (and always at a run's or stage's end).</summary>
    public static readonly TimeSpan DefaultChartInterval = TimeSpan.FromSeconds(10);

    /// <param name="flushToDisk">fsync every line (a run directory's log, whose lines are few and precious).</param>
    /// <param name="chartInterval">null: <see cref="DefaultChartInterval"/>; <see cref="Timeout.InfiniteTimeSpan"/>: no chart.</param>
    public MetricsLog(string? path, bool flushToDisk = false, TimeSpan? chartInterval = null)
    {
        _path = path;
        _flushToDisk = flushToDisk;
        if (path is not null && chartInterval != Timeout.InfiniteTimeSpan)
            _chart = new LossCurves.Refresher(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!, chartInterval ?? DefaultChartInterval);
    }

    /// <summary>Writes nothing (MPI ranks other than 0, runs without a checkpoint dir or metrics_file).</summary>
    public static MetricsLog None { get; } = new(null);

    public string? Path => _path;

    /// <summary>Appends one record (with the time, unless it has one) and redraws the loss chart when it is due.</summary>
    public void Write(JsonObject record)
    {
        if (_path is null) return;
        record["time"] ??= DateTimeOffset.UtcNow.ToString("O");
        lock (_lock)
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(_path))!);
            using (var f = new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.Read))
            {
                // A line cut by an earlier crash must not swallow this record: start a fresh line.
                string prefix = f.Length > 0 && LastByte(_path) != (byte)'\n' ? "\n" : "";
                f.Write(System.Text.Encoding.UTF8.GetBytes(prefix + record.ToJsonString(Json) + "\n"));
                f.Flush(_flushToDisk);
            }
            _chart?.Written(record, () => Read(_path));
        }
    }

    static int LastByte(string path)
    {
        using var r = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        if (r.Length == 0) return -1;
        r.Seek(-1, SeekOrigin.End);
        return r.ReadByte();
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
        using var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0) continue;
            try { if (JsonNode.Parse(line) is JsonObject o) list.Add(o); }
            catch (JsonException) { }
        }
        return list;
    }
}
