// Readers for the parallel corpora of the paper's Table 1, so users can bring their own data:
// WMT (.sgm pairs and tab-separated), UM-Corpus (alternating English/Chinese lines), AI Challenger (aligned
// .en/.zh files), IWSLT (xml with <seg> tags, or train.tags), TSV and JSONL. Every error names file:line and what to do.
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace LightGlm.Text.Corpus;

public enum ParallelFormat { Tsv, WmtTsv, WmtSgm, UmCorpus, AiChallenger, IwsltXml, IwsltTags, Jsonl }

/// <summary>Where the pairs come from: one file (<see cref="Path"/>) or an English/Chinese file pair.</summary>
public sealed record ParallelSource(ParallelFormat Format, string Path, string? ChinesePath = null)
{
    /// <summary>For one-file TSV formats: the Chinese text is in the first column (default: English first).</summary>
    public bool ChineseFirst { get; init; }
    /// <summary>JSONL keys of the two sides (also looked up inside a "translation" object, as Hugging Face datasets write them).</summary>
    public string EnglishKey { get; init; } = "en";
    public string ChineseKey { get; init; } = "zh";

    public static readonly IReadOnlyDictionary<string, ParallelFormat> Names = new Dictionary<string, ParallelFormat>
    {
        ["tsv"] = ParallelFormat.Tsv, ["wmt-tsv"] = ParallelFormat.WmtTsv, ["wmt-sgm"] = ParallelFormat.WmtSgm,
        ["um-corpus"] = ParallelFormat.UmCorpus, ["ai-challenger"] = ParallelFormat.AiChallenger,
        ["iwslt-xml"] = ParallelFormat.IwsltXml, ["iwslt-tags"] = ParallelFormat.IwsltTags, ["jsonl"] = ParallelFormat.Jsonl,
    };

    /// <summary>Formats that need an English file and a Chinese file.</summary>
    public static bool IsTwoFile(ParallelFormat f) => f is ParallelFormat.WmtSgm or ParallelFormat.AiChallenger or ParallelFormat.IwsltXml or ParallelFormat.IwsltTags;
}

public static class ParallelFormats
{
    /// <summary>Reads all pairs. Pairs with an empty side are skipped and counted in <paramref name="skipped"/> (WMT news-commentary has many).</summary>
    public static List<TranslationPair> Read(ParallelSource src, out int skipped)
    {
        bool two = ParallelSource.IsTwoFile(src.Format);
        if (two && src.ChinesePath is null)
            throw new ArgumentException($"format {src.Format} reads an English file and a Chinese file; give both (--en FILE --zh FILE).");
        if (!two && src.ChinesePath is not null)
            throw new ArgumentException($"format {src.Format} reads one file holding both languages; give only --input.");
        foreach (var p in new[] { src.Path, src.ChinesePath })
            if (p is not null && !File.Exists(p)) throw new FileNotFoundException($"{p}: no such file.", p);
        var raw = src.Format switch
        {
            ParallelFormat.Tsv or ParallelFormat.WmtTsv => ReadTwoColumns(src.Path, src.ChineseFirst, strict: src.Format == ParallelFormat.Tsv),
            ParallelFormat.UmCorpus => ReadAlternating(src.Path),
            ParallelFormat.AiChallenger => ReadAligned(src.Path, src.ChinesePath!, l => l),
            ParallelFormat.IwsltTags => ReadAligned(src.Path, src.ChinesePath!, l => l.TrimStart().StartsWith('<') ? null : l),
            ParallelFormat.WmtSgm or ParallelFormat.IwsltXml => ReadSegmentFiles(src.Path, src.ChinesePath!),
            ParallelFormat.Jsonl => ReadJsonl(src.Path, src.EnglishKey, src.ChineseKey),
            _ => throw new ArgumentOutOfRangeException(nameof(src)),
        };
        var pairs = new List<TranslationPair>(raw.Count);
        skipped = 0;
        foreach (var p in raw)
        {
            var en = p.English.Trim(); var zh = p.Chinese.Trim();
            if (en.Length == 0 || zh.Length == 0) { skipped++; continue; }
            pairs.Add(new TranslationPair(en, zh));
        }
        return pairs;
    }

    /// <summary>english&lt;TAB&gt;chinese (or the reverse). Strict: exactly two columns. WMT: extra columns (scores, ids) are ignored.</summary>
    static List<TranslationPair> ReadTwoColumns(string path, bool chineseFirst, bool strict)
    {
        var pairs = new List<TranslationPair>();
        int n = 0;
        foreach (var line in ParallelCorpus.ReadLines(path))
        {
            n++;
            if (line.Length == 0) continue;
            var cols = line.Split('\t');
            if (cols.Length < 2 || (strict && cols.Length > 2))
                throw new InvalidDataException($"{path}:{n}: expected {(strict ? "exactly" : "at least")} 2 TAB-separated columns ({(chineseFirst ? "chinese<TAB>english" : "english<TAB>chinese")}), found {cols.Length}. Fix the line{(strict ? " or read the file with --format wmt-tsv to ignore extra columns" : "")}.");
            pairs.Add(chineseFirst ? new(cols[1], cols[0]) : new(cols[0], cols[1]));
        }
        return pairs;
    }

    /// <summary>UM-Corpus: an English line, then its Chinese line, and so on. A Chinese-looking English line means the alternation broke.</summary>
    static List<TranslationPair> ReadAlternating(string path)
    {
        var lines = ParallelCorpus.ReadLines(path).ToList();
        while (lines.Count > 0 && lines[^1].Trim().Length == 0) lines.RemoveAt(lines.Count - 1);
        if (lines.Count % 2 != 0)
            throw new InvalidDataException($"{path}: {lines.Count} lines, an odd number: UM-Corpus files alternate English and Chinese lines, so one is missing or extra. Find it (the error for line pairs that look swapped points near it) and fix the file.");
        var pairs = new List<TranslationPair>(lines.Count / 2);
        for (int i = 0; i < lines.Count; i += 2)
        {
            if (HasHan(lines[i]) && !HasHan(lines[i + 1]) && HasLatin(lines[i + 1]))
                throw new InvalidDataException($"{path}:{i + 1}: this line looks Chinese and line {i + 2} English, but UM-Corpus files alternate English (odd lines) then Chinese (even lines): a line is missing or extra before line {i + 1}.");
            pairs.Add(new TranslationPair(lines[i], lines[i + 1]));
        }
        return pairs;
    }

    /// <summary>Two files aligned line by line (AI Challenger train.en/train.zh; IWSLT train.tags with its &lt;tag&gt; lines dropped by <paramref name="keep"/>).</summary>
    static List<TranslationPair> ReadAligned(string enPath, string zhPath, Func<string, string?> keep)
    {
        var en = ParallelCorpus.ReadLines(enPath).Select(keep).Where(l => l is not null).ToList();
        var zh = ParallelCorpus.ReadLines(zhPath).Select(keep).Where(l => l is not null).ToList();
        if (en.Count != zh.Count)
            throw new InvalidDataException($"{enPath} has {en.Count} text lines but {zhPath} has {zh.Count}: the files must be aligned line by line. Check that they are the two sides of the same set (and that neither was cut short).");
        return [.. en.Zip(zh, (e, z) => new TranslationPair(e!, z!))];
    }

    static readonly Regex DocRx = new(@"<doc\s[^>]*docid\s*=\s*""([^""]*)""", RegexOptions.Compiled | RegexOptions.IgnoreCase);
    static readonly Regex SegRx = new(@"<seg\s[^>]*id\s*=\s*""?([^"">\s]+)""?[^>]*>(.*?)</seg>", RegexOptions.Compiled | RegexOptions.IgnoreCase);

    /// <summary>WMT .sgm / IWSLT .xml: &lt;doc docid="…"&gt; … &lt;seg id="N"&gt;text&lt;/seg&gt;; the two files are paired by (docid, seg id).</summary>
    static List<TranslationPair> ReadSegmentFiles(string enPath, string zhPath)
    {
        var en = ReadSegments(enPath);
        var zh = ReadSegments(zhPath);
        var zhByKey = new Dictionary<(string, string), string>();
        foreach (var s in zh) zhByKey[(s.Doc, s.Id)] = s.Text;
        var pairs = new List<TranslationPair>(en.Count);
        foreach (var s in en)
        {
            if (!zhByKey.Remove((s.Doc, s.Id), out var z))
                throw new InvalidDataException($"{enPath}:{s.Line}: segment doc \"{s.Doc}\" seg {s.Id} has no segment with the same doc and id in {zhPath}. Are they the source and reference of the same test set?");
            pairs.Add(new TranslationPair(s.Text, z));
        }
        if (zhByKey.Count > 0)
        {
            var (doc, id) = zhByKey.Keys.First();
            throw new InvalidDataException($"{zhPath}: {zhByKey.Count} segment(s) have no English counterpart in {enPath}, e.g. doc \"{doc}\" seg {id}. Are they the two sides of the same test set?");
        }
        return pairs;
    }

    static List<(string Doc, string Id, string Text, int Line)> ReadSegments(string path)
    {
        var segs = new List<(string, string, string, int)>();
        var seen = new HashSet<(string, string)>();
        string doc = "";
        int n = 0;
        foreach (var line in ParallelCorpus.ReadLines(path))
        {
            n++;
            if (DocRx.Match(line) is { Success: true } d) doc = d.Groups[1].Value;
            int at = line.IndexOf("<seg", StringComparison.OrdinalIgnoreCase);
            if (at < 0) continue;
            var m = SegRx.Match(line, at);
            if (!m.Success)
                throw new InvalidDataException($"{path}:{n}: a <seg> tag without an id=\"…\" or without its closing </seg> on the same line. Each segment must be one line: <seg id=\"1\">text</seg>.");
            string id = m.Groups[1].Value;
            if (!seen.Add((doc, id)))
                throw new InvalidDataException($"{path}:{n}: segment id {id} appears twice in doc \"{doc}\"; ids must be unique within a document.");
            segs.Add((doc, id, WebUtility.HtmlDecode(m.Groups[2].Value), n));
        }
        if (segs.Count == 0)
            throw new InvalidDataException($"{path}: no <seg id=\"…\">…</seg> lines found; is this a WMT .sgm or IWSLT .xml file? (Plain line-aligned files are read with --format ai-challenger.)");
        return segs;
    }

    /// <summary>JSONL: one object a line with string fields en/zh (keys configurable), at top level or under "translation".</summary>
    static List<TranslationPair> ReadJsonl(string path, string enKey, string zhKey)
    {
        var pairs = new List<TranslationPair>();
        int n = 0;
        foreach (var line in ParallelCorpus.ReadLines(path))
        {
            n++;
            if (line.Trim().Length == 0) continue;
            JsonElement root;
            try { using var doc = JsonDocument.Parse(line, new JsonDocumentOptions { MaxDepth = 16 }); root = doc.RootElement.Clone(); }
            catch (JsonException e) { throw new InvalidDataException($"{path}:{n}: not valid JSON ({e.Message}). Each line must be one JSON object such as {{\"{enKey}\": \"…\", \"{zhKey}\": \"…\"}}."); }
            if (root.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{path}:{n}: a JSON {root.ValueKind} where an object {{\"{enKey}\": \"…\", \"{zhKey}\": \"…\"}} was expected.");
            var obj = root.TryGetProperty("translation", out var t) && t.ValueKind == JsonValueKind.Object ? t : root;
            pairs.Add(new TranslationPair(Field(obj, enKey, path, n), Field(obj, zhKey, path, n)));
        }
        return pairs;
    }

    static string Field(JsonElement obj, string key, string path, int line) =>
        !obj.TryGetProperty(key, out var v)
            ? throw new InvalidDataException($"{path}:{line}: the object has no \"{key}\" field (it has: {string.Join(", ", obj.EnumerateObject().Select(p => p.Name).Take(8))}). Name the fields with --en-key/--zh-key.")
            : v.ValueKind == JsonValueKind.String ? v.GetString()!
            : throw new InvalidDataException($"{path}:{line}: field \"{key}\" is a JSON {v.ValueKind}, not a string.");

    static bool HasHan(string s)
    {
        foreach (var r in s.EnumerateRunes())
            if (r.Value is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2FA1F) return true;
        return false;
    }

    static bool HasLatin(string s) => s.Any(c => c is >= 'a' and <= 'z' or >= 'A' and <= 'Z');
}
