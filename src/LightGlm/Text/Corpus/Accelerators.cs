// Removes keyboard accelerators from UI strings: GTK "_File" / Chinese "文件(_F)", Qt/Windows "&File" /
// "(&F)", and LibreOffice "~File", so the model learns the words and not the mnemonic markup.
using System.Text;
using System.Text.RegularExpressions;

namespace LightGlm.Text.Corpus;

public static partial class Accelerators
{
    // A parenthesised mnemonic, ASCII or full-width parentheses, with optional space before it: "(_F)", "（&F）".
    [GeneratedRegex(@"\s?[(（][_&~][A-Za-z0-9][)）]")]
    private static partial Regex ParenMnemonic();

    // An HTML/XML entity, which must survive "&" stripping.
    [GeneratedRegex(@"&(?:#\d+|#x[0-9a-fA-F]+|[A-Za-z]\w*);")]
    private static partial Regex Entity();

    /// <summary>Returns (english, chinese) with accelerators removed.</summary>
    public static (string English, string Chinese) Strip(string english, string chinese)
    {
        bool zhHadParen = ParenMnemonic().IsMatch(chinese);
        string zh = zhHadParen ? ParenMnemonic().Replace(chinese, "") : chinese;
        string en = StripMarks(english, zhHadParen);
        zh = StripMarks(zh, false);
        return (en, zh);
    }

    /// <summary>
    /// Drops '_', '&amp;' or '~' when it marks a mnemonic: before a letter/digit and at the start of a word
    /// ('_' only when it is the string's one underscore, so "_NET_WM_NAME" survives; a lone mid-word '&amp;'
    /// as in "empt&amp;y" goes too). When the Chinese side
    /// showed a "(_X)" mnemonic, the English '_' goes even mid-word ("Op_en").
    /// "&amp;&amp;" becomes "&amp;"; entities and identifiers such as "file_name" are left alone.
    /// </summary>
    static string StripMarks(string s, bool mnemonicSeen)
    {
        if (s.AsSpan().IndexOfAny('_', '&', '~') < 0) return s;
        int underscores = s.Count(c => c == '_'), ampersands = s.Count(c => c == '&');
        var entities = Entity().Matches(s).Select(m => m.Index).ToHashSet();
        var sb = new StringBuilder(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            bool nextIsAlnum = i + 1 < s.Length && char.IsLetterOrDigit(s[i + 1]);
            bool wordStart = i == 0 || !(char.IsLetterOrDigit(s[i - 1]) || s[i - 1] == '_');
            if (c == '&' && i + 1 < s.Length && s[i + 1] == '&') { sb.Append('&'); i++; continue; }
            if (c == '&' && nextIsAlnum && !entities.Contains(i) && (wordStart || ampersands == 1 && i > 0 && char.IsLetter(s[i - 1]))) continue;
            if (c == '_' && nextIsAlnum && (wordStart && (underscores == 1 || mnemonicSeen) || mnemonicSeen && underscores == 1)
                && (i + 1 >= s.Length || s[i + 1] != '_')) continue;
            if (c == '~' && wordStart && i + 1 < s.Length && char.IsUpper(s[i + 1])) continue;
            sb.Append(c);
        }
        return sb.ToString();
    }
}
