// Keyboard accelerators in UI strings ("_Open", "Save &As"): removed before translation and put back
// the way Chinese catalogs write them, "打开(_O)" / "另存为(&A)", ahead of a trailing ellipsis or colon.
namespace LightGlm.Translation;

/// <summary>An accelerator found in a source string: its marker ('_' or '&amp;') and the key after it.</summary>
public readonly record struct Accelerator(char Marker, char Key);

public static class Accelerators
{
    /// <summary>
    /// Finds the accelerator of a UI label, or null. A marker counts when it occurs exactly once, is followed by a
    /// letter or digit, and the string reads like a label rather than an identifier: for '_' the string has no
    /// other '_' and is not snake_case (it contains a space, or starts with an upper-case letter: "Re_do", not
    /// "file_name"); for '&amp;' it is not an entity ("&amp;amp;") and is not surrounded by spaces ("A &amp; B").
    /// </summary>
    public static Accelerator? Detect(string text)
    {
        foreach (var marker in new[] { '_', '&' })
        {
            int at = text.IndexOf(marker);
            if (at < 0 || at != text.LastIndexOf(marker) || at + 1 >= text.Length) continue;
            char key = text[at + 1];
            if (!char.IsAsciiLetterOrDigit(key)) continue;
            if (text.Length > 60 || text.Contains('\n')) continue; // labels are short, single-line
            if (marker == '_')
            {
                bool labelLike = text.Contains(' ') || char.IsUpper(text[0]) || at == 0;
                bool identifier = at > 0 && char.IsAsciiLetterLower(text[at - 1]) && !text.Contains(' ') && !char.IsUpper(text[0]);
                if (!labelLike || identifier) continue;
            }
            else
            {
                int semi = text.IndexOf(';', at);
                if (semi > at && semi - at <= 8 && text[(at + 1)..semi].All(char.IsAsciiLetterOrDigit)) continue; // &amp;
            }
            return new Accelerator(marker, key);
        }
        return null;
    }

    /// <summary>The text without its accelerator marker ("Save _As" → "Save As").</summary>
    public static string Strip(string text, Accelerator acc)
    {
        int at = text.IndexOf(acc.Marker);
        return at < 0 ? text : text.Remove(at, 1);
    }

    static readonly string[] TrailingPunctuation = ["...", "…", "……", ":", "：", "。"];

    /// <summary>Chinese convention: "(_K)" with the key upper-cased, before a trailing ellipsis or colon.
    /// An "(_X)" group the model emitted itself is removed first, so the result has exactly one; other
    /// underscores and ampersands are left alone (they may be part of placeholders such as %(file_name)s).</summary>
    public static string ApplyChinese(string translation, Accelerator acc)
    {
        var t = System.Text.RegularExpressions.Regex.Replace(translation, @"[(（]\s*[_&][A-Za-z0-9]\s*[)）]", "");
        string tail = "";
        foreach (var p in TrailingPunctuation.OrderByDescending(p => p.Length))
            if (t.EndsWith(p, StringComparison.Ordinal)) { tail = p; t = t[..^p.Length]; break; }
        return $"{t.TrimEnd()}({acc.Marker}{char.ToUpperInvariant(acc.Key)}){tail}";
    }
}
