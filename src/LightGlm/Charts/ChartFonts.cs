// Which installed font a chart label is drawn with. Latin text takes a Latin sans font (DejaVu Sans on Debian), whose
// metrics ScottPlot aligns well. A label the Latin font has no glyphs for (Chinese: terms, sentences) takes the first
// installed CJK family (Debian: fonts-noto-cjk); without one it falls back to the Latin font and draws boxes.
using SkiaSharp;

namespace LightGlm.Charts;

public static class ChartFonts
{
    /// <summary>Families tried first, in order: fonts-noto-cjk, then other Debian CJK fonts.</summary>
    static readonly string[] CjkFamilies =
        ["Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Droid Sans Fallback", "AR PL UMing CN"];
    static readonly string[] LatinFamilies = ["DejaVu Sans", "Liberation Sans", "Noto Sans"];
    const string Probe = "中文"; // two common Han characters

    static readonly Lazy<string?> Cjk = new(FindCjk);
    static readonly Lazy<string> Latin = new(() => LatinFamilies.FirstOrDefault(Installed) ?? SKTypeface.Default.FamilyName);

    /// <summary>The installed family with CJK glyphs, or null when there is none (install fonts-noto-cjk).</summary>
    public static string? CjkFamily => Cjk.Value;

    /// <summary>The family for Latin labels.</summary>
    public static string LatinFamily => Latin.Value;

    /// <summary>The family to draw <paramref name="text"/> with: the Latin one when it has every glyph, else the CJK one
    /// when installed, else the Latin one (boxes for what it lacks).</summary>
    public static string For(string text) =>
        text.Length == 0 || HasGlyphs(LatinFamily, text) ? LatinFamily : CjkFamily ?? LatinFamily;

    /// <summary>True when <paramref name="family"/> is installed under that name (Skia substitutes silently otherwise).</summary>
    public static bool Installed(string family)
    {
        using var t = SKTypeface.FromFamilyName(family);
        return t is not null && string.Equals(t.FamilyName, family, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>True when <paramref name="family"/> is installed and has a glyph for every character of <paramref name="text"/>.</summary>
    public static bool HasGlyphs(string family, string text)
    {
        if (!Installed(family)) return false;
        text = string.Concat(text.Where(ch => !char.IsWhiteSpace(ch) && !char.IsControl(ch)));
        if (text.Length == 0) return true;
        using var t = SKTypeface.FromFamilyName(family);
        using var font = new SKFont(t);
        return font.ContainsGlyphs(text);
    }

    static string? FindCjk() =>
        CjkFamilies.FirstOrDefault(f => HasGlyphs(f, Probe))
        ?? SKFontManager.Default.FontFamilies.Order(StringComparer.Ordinal).FirstOrDefault(f => HasGlyphs(f, Probe));
}
