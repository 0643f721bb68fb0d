// Turns raw catalog messages into clean training pairs, counting what each rule dropped (for stats.json).
using System.Text;
using LightGlm.Text.Markup;

namespace LightGlm.Text.Corpus;

public sealed class PairCleaner
{
    /// <summary>Pairs whose English is longer than this (after cleaning) are dropped as "too-long".</summary>
    public int MaxEnglishChars { get; init; } = 400;

    /// <summary>Chinese/English character ratio bounds; outside them a pair is a "length-ratio" outlier.</summary>
    public double MinRatio { get; init; } = 0.1;
    public double MaxRatio { get; init; } = 3.0;

    /// <summary>Drop counts per rule name.</summary>
    public SortedDictionary<string, int> Dropped { get; } = new(StringComparer.Ordinal);

    void Drop(string rule) => Dropped[rule] = Dropped.GetValueOrDefault(rule) + 1;

    /// <summary>Cleans one message; a multi-line message yields one pair per aligned line.</summary>
    public IEnumerable<TranslationPair> Clean(string english, string chinese)
    {
        if (english.Trim().Length == 0 || chinese.Trim().Length == 0) { Drop("empty-or-untranslated"); yield break; }
        string en = english.Replace("\r\n", "\n").Trim('\n', ' ', '\t');
        string zh = chinese.Replace("\r\n", "\n").Trim('\n', ' ', '\t');
        if (en.Contains('\n') || zh.Contains('\n'))
        {
            var el = en.Split('\n');
            var zl = zh.Split('\n');
            if (el.Length != zl.Length) { Drop("multiline-unaligned"); yield break; }
            for (int i = 0; i < el.Length; i++)
            {
                if (el[i].Trim().Length == 0 && zl[i].Trim().Length == 0) continue; // paragraph break on both sides
                if (CleanLine(el[i], zl[i]) is { } p) yield return p;
            }
            yield break;
        }
        if (CleanLine(en, zh) is { } single) yield return single;
    }

    /// <summary>One line: accelerators stripped (one grammar with the translator, <see cref="Accelerators"/>), then the rules.</summary>
    TranslationPair? CleanLine(string english, string chinese)
    {
        var (stripEn, stripZh) = Accelerators.Strip(english, chinese);
        string en = NormalizeWhitespace(stripEn), zh = NormalizeWhitespace(stripZh);
        if (en.Length == 0 || zh.Length == 0) { Drop("empty-or-untranslated"); return null; }
        if (HasControl(en) || HasControl(zh)) { Drop("control-characters"); return null; }
        if (en == zh) { Drop("identical"); return null; }
        if (!ContainsHan(zh)) { Drop("no-chinese"); return null; }
        if (!en.Any(char.IsAsciiLetter)) { Drop("no-english-letters"); return null; }
        if (!Placeholders.Preserved(en, zh)) { Drop("placeholder-mismatch"); return null; }
        if (en.Length > MaxEnglishChars) { Drop("too-long"); return null; }
        double r = (double)zh.Length / en.Length;
        if (en.Length >= 12 && (r < MinRatio || r > MaxRatio) || en.Length < 12 && zh.Length > 40) { Drop("length-ratio"); return null; }
        return new TranslationPair(en, zh);
    }

    /// <summary>Trims and collapses runs of spaces/tabs (including full-width space U+3000) to one space.</summary>
    public static string NormalizeWhitespace(string s)
    {
        var sb = new StringBuilder(s.Length);
        bool space = false;
        foreach (char c in s)
        {
            if (c is ' ' or '\t' or '\u3000' or '\u00a0')
            {
                space = true;
                continue;
            }
            if (space && sb.Length > 0) sb.Append(' ');
            space = false;
            sb.Append(c);
        }
        return sb.ToString();
    }

    static bool HasControl(string s)
    {
        foreach (char c in s)
            if (c < 0x20 || c == 0x7f || c is '\u2028' or '\u2029' or '\ufffd') return true;
        return false;
    }

    /// <summary>True when the text holds at least one CJK ideograph (basic block, extension A, compatibility).</summary>
    public static bool ContainsHan(string s)
    {
        foreach (char c in s)
            if (c is >= '\u4e00' and <= '\u9fff' or >= '\u3400' and <= '\u4dbf' or >= '\uf900' and <= '\ufaff') return true;
        return false;
    }
}
