// Terminology accuracy: of the glossary terms that occur in a source sentence (and whose glossary
// translation occurs in its reference), the share whose translation also occurs in the system output.
using System.Text;

namespace LightGlm.Evaluation.Metrics;

/// <summary>One glossary entry: an English term and its Chinese translation.</summary>
public readonly record struct GlossaryTerm(string English, string Chinese);

/// <summary>A bilingual glossary read from TSV: <c>english&lt;TAB&gt;chinese</c> per line, '#' comments.</summary>
public sealed class Glossary
{
    public IReadOnlyList<GlossaryTerm> Terms { get; }

    public Glossary(IEnumerable<GlossaryTerm> terms) =>
        Terms = terms.Where(t => t.English.Length > 0 && t.Chinese.Length > 0).Distinct().ToList();

    public static Glossary Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"glossary '{path}' does not exist (expected english<TAB>chinese per line)", path);
        var terms = new List<GlossaryTerm>();
        int lineNo = 0;
        foreach (var raw in File.ReadLines(path, Encoding.UTF8))
        {
            lineNo++;
            var line = raw.TrimEnd('\r');
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var cols = line.Split('\t');
            // The header the corpus builder writes (english, chinese, packages, agreement) is not a term.
            if (lineNo == 1 && cols.Length >= 2 && cols[0] == "english" && cols[1] == "chinese") continue;
            if (cols.Length < 2 || cols[0].Trim().Length == 0 || cols[1].Trim().Length == 0)
                throw new InvalidDataException($"{path}:{lineNo}: expected 'english<TAB>chinese', got '{line}'");
            terms.Add(new GlossaryTerm(cols[0].Trim(), cols[1].Trim()));
        }
        return new Glossary(terms);
    }
}

/// <summary>Hits / checked term occurrences; <see cref="Accuracy"/> is NaN when no term was checked.</summary>
public readonly record struct TermAccuracyResult(int Hits, int Checked)
{
    public double Accuracy => Checked == 0 ? double.NaN : (double)Hits / Checked;
}

public static class TerminologyAccuracy
{
    /// <summary>
    /// For each sentence i and glossary term (s, t) in the translation direction: the term counts when s occurs in
    /// source[i] and t occurs in reference[i] (so the reference agrees with the glossary); it is a hit when t occurs in
    /// hypothesis[i]. English matching is case-insensitive on word boundaries; Chinese matching is substring.
    /// </summary>
    public static TermAccuracyResult Compute(Glossary glossary, bool englishToChinese,
        IReadOnlyList<string> sources, IReadOnlyList<string> hypotheses, IReadOnlyList<string> references)
    {
        if (sources.Count != hypotheses.Count || sources.Count != references.Count)
            throw new ArgumentException($"sources ({sources.Count}), hypotheses ({hypotheses.Count}) and references ({references.Count}) differ in length");
        int hits = 0, total = 0;
        for (int i = 0; i < sources.Count; i++)
            foreach (var term in glossary.Terms)
            {
                var (s, t) = englishToChinese ? (term.English, term.Chinese) : (term.Chinese, term.English);
                if (!Occurs(sources[i], s, !englishToChinese) || !Occurs(references[i], t, englishToChinese)) continue;
                total++;
                if (Occurs(hypotheses[i], t, englishToChinese)) hits++;
            }
        return new TermAccuracyResult(hits, total);
    }

    /// <summary>Does <paramref name="term"/> occur in <paramref name="text"/>? Chinese: substring. English:
    /// case-insensitive, not inside a longer word (neighbours must not be ASCII letters or digits).</summary>
    public static bool Occurs(string text, string term, bool chinese)
    {
        if (chinese) return text.Contains(term, StringComparison.Ordinal);
        int from = 0;
        while (true)
        {
            int at = text.IndexOf(term, from, StringComparison.OrdinalIgnoreCase);
            if (at < 0) return false;
            int end = at + term.Length;
            bool leftOk = at == 0 || !IsWordChar(text[at - 1]) || !IsWordChar(term[0]);
            bool rightOk = end == text.Length || !IsWordChar(text[end]) || !IsWordChar(term[^1]);
            if (leftOk && rightOk) return true;
            from = at + 1;
        }
    }

    static bool IsWordChar(char c) => c < 128 && char.IsAsciiLetterOrDigit(c);
}
