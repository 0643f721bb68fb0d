// stats.json of a built corpus: packages (version, sha256, catalogs, pairs per split), splits (pairs,
// characters per language), what each cleaning rule dropped, glossary and monolingual sizes. No timestamps.
using System.Text.Json;
using LightGlm.IO;

namespace LightGlm.Text.Corpus;

public sealed class PackageStats
{
    public required string Name { get; init; }
    public required string Version { get; init; }
    public required string Sha256 { get; init; }
    public int Catalogs { get; init; }
    public int Messages { get; set; }
    public int Pairs { get; set; }
    public int[] PerSplit { get; } = new int[3];
    /// <summary>Held out of train/dev/test: its pairs went to unseen.tsv.</summary>
    public bool Holdout { get; init; }
    public int Unseen { get; set; }
    /// <summary>Held-out pairs dropped because their English is in the training split.</summary>
    public int UnseenInTrain { get; set; }
    public List<string> Errors { get; } = [];
}

/// <summary>unseen.tsv's pairs and how many held-out pairs were dropped for having their English in train.</summary>
/// <summary>Pairs = the held-out pairs whose English is not in train; All = every held-out pair (a new package as it comes,
/// strings it shares with known software included: what a translation memory is measured on).</summary>
public sealed record UnseenSplit(List<TranslationPair> Pairs, int InTrain, List<TranslationPair> All);

public static class CorpusStats
{
    public static void Write(string path, CorpusOptions o, List<PackageStats> packages, List<TranslationPair>[] splits,
        UnseenSplit unseen, IDictionary<string, int> dropped, int pairs, int glossary, MonoStats? en, MonoStats? zh)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("source", o.FromDir is null ? "packages" : "from-dir");
            w.WriteString("ratios", FormattableString.Invariant($"{o.Ratios.Train}/{o.Ratios.Dev}/{o.Ratios.Test}"));
            w.WriteNumber("pairs", pairs);
            w.WriteNumber("messages", packages.Sum(p => p.Messages));
            w.WriteNumber("glossary_terms", glossary);
            w.WriteStartObject("splits");
            string[] names = ["train", "dev", "test"];
            for (int s = 0; s < 3; s++)
            {
                w.WriteStartObject(names[s]);
                w.WriteNumber("pairs", splits[s].Count);
                w.WriteNumber("english_chars", splits[s].Sum(p => (long)p.English.Length));
                w.WriteNumber("chinese_chars", splits[s].Sum(p => (long)p.Chinese.Length));
                w.WriteEndObject();
            }
            w.WriteEndObject();
            // Kept apart from "splits" (train/dev/test partition the pool; unseen is another pool).
            w.WriteStartObject("unseen");
            w.WriteStartArray("packages");
            foreach (var p in packages.Where(p => p.Holdout)) w.WriteStringValue(p.Name);
            w.WriteEndArray();
            w.WriteNumber("pairs", unseen.Pairs.Count);
            w.WriteNumber("dropped_in_train", unseen.InTrain);
            w.WriteNumber("english_chars", unseen.Pairs.Sum(p => (long)p.English.Length));
            w.WriteNumber("chinese_chars", unseen.Pairs.Sum(p => (long)p.Chinese.Length));
            w.WriteEndObject();
            w.WriteStartObject("dropped");
            foreach (var (k, v) in dropped.OrderBy(kv => kv.Key, StringComparer.Ordinal)) w.WriteNumber(k, v);
            w.WriteEndObject();
            w.WriteStartArray("packages");
            foreach (var p in packages)
            {
                w.WriteStartObject();
                w.WriteString("name", p.Name);
                w.WriteString("version", p.Version);
                w.WriteString("sha256", p.Sha256);
                w.WriteNumber("catalogs", p.Catalogs);
                w.WriteNumber("messages", p.Messages);
                w.WriteNumber("pairs", p.Pairs);
                w.WriteNumber("train", p.PerSplit[0]);
                w.WriteNumber("dev", p.PerSplit[1]);
                w.WriteNumber("test", p.PerSplit[2]);
                if (p.Holdout)
                {
                    w.WriteBoolean("holdout", true);
                    w.WriteNumber("unseen", p.Unseen);
                    w.WriteNumber("unseen_dropped_in_train", p.UnseenInTrain);
                }
                if (p.Errors.Count > 0)
                {
                    w.WriteStartArray("errors");
                    foreach (var e in p.Errors) w.WriteStringValue(e);
                    w.WriteEndArray();
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            foreach (var (name, m) in new[] { ("mono_en", en), ("mono_zh", zh) })
            {
                if (m is null) continue;
                w.WriteStartObject(name);
                if (m.Package is not null) w.WriteString("package", m.Package);
                if (m.Sha256 is not null) w.WriteString("sha256", m.Sha256);
                w.WriteNumber("pages", m.Pages);
                w.WriteNumber("skipped_pages", m.Skipped);
                w.WriteNumber("lines", m.Lines);
                w.WriteNumber("chars", m.Characters);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        AtomicFile.WriteText(path, tw => tw.Write(System.Text.Encoding.UTF8.GetString(ms.ToArray()) + "\n"));
    }
}
