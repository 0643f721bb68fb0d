// Placeholders of computer-language messages (printf %s/%1$d/%-5.2f, Python %(name)s, {0}/{name},
// ${VAR}, $VAR) and the check a translation must pass: every placeholder of the source kept.
using System.Text.RegularExpressions;

namespace LightGlm.Translation;

public static partial class Placeholders
{
    // Order matters: %% is an escaped percent (not a placeholder), %(name)s before plain printf. The printf
    // space flag is left out on purpose: "50% of" is prose far more often than a "% o" directive.
    [GeneratedRegex(@"%%|%\([A-Za-z_][A-Za-z0-9_]*\)[-+#0]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]|%(?:\d+\$)?[-+#0']*(?:\d+|\*)?(?:\.(?:\d+|\*))?(?:hh|h|ll|l|L|q|j|z|Z|t)?[diouxXeEfFgGaAcspn]|\$\{[A-Za-z_][A-Za-z0-9_]*\}|\$[A-Za-z_][A-Za-z0-9_]*|\{[A-Za-z0-9_]*(?:[:!][^{}]*)?\}|<[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>|</[A-Za-z][A-Za-z0-9]*>", RegexOptions.CultureInvariant)]
    private static partial Regex PlaceholderRegex();

    /// <summary>The placeholders of <paramref name="text"/> in order of appearance (<c>%%</c> excluded).</summary>
    public static List<string> Extract(string text)
    {
        var list = new List<string>();
        foreach (Match m in PlaceholderRegex().Matches(text))
            if (m.Value != "%%") list.Add(m.Value);
        return list;
    }

    /// <summary>True when <paramref name="translation"/> keeps every placeholder of <paramref name="source"/>
    /// (as a multiset) and adds none; unnumbered printf directives (%s, %d …) must also keep their order,
    /// because msgfmt -c checks c-format arguments by position.</summary>
    public static bool Preserved(string source, string translation)
    {
        var s = Extract(source);
        var t = Extract(translation);
        if (s.Count != t.Count) return false;
        if (!s.Order(StringComparer.Ordinal).SequenceEqual(t.Order(StringComparer.Ordinal), StringComparer.Ordinal)) return false;
        var sPos = s.Where(IsSequentialPrintf).ToList();
        var tPos = t.Where(IsSequentialPrintf).ToList();
        return sPos.SequenceEqual(tPos, StringComparer.Ordinal);
    }

    /// <summary>Placeholders of the source that the translation lacks (for messages).</summary>
    public static List<string> Missing(string source, string translation)
    {
        var t = Extract(translation);
        var missing = new List<string>();
        foreach (var p in Extract(source))
            if (!t.Remove(p)) missing.Add(p);
        return missing;
    }

    static bool IsSequentialPrintf(string p) => p.StartsWith('%') && !p.StartsWith("%(") && !Regex.IsMatch(p, @"^%\d+\$");
}
