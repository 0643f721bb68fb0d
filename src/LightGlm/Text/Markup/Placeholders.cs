// The one placeholder grammar of computer-language messages (printf `%s` `%1$s` `%<PRIuMAX>` `%m`, Python `%(name)s`,
// brace `{0}` `{name}`, shell `$VAR` `${VAR}`, markup tags `<b>`…`</b>`), used by the corpus cleaner to keep a pair
// and by the translator to accept an output: one rule, so what training shows is what translation checks.
using System.Text.RegularExpressions;

namespace LightGlm.Text.Markup;

public static partial class Placeholders
{
    // Order matters: %% is an escaped percent (not a placeholder); %(name)s before plain printf; printf before tags so
    // that %<PRIuMAX> (gettext's system-dependent directive) is one printf placeholder. The printf space flag is left
    // out on purpose: "50% of" is prose far more often than a "% o" directive. A '$' inside an ASCII word ("lbr$set_module")
    // starts no variable; after a Chinese character it does ("启用$cfg"). A tag never spans a '%', so "<string table index: %3ld>" yields its %3ld.
    [GeneratedRegex(@"%%" +
        @"|%\(\w+\)[-+#0]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]" +
        @"|%(?:(?<pos>\d+)\$)?[-+#0']*(?:\d+|\*)?(?:\.(?:\d+|\*))?(?:hh|h|ll|l|L|q|j|z|Z|t|I)?(?:[diouxXeEfFgGaAcspnmC]|<PRI\w+>)" +
        @"|(?<![A-Za-z0-9_$])\$\{[A-Za-z_][A-Za-z0-9_]*\}|(?<![A-Za-z0-9_$])\$[A-Za-z_][A-Za-z0-9_]*" +
        @"|\{\w*(?:[:!][^{}]*)?\}" +
        @"|<(?<close>/)?(?<tag>[A-Za-z][A-Za-z0-9]*)(?<rest>\s[^<>%]*?)?(?<self>/)?>", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    static readonly HashSet<string> VoidElements = new(["br", "hr", "img", "wbr"], StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The placeholders of <paramref name="text"/> in order of appearance (<c>%%</c> excluded). A
    /// <c>&lt;word …&gt;</c> is markup only when it is closed in the same text, self-closing, has attributes
    /// (<c>name=</c>) or is a void element (<c>&lt;br&gt;</c>); otherwise it is a metavariable that translators translate
    /// (git's "&lt;pathspec&gt;" → "&lt;路径规格&gt;", e2fsck's "&lt;The journal inode&gt;"), not a placeholder.
    /// </summary>
    public static List<string> Extract(string text)
    {
        var list = new List<string>();
        if (text.AsSpan().IndexOfAny("%{$<") < 0) return list;
        foreach (Match m in Pattern().Matches(text))
        {
            if (m.Value == "%%") continue;
            if (m.Groups["tag"].Success && !IsMarkup(text, m)) continue;
            list.Add(m.Value);
        }
        return list;
    }

    static bool IsMarkup(string text, Match m) =>
        m.Groups["close"].Success || m.Groups["self"].Success || m.Groups["rest"].Value.Contains('=')
        || VoidElements.Contains(m.Groups["tag"].Value)
        || text.Contains("</" + m.Groups["tag"].Value + ">", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// True when <paramref name="translation"/> carries the placeholders of <paramref name="source"/> and no others:
    /// the same multiset once printf positions are dropped ("%2$s" counts as "%s": translations reorder arguments), and
    /// the same printf conversion for every argument (unnumbered directives take arguments in order of appearance,
    /// numbered ones by number), which is what msgfmt -c checks for c-format. So "%s of %d" → "%2$d 的 %1$s" passes and
    /// "%s of %d" → "%d 的 %s" does not.
    /// </summary>
    public static bool Preserved(string source, string translation)
    {
        var s = Extract(source);
        var t = Extract(translation);
        if (s.Count != t.Count) return false;
        if (!s.Select(Canonical).Order(StringComparer.Ordinal).SequenceEqual(t.Select(Canonical).Order(StringComparer.Ordinal), StringComparer.Ordinal)) return false;
        return PrintfArguments(s).SequenceEqual(PrintfArguments(t), StringComparer.Ordinal);
    }

    /// <summary>Placeholders of the source that the translation lacks (for messages), compared as in <see cref="Preserved"/>.</summary>
    public static List<string> Missing(string source, string translation)
    {
        var t = Extract(translation).Select(Canonical).ToList();
        var missing = new List<string>();
        foreach (var p in Extract(source))
            if (!t.Remove(Canonical(p))) missing.Add(p);
        return missing;
    }

    /// <summary>A placeholder without its printf position: "%2$s" → "%s"; anything else unchanged.</summary>
    public static string Canonical(string p) =>
        IsPrintf(p) && Position(p) is not null ? "%" + p[(p.IndexOf('$') + 1)..] : p;

    static bool IsPrintf(string p) => p.StartsWith('%') && !p.StartsWith("%(", StringComparison.Ordinal);

    static int? Position(string p)
    {
        int i = 1;
        while (i < p.Length && char.IsAsciiDigit(p[i])) i++;
        return i > 1 && i < p.Length && p[i] == '$' ? int.Parse(p.AsSpan(1, i - 1)) : null;
    }

    /// <summary>The conversions of the printf directives in argument order: numbered ones by number, then unnumbered ones as they appear.</summary>
    static IEnumerable<string> PrintfArguments(List<string> placeholders)
    {
        var printf = placeholders.Where(IsPrintf).ToList();
        return printf.Where(p => Position(p) is not null).OrderBy(p => Position(p)).Select(Canonical)
            .Concat(printf.Where(p => Position(p) is null));
    }
}
