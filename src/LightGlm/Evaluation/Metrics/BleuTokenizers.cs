// sacreBLEU 2.x BLEU tokenizers: the mteval regex post-tokenizer, `13a` and `zh` (with the
// zh character table exactly as tokenizer_zh.py has it, including its accidental ranges).
using System.Text;
using System.Text.RegularExpressions;

namespace LightGlm.Evaluation.Metrics;

/// <summary>A BLEU tokenizer: line in, space-joined tokens out.</summary>
public interface IBleuTokenizer
{
    /// <summary>The name in the signature (<c>tok:NAME</c>).</summary>
    string Name { get; }
    string Tokenize(string line);
}

/// <summary>sacreBLEU's <c>TokenizerRegexp</c>: four substitutions, then <c>' '.join(line.split())</c>.</summary>
public static class RegexpPostTokenizer
{
    // ([\{-\~\[-\` -\&\(-\+\:-\@\/]) = ASCII 0x7B-7E, 0x5B-60, 0x20-26, 0x28-2B, 0x3A-40, 0x2F (not ' , - .).
    static readonly Regex Punct = new(@"([\x7B-\x7E\x5B-\x60\x20-\x26\x28-\x2B\x3A-\x40\x2F])", RegexOptions.CultureInvariant);
    static readonly Regex PeriodCommaAfterNonDigit = new(@"([^0-9])([\.,])", RegexOptions.CultureInvariant);
    static readonly Regex PeriodCommaBeforeNonDigit = new(@"([\.,])([^0-9])", RegexOptions.CultureInvariant);
    static readonly Regex DashAfterDigit = new(@"([0-9])(-)", RegexOptions.CultureInvariant);

    public static string Apply(string line)
    {
        // .NET Regex works on UTF-16 units, Python's on code points; none of these classes contains a
        // surrogate, and the negated ones only re-insert what they matched, so pairs stay intact.
        line = Punct.Replace(line, " $1 ");
        line = PeriodCommaAfterNonDigit.Replace(line, "$1 $2 ");
        line = PeriodCommaBeforeNonDigit.Replace(line, " $1 $2");
        line = DashAfterDigit.Replace(line, "$1 $2 ");
        return string.Join(' ', PyText.Split(line));
    }
}

/// <summary>sacreBLEU's <c>13a</c> tokenizer (mteval-v13a).</summary>
public sealed class Tokenizer13a : IBleuTokenizer
{
    public string Name => "13a";

    public string Tokenize(string line)
    {
        // Language-independent part: plain string replaces, entities only if '&' occurs (in this order,
        // so "&amp;lt;" becomes "<").
        line = line.Replace("<skipped>", "").Replace("-\n", "").Replace("\n", " ");
        if (line.Contains('&'))
            line = line.Replace("&quot;", "\"").Replace("&amp;", "&").Replace("&lt;", "<").Replace("&gt;", ">");
        return RegexpPostTokenizer.Apply(" " + line + " ");
    }
}

/// <summary>sacreBLEU's <c>zh</c> tokenizer: spaces around every "Chinese" code point, then the
/// regex post-tokenizer (no 13a language-independent part).</summary>
public sealed class TokenizerZh : IBleuTokenizer
{
    public string Name => "zh";

    // tokenizer_zh.py's _UCODE_RANGES, verbatim. '\u20000' and '\u2f800' etc. are Python escapes of
    // FOUR hex digits, so those bounds are two-character strings (U+2000 + "0"); comparing a single
    // character with them lexicographically gives the accidental range U+2001..U+2A6D and leaves
    // every supplementary-plane character unsplit. We keep that: it is what sacreBLEU scores.
    static readonly (string Start, string End)[] SourceRanges =
    [
        ("\u3400", "\u4db5"), ("\u4e00", "\u9fa5"), ("\u9fa6", "\u9fbb"), ("\uf900", "\ufa2d"),
        ("\ufa30", "\ufa6a"), ("\ufa70", "\ufad9"), ("\u2000" + "0", "\u2a6d" + "6"), ("\u2f80" + "0", "\u2fa1" + "d"),
        ("\uff00", "\uffef"), ("\u2e80", "\u2eff"), ("\u3000", "\u303f"), ("\u31c0", "\u31ef"),
        ("\u2f00", "\u2fdf"), ("\u2ff0", "\u2fff"), ("\u3100", "\u312f"), ("\u31a0", "\u31bf"),
        ("\ufe10", "\ufe1f"), ("\ufe30", "\ufe4f"), ("\u2600", "\u26ff"), ("\u2700", "\u27bf"),
        ("\u3200", "\u32ff"), ("\u3300", "\u33ff"),
    ];

    static readonly bool[] BmpTable = BuildTable();

    static bool[] BuildTable()
    {
        var t = new bool[0x10000];
        for (int c = 0; c < 0x10000; c++)
        {
            if (c is >= 0xD800 and <= 0xDFFF) continue; // only reachable as halves of a supplementary code point
            t[c] = InSourceRanges(char.ConvertFromUtf32(c));
        }
        return t;
    }

    /// <summary><c>_is_chinese_char</c> evaluated literally: <c>start &lt;= uchar &lt;= end</c> with
    /// Python's code-point-wise string ordering.</summary>
    internal static bool InSourceRanges(string uchar)
    {
        foreach (var (start, end) in SourceRanges)
            if (PyCompare(start, uchar) <= 0 && PyCompare(uchar, end) <= 0) return true;
        return false;
    }

    // Python compares str by code point; .NET ordinal compares UTF-16 units, which orders
    // supplementary code points below U+E000..U+FFFF, so compare runes.
    static int PyCompare(string a, string b)
    {
        var ea = a.EnumerateRunes().GetEnumerator();
        var eb = b.EnumerateRunes().GetEnumerator();
        while (true)
        {
            bool ha = ea.MoveNext(), hb = eb.MoveNext();
            if (!ha || !hb) return ha == hb ? 0 : ha ? 1 : -1;
            int d = ea.Current.Value.CompareTo(eb.Current.Value);
            if (d != 0) return d;
        }
    }

    /// <summary>True when the zh tokenizer puts spaces around <paramref name="codePoint"/>.</summary>
    public static bool IsChineseChar(int codePoint) => codePoint < 0x10000 && BmpTable[codePoint];
    // Supplementary code points: "\U00020000" > "\u2a6d6" etc., so no range holds them (checked in tests).

    public string Tokenize(string line)
    {
        line = PyText.Strip(line);
        var sb = new StringBuilder(line.Length * 2);
        foreach (var r in line.EnumerateRunes())
        {
            if (IsChineseChar(r.Value)) sb.Append(' ').Append(r.ToString()).Append(' ');
            else sb.Append(r.ToString());
        }
        return RegexpPostTokenizer.Apply(sb.ToString());
    }
}

/// <summary>Looks a BLEU tokenizer up by its sacreBLEU name.</summary>
public static class BleuTokenizers
{
    public static IBleuTokenizer Create(string name) => name switch
    {
        "13a" => new Tokenizer13a(),
        "zh" => new TokenizerZh(),
        _ => throw new ArgumentException($"unknown BLEU tokenizer '{name}': use 13a or zh", nameof(name)),
    };
}
