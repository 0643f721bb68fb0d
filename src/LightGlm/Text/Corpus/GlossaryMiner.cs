// Mines a terminology glossary from the corpus: short terms whose Chinese rendering agrees across packages
// ("Permission denied" -> "权限不够"), used by the terminology-accuracy measure.
using LightGlm.IO;
using LightGlm.Text.Markup;

namespace LightGlm.Text.Corpus;

public sealed record GlossaryEntry(string English, string Chinese, int Packages, double Agreement);

public static class GlossaryMiner
{
    static readonly char[] TrailingPunct = [':', '.', '!', '?', '…', '：', '。', '！', '？', ' ', '，', ','];

    /// <summary>
    /// Candidates: English of 1-4 words, at most 40 characters, letters first, no placeholders; Chinese at most
    /// 16 characters; trailing punctuation removed on both sides. Kept when the most common Chinese form is
    /// used by at least <paramref name="minPackages"/> packages and by at least <paramref name="minAgreement"/>
    /// of the packages that translate the term (one vote per package and form).
    /// </summary>
    public static List<GlossaryEntry> Mine(IEnumerable<(string Package, TranslationPair Pair)> pairs, int minPackages = 2, double minAgreement = 0.6)
    {
        var votes = new Dictionary<string, Dictionary<string, HashSet<string>>>(StringComparer.Ordinal); // key -> zh -> packages
        var surface = new Dictionary<string, Dictionary<string, int>>(StringComparer.Ordinal);            // key -> English form -> count
        foreach (var (pkg, p) in pairs)
        {
            string en = p.English.TrimEnd(TrailingPunct).Replace("...", "").TrimEnd(TrailingPunct);
            string zh = p.Chinese.TrimEnd(TrailingPunct).Replace("...", "").TrimEnd(TrailingPunct);
            if (en.Length is 0 or > 40 || zh.Length is 0 or > 16 || !char.IsAsciiLetter(en[0])) continue;
            if (en.Count(c => c == ' ') > 3 || Placeholders.Extract(en).Count > 0 || en.Any(c => c is '"' or '<' or '>' or '=' or '/' or '\\')) continue;
            if (!PairCleaner.ContainsHan(zh)) continue;
            string key = en.ToLowerInvariant();
            if (!votes.TryGetValue(key, out var byZh)) votes[key] = byZh = new(StringComparer.Ordinal);
            if (!byZh.TryGetValue(zh, out var pk)) byZh[zh] = pk = new(StringComparer.Ordinal);
            pk.Add(pkg);
            if (!surface.TryGetValue(key, out var forms)) surface[key] = forms = new(StringComparer.Ordinal);
            forms[en] = forms.GetValueOrDefault(en) + 1;
        }
        var result = new List<GlossaryEntry>();
        foreach (var (key, byZh) in votes)
        {
            var best = byZh.OrderByDescending(kv => kv.Value.Count).ThenBy(kv => kv.Key, StringComparer.Ordinal).First();
            int total = byZh.Values.Sum(s => s.Count);
            double agreement = (double)best.Value.Count / total;
            if (best.Value.Count < minPackages || agreement < minAgreement) continue;
            string en = surface[key].OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).First().Key;
            result.Add(new GlossaryEntry(en, best.Key, best.Value.Count, Math.Round(agreement, 3)));
        }
        result.Sort((a, b) => b.Packages != a.Packages ? b.Packages.CompareTo(a.Packages) : string.CompareOrdinal(a.English, b.English));
        return result;
    }

    public static void Write(string path, IEnumerable<GlossaryEntry> entries) =>
        AtomicFile.WriteText(path, w =>
        {
            w.Write("english\tchinese\tpackages\tagreement\n");
            foreach (var e in entries)
                w.Write($"{e.English}\t{e.Chinese}\t{e.Packages}\t{e.Agreement.ToString(System.Globalization.CultureInfo.InvariantCulture)}\n");
        });

    public static List<GlossaryEntry> Read(string path) =>
        ParallelCorpus.ReadLines(path).Skip(1).Where(l => l.Length > 0).Select((l, i) =>
        {
            var f = l.Split('\t');
            if (f.Length != 4) throw new InvalidDataException($"{path}:{i + 2}: expected english<TAB>chinese<TAB>packages<TAB>agreement.");
            return new GlossaryEntry(f[0], f[1], int.Parse(f[2]), double.Parse(f[3], System.Globalization.CultureInfo.InvariantCulture));
        }).ToList();
}
