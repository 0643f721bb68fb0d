// The loss curves of a training run, drawn from its metrics.jsonl records: loss.svg and loss.png beside the file,
// redrawn while it runs (at most once per interval, and always at a run's or a stage's end) so a user can open them.
using System.Text.Json.Nodes;

namespace LightGlm.Charts;

public static class LossCurves
{
    public const string SvgName = "loss.svg", PngName = "loss.png";

    /// <summary>Records that end a run or a stage: the chart is redrawn at once, whatever the interval.</summary>
    static readonly HashSet<string> FinalEvents = ["end", "stage_done"];

    /// <summary>Every numeric field named "loss" or "*_loss" (train, valid, distill, target/source dev loss) of the
    /// records of the latest stage that logged one, as one series per (model or variant, field) over "step".
    /// Null when there is nothing to draw yet.</summary>
    public static ChartImage? Draw(IReadOnlyList<JsonObject> records)
    {
        static bool IsLoss(string key) => key == "loss" || key.EndsWith("_loss", StringComparison.Ordinal);
        static double? Number(JsonNode? n) => n is JsonValue v && v.TryGetValue<double>(out var d) && double.IsFinite(d) ? d : null;
        var rows = records.Where(r => Number(r["step"]) is not null && r.Any(kv => IsLoss(kv.Key) && Number(kv.Value) is not null)).ToList();
        if (rows.Count == 0) return null;
        string? stage = (string?)rows[^1]["stage"];
        var series = new Dictionary<string, SortedDictionary<double, double>>();
        foreach (var r in rows.Where(r => (string?)r["stage"] == stage))
        {
            string who = (string?)r["model"] ?? (string?)r["variant"] ?? "";
            foreach (var (key, value) in r)
                if (IsLoss(key) && Number(value) is { } y)
                {
                    string name = who.Length > 0 ? $"{who} {key}" : key;
                    if (!series.TryGetValue(name, out var points)) series[name] = points = new();
                    points[Number(r["step"])!.Value] = y; // a resumed run logs a step again: the later value wins
                }
        }
        string title = stage is null ? "Training loss" : $"Training loss: {stage}";
        return Chart.Line(title, "step", "loss", series.Select(kv => new ChartSeries(kv.Key, kv.Value.Keys.ToArray(), kv.Value.Values.ToArray())).ToArray());
    }

    /// <summary>Redraws loss.svg/loss.png in one directory when records arrive: at most once per <c>interval</c> (the first
    /// time one interval after it was made), and at once for the end of a run or stage. Drawing costs ~30-40 MB of RSS
    /// (SkiaSharp, fonts), so a run shorter than the interval draws only after its end record, whose peak RSS is taken first. A chart that cannot be drawn (no native Skia library, say) never stops training:
    /// the first failure is reported on stderr and the chart is not tried again.</summary>
    public sealed class Refresher(string dir, TimeSpan interval)
    {
        readonly object _lock = new();
        DateTime _last = DateTime.UtcNow;
        bool _pending, _broken;

        /// <summary>Call after <paramref name="record"/> was appended to the metrics file; <paramref name="readAll"/> reads
        /// every record of it back.</summary>
        public void Written(JsonObject record, Func<IReadOnlyList<JsonObject>> readAll)
        {
            bool final = record["event"] is JsonValue e && e.TryGetValue<string>(out var ev) && FinalEvents.Contains(ev);
            bool drawable = record.Any(kv => kv.Key == "loss" || kv.Key.EndsWith("_loss", StringComparison.Ordinal));
            lock (_lock)
            {
                if (_broken) return;
                _pending |= drawable;
                if (!_pending || (!final && DateTime.UtcNow - _last < interval)) return;
                _last = DateTime.UtcNow;
                _pending = false;
                try { Draw(readAll())?.Save(Path.Combine(dir, SvgName)); }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    _broken = true;
                    Console.Error.WriteLine($"warning: could not draw {Path.Combine(dir, SvgName)} ({ex.GetType().Name}: {ex.Message}); training goes on without it");
                }
            }
        }
    }
}
