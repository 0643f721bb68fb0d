// Fills the untranslated entries of a gettext .po catalog with machine translations, in place: only the
// msgstr lines (and a "fuzzy" flag) of the filled entries change; every other byte of the file stays.
using System.Text.RegularExpressions;
using LightGlm.Text.Gettext;
using LightGlm.Text.Markup;

namespace LightGlm.Translation;

/// <summary>What a fill did. LeftPlaceholders: entries left untranslated because the model dropped or
/// changed a placeholder (a wrong placeholder crashes programs; an empty msgstr falls back to English).</summary>
public sealed record PoFillReport(int Untranslated, int Filled, int LeftPlaceholders, int LeftEmpty);

public static partial class PoFiller
{
    /// <summary>
    /// Translates every untranslated, non-obsolete message of <paramref name="inPath"/> (en→zh) and writes the
    /// catalog to <paramref name="outPath"/> (temp file + rename; may equal inPath). Per entry: leading/trailing
    /// whitespace and newlines are kept as in the English (msgfmt -c checks them), an accelerator is removed
    /// before translation and put back as "(_K)", placeholders must survive (<see cref="Placeholders.Preserved"/>),
    /// and the entry gets the "fuzzy" flag so a translator reviews it.
    /// </summary>
    public static PoFillReport Fill(string inPath, string outPath, Func<IReadOnlyList<string>, IReadOnlyList<string>> translate)
    {
        var doc = PoDocument.Load(inPath);
        doc.Catalog.RequireUniqueMessages(); // before any translation: filling one of two definitions would hide the conflict
        int nplurals = NPlurals(doc.Catalog.PluralForms);
        var todo = doc.Catalog.Messages.Where(e => e.IsUntranslated).ToList();
        // Each entry needs one text (singular; or msgid_plural when the language has one form, as Chinese) or, with
        // several plural forms, msgid for [0] and msgid_plural for the others.
        var jobs = todo.Select(e => e.IsPlural
            ? (nplurals > 1 ? new[] { e.Id, e.IdPlural! } : [e.IdPlural!])
            : new[] { e.Id }).Select(srcs => srcs.Select(Prepare).ToList()).ToList();
        var toModel = jobs.SelectMany(j => j).Where(p => p.Core.Length > 0).Select(p => p.Core).Distinct().ToList();
        var outputs = toModel.Count == 0 ? [] : translate(toModel);
        var byText = toModel.Zip(outputs).ToDictionary(x => x.First, x => x.Second);

        var replacements = new List<(LineSpan, IReadOnlyList<string>)>();
        int filled = 0, badPh = 0, empty = 0;
        for (int n = 0; n < todo.Count; n++)
        {
            var e = todo[n];
            var texts = new List<string>();
            string? problem = null;
            foreach (var p in jobs[n])
            {
                string core = p.Core.Length == 0 ? "" : byText[p.Core].Trim();
                if (p.Core.Length > 0 && core.Length == 0) { problem = "empty"; break; }
                if (!Placeholders.Preserved(p.Core, core)) { problem = "placeholder"; break; }
                if (p.Accelerator is { } acc) core = Accelerators.ApplyChinese(core, acc);
                texts.Add(p.Lead + core + p.Trail);
            }
            if (problem == "empty") { empty++; continue; }
            if (problem == "placeholder") { badPh++; continue; }
            var msgstr = e.IsPlural
                ? Enumerable.Range(0, Math.Max(1, nplurals)).Select(i => texts[Math.Min(i, texts.Count - 1)]).ToList()
                : texts;
            replacements.Add((e.MsgStrLines, PoString.FormatMsgStr(msgstr, e.IsPlural)));
            if (!e.IsFuzzy) replacements.Add(FuzzyFlag(doc, e));
            filled++;
        }
        doc.Save(outPath, replacements);
        return new PoFillReport(todo.Count, filled, badPh, empty);
    }

    sealed record Prepared(string Lead, string Core, string Trail, Accelerator? Accelerator);

    static Prepared Prepare(string source)
    {
        int a = 0, b = source.Length;
        while (a < b && char.IsWhiteSpace(source[a])) a++;
        while (b > a && char.IsWhiteSpace(source[b - 1])) b--;
        string core = source[a..b];
        var acc = Accelerators.Detect(core);
        if (acc is { } x) core = Accelerators.Strip(core, x);
        return new Prepared(source[..a], core, source[b..], acc);
    }

    /// <summary>Adds "fuzzy" to the entry's "#," line, or inserts "#, fuzzy" before its msgctxt/msgid/"#|" lines.</summary>
    static (LineSpan, IReadOnlyList<string>) FuzzyFlag(PoDocument doc, GettextEntry e)
    {
        for (int i = e.Lines.Start; i < e.Lines.End; i++)
        {
            var line = doc.Lines[i];
            if (line.StartsWith("#,", StringComparison.Ordinal))
            {
                var rest = line[2..].Trim();
                return (new LineSpan(i, i + 1), [rest.Length == 0 ? "#, fuzzy" : "#, fuzzy, " + rest]);
            }
            if (line.StartsWith("#|") || line.StartsWith("msgctxt") || line.StartsWith("msgid"))
                return (new LineSpan(i, i), ["#, fuzzy"]);
        }
        throw new InvalidOperationException($"{doc.Path}: entry at {e.Lines} has no msgid line");
    }

    [GeneratedRegex(@"nplurals\s*=\s*(\d+)")]
    private static partial Regex NPluralsRegex();

    static int NPlurals(string? pluralForms) =>
        pluralForms is not null && NPluralsRegex().Match(pluralForms) is { Success: true } m ? int.Parse(m.Groups[1].Value) : 1;
}
