// The one keyboard-accelerator grammar of UI labels: GTK "_File" / "Re_do", Qt "&File" / "empt&y", LibreOffice "~File",
// and the Chinese convention "文件(_F)" / "（&F）". The corpus cleaner strips them from training pairs; the translator
// strips them before translation and puts them back the Chinese way, so both see the same label text.
using System.Text;
using System.Text.RegularExpressions;

namespace LightGlm.Text.Markup;

/// <summary>An accelerator found in a label: its marker ('_', '&amp;' or '~') and the key after it.</summary>
public readonly record struct Accelerator(char Marker, char Key);

public static partial class Accelerators
{
    /// <summary>Longest text read as a label: GTK check-box labels run to about 80 characters; prose is longer.</summary>
    public const int MaxLabelLength = 100;

    // A parenthesised mnemonic, ASCII or full-width parentheses, with optional space before it: "(_F)", "（&F）", "(~O)".
    [GeneratedRegex(@"\s?[(（]\s*[_&~][A-Za-z0-9]\s*[)）]")]
    private static partial Regex ParenMnemonic();

    // An HTML/XML entity, whose '&' is not a marker.
    [GeneratedRegex(@"&(?:#\d+|#x[0-9a-fA-F]+|[A-Za-z]\w*);")]
    private static partial Regex Entity();

    /// <summary>
    /// Finds the accelerator of a label, or null. A label is one line of at most <see cref="MaxLabelLength"/>
    /// characters that is not option help ("-K, --backup …"). A marker counts when it is the only one of its kind
    /// ("&amp;&amp;", entities and "__" are not markers), is followed by an ASCII letter or digit, and either starts a word
    /// (after a space, an opening bracket or quote: "_Open", "Save &amp;As", "~Format"; not strftime's "%_H") or sits
    /// inside a word that reads like a label rather than an identifier: '_' and '~' between lower-case letters in the
    /// first word, capitalised, of a text without placeholders ("Re_do", "Cu~t"; not "file_name", "KP_Begin",
    /// "SCSI_host", "Sampling_step: %u", "use Stream_LF"), '&amp;' after a letter in a word that is not all capitals ("empt&amp;y"; not
    /// "AT&amp;T"). With <paramref name="mnemonicExpected"/> (the translation shows "(_X)") any mid-word position counts.
    /// These rules come from the quickstart corpus (66k pairs): each one stopped an identifier being taken for a mnemonic.
    /// </summary>
    public static Accelerator? Detect(string text, bool mnemonicExpected = false) =>
        Locate(text, mnemonicExpected) is { } at ? new Accelerator(text[at], text[at + 1]) : null;

    /// <summary>The label without its accelerator marker ("Save _As" → "Save As"); a Qt label's "&amp;&amp;" becomes "&amp;".</summary>
    public static string Strip(string text, Accelerator acc)
    {
        int at = -1;
        foreach (int i in Candidates(text, acc.Marker))
            if (text[i + 1] == acc.Key) { at = i; break; }
        if (at < 0) return text;
        var s = text.Remove(at, 1);
        return acc.Marker == '&' ? s.Replace("&&", "&", StringComparison.Ordinal) : s;
    }

    /// <summary>
    /// A catalog pair with its accelerators removed: the Chinese "(_F)" group, the English marker found by
    /// <see cref="Detect"/> (told that a mnemonic is expected when the Chinese had one), and, when the English had one,
    /// a marker the Chinese kept inline ("_File" left untranslated). Identifiers in the Chinese ("XEN_CREDIT的cap") stay.
    /// </summary>
    public static (string English, string Chinese) Strip(string english, string chinese)
    {
        bool zhHadParen = ParenMnemonic().IsMatch(chinese);
        string zh = zhHadParen ? ParenMnemonic().Replace(chinese, "") : chinese;
        if (Detect(english, zhHadParen) is not { } a) return (english, zh);
        if (Detect(zh) is { } b) zh = Strip(zh, b);
        return (Strip(english, a), zh);
    }

    static readonly string[] TrailingPunctuation = ["...", "…", "……", ":", "：", "。"];

    /// <summary>Chinese convention: "(_K)" with the key upper-cased, before a trailing ellipsis or colon.
    /// An "(_X)" group the model emitted itself is removed first, so the result has exactly one; other
    /// underscores and ampersands are left alone (they may be part of placeholders such as %(file_name)s).</summary>
    public static string ApplyChinese(string translation, Accelerator acc)
    {
        var t = ParenMnemonic().Replace(translation, "");
        string tail = "";
        foreach (var p in TrailingPunctuation.OrderByDescending(p => p.Length))
            if (t.EndsWith(p, StringComparison.Ordinal)) { tail = p; t = t[..^p.Length]; break; }
        return $"{t.TrimEnd()}({acc.Marker}{char.ToUpperInvariant(acc.Key)}){tail}";
    }

    static int? Locate(string text, bool mnemonicExpected)
    {
        if (text.Length > MaxLabelLength || text.Contains('\n') || text.StartsWith('-')) return null;
        foreach (char marker in "_&~")
        {
            var found = Candidates(text, marker).ToList();
            if (found.Count != 1) continue;
            int at = found[0];
            if (!char.IsAsciiLetterOrDigit(text[at + 1])) continue;
            if (WordStart(text, at) ? marker != '~' || !char.IsAsciiLetterLower(text[at + 1]) || mnemonicExpected
                : mnemonicExpected || MidWordLabel(text, at, marker)) return at;
        }
        return null;
    }

    /// <summary>Positions of <paramref name="marker"/> that could be a mnemonic: not in "&amp;&amp;", "__" or an entity, not last.</summary>
    static IEnumerable<int> Candidates(string text, char marker)
    {
        HashSet<int>? entities = null;
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] != marker) continue;
            if (i + 1 < text.Length && text[i + 1] == marker) { i++; continue; } // "&&", "__", "~~"
            if (i + 1 >= text.Length) continue;
            if (marker == '&' && (entities ??= Entity().Matches(text).Select(m => m.Index).ToHashSet()).Contains(i)) continue;
            yield return i;
        }
    }

    static bool WordStart(string text, int at) => at == 0 || char.IsWhiteSpace(text[at - 1]) || text[at - 1] is '(' or '[' or '"' or '\'' or '“' or '‘' or '（';

    static bool MidWordLabel(string text, int at, char marker)
    {
        int a = at, b = at + 1;
        while (a > 0 && char.IsLetterOrDigit(text[a - 1])) a--;
        while (b < text.Length && (char.IsLetterOrDigit(text[b]) || text[b] == marker)) b++;
        var word = text[a..b];
        bool hasLower = word.Any(char.IsLower);
        if (marker == '&') return char.IsLetter(text[at - 1]) && hasLower;
        return a == 0 && char.IsUpper(word[0]) && char.IsLower(text[at - 1]) && char.IsLower(text[at + 1]) && Placeholders.Extract(text).Count == 0;
    }
}
