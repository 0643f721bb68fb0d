// Format placeholders of computer-language strings (printf `%s` `%1$s` `%<PRIuMAX>`, Python `%(name)s`,
// brace `{0}` `{name}`), extracted so a pair is kept only when both sides carry the same ones.
using System.Text.RegularExpressions;

namespace LightGlm.Text.Corpus;

public static partial class Placeholders
{
    // printf: %[n$][flags][width][.prec][length]conv (no space flag: "50% of" is prose, not "% o");
    // python: %(name)[flags][width][.prec]conv; brace: {}, {0}, {name}, {0:fmt}; gettext sysdep: %<PRIuMAX>.
    [GeneratedRegex(@"%%|%\((?<py>\w+)\)[-+#0]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]|%(?:(?<pos>\d+)\$)?[-+#0']*(?:\d+|\*)?(?:\.(?:\d+|\*))?(?:hh|h|ll|l|L|q|j|z|Z|t|I)?(?<conv>[diouxXeEfFgGaAcspnmC]|<PRI\w+>)|\{(?<brace>\d*|[A-Za-z_]\w*)(?::[^{}]*)?\}", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    /// <summary>
    /// The placeholders of <paramref name="s"/> as a sorted multiset of canonical forms: positional printf
    /// loses its position ("%2$s" -> "%s") because translations reorder arguments; "%%" is not a placeholder.
    /// </summary>
    public static List<string> Extract(string s)
    {
        var list = new List<string>();
        if (s.AsSpan().IndexOfAny('%', '{') < 0) return list;
        foreach (Match m in Pattern().Matches(s))
        {
            if (m.Value == "%%") continue;
            if (m.Groups["py"].Success) list.Add(m.Value);
            else if (m.Groups["conv"].Success) list.Add(m.Groups["pos"].Success ? "%" + m.Value[(m.Value.IndexOf('$') + 1)..] : m.Value);
            else list.Add(m.Value);
        }
        list.Sort(StringComparer.Ordinal);
        return list;
    }

    public static bool Match(string english, string chinese) => Extract(english).SequenceEqual(Extract(chinese));
}
