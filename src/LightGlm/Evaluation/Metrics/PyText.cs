// Python 3 string semantics that sacreBLEU's results depend on: str.isspace/split/strip,
// str.lower (full mapping + final sigma), code-point iteration and '{:.Nf}' rounding.
using System.Globalization;
using System.Numerics;
using System.Text;

namespace LightGlm.Evaluation.Metrics;

/// <summary>Python 3 <c>str</c> behaviour on .NET strings (which are UTF-16, not code points).</summary>
public static class PyText
{
    /// <summary>The 29 code points for which Python's <c>str.isspace()</c> is true (all in the BMP).
    /// Differs from <see cref="char.IsWhiteSpace(char)"/>: includes U+001C..U+001F.</summary>
    public static bool IsSpace(char c) => c switch
    {
        >= '\u0009' and <= '\u000D' => true,
        >= '\u001C' and <= '\u0020' => true,
        '\u0085' or '\u00A0' or '\u1680' => true,
        >= '\u2000' and <= '\u200A' => true,
        '\u2028' or '\u2029' or '\u202F' or '\u205F' or '\u3000' => true,
        _ => false,
    };

    /// <summary><c>s.split()</c>: split on runs of whitespace, dropping empty fields.</summary>
    public static List<string> Split(string s)
    {
        var parts = new List<string>();
        int i = 0, n = s.Length;
        while (i < n)
        {
            while (i < n && IsSpace(s[i])) i++;
            int start = i;
            while (i < n && !IsSpace(s[i])) i++;
            if (i > start) parts.Add(s.Substring(start, i - start));
        }
        return parts;
    }

    /// <summary><c>s.strip()</c>.</summary>
    public static string Strip(string s)
    {
        int a = 0, b = s.Length;
        while (a < b && IsSpace(s[a])) a++;
        while (b > a && IsSpace(s[b - 1])) b--;
        return s.Substring(a, b - a);
    }

    /// <summary><c>s.rstrip()</c>.</summary>
    public static string RStrip(string s)
    {
        int b = s.Length;
        while (b > 0 && IsSpace(s[b - 1])) b--;
        return s.Substring(0, b);
    }

    /// <summary><c>''.join(s.split())</c>: every whitespace code point removed.</summary>
    public static string RemoveSpaces(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (var c in s) if (!IsSpace(c)) sb.Append(c);
        return sb.ToString();
    }

    /// <summary>The code points of <paramref name="s"/> as strings (a surrogate pair is one element),
    /// which is how Python indexes a str.</summary>
    public static string[] CodePoints(string s)
    {
        var list = new List<string>(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                list.Add(s.Substring(i, 2));
                i++;
            }
            else list.Add(s[i].ToString());
        }
        return list.ToArray();
    }

    /// <summary>Python's <c>str.lower()</c>: the full lowercase mapping (U+0130 İ → "i̇", its only
    /// unconditional multi-character lowercase), Final_Sigma for U+03A3, simple mapping elsewhere.</summary>
    public static string Lower(string s)
    {
        var sb = new StringBuilder(s.Length);
        var runes = new List<Rune>();
        foreach (var r in s.EnumerateRunes()) runes.Add(r);
        for (int i = 0; i < runes.Count; i++)
        {
            var r = runes[i];
            if (r.Value == 0x0130) sb.Append("i\u0307");
            else if (r.Value == 0x03A3) sb.Append(IsFinalSigma(runes, i) ? '\u03C2' : '\u03C3');
            else sb.Append(Rune.ToLowerInvariant(r).ToString());
        }
        return sb.ToString();
    }

    // CPython handle_capital_sigma: final iff \p{cased}\p{case-ignorable}* Σ !(\p{case-ignorable}* \p{cased}).
    static bool IsFinalSigma(List<Rune> runes, int i)
    {
        int j = i - 1;
        while (j >= 0 && IsCaseIgnorable(runes[j])) j--;
        if (j < 0 || !IsCased(runes[j])) return false;
        j = i + 1;
        while (j < runes.Count && IsCaseIgnorable(runes[j])) j++;
        return j == runes.Count || !IsCased(runes[j]);
    }

    static bool IsCased(Rune r)
    {
        var cat = Rune.GetUnicodeCategory(r);
        return cat is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            || Rune.ToLowerInvariant(r) != r || Rune.ToUpperInvariant(r) != r;
    }

    // Case_Ignorable = Mn | Me | Cf | Lm | Sk | Word_Break in {MidLetter, MidNumLet, Single_Quote}.
    static bool IsCaseIgnorable(Rune r)
    {
        var cat = Rune.GetUnicodeCategory(r);
        if (cat is UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark or UnicodeCategory.Format
            or UnicodeCategory.ModifierLetter or UnicodeCategory.ModifierSymbol) return true;
        return r.Value is '\'' or '.' or ':' or 0x00B7 or 0x0387 or 0x05F4 or 0x2018 or 0x2019 or 0x2024
            or 0x2027 or 0xFE13 or 0xFE52 or 0xFE55 or 0xFF07 or 0xFF0E or 0xFF1A;
    }

    /// <summary>Python's <c>'{:.Nf}'.format(x)</c>: the exact binary value rounded half-to-even at
    /// N decimals (.NET's "F" format rounds ties away from zero, e.g. 0.125 → "0.13" vs Python "0.12").</summary>
    public static string Fixed(double x, int decimals)
    {
        if (double.IsNaN(x)) return "nan";
        if (double.IsInfinity(x)) return x > 0 ? "inf" : "-inf";
        // x = m · 2^e exactly; scale to an integer numerator over 2^k and round at 10^-decimals.
        long bits = BitConverter.DoubleToInt64Bits(x);
        bool neg = bits < 0;
        int exp = (int)((bits >> 52) & 0x7FF);
        long frac = bits & 0xFFFFFFFFFFFFFL;
        BigInteger mant = exp == 0 ? frac : frac | (1L << 52);
        int e = (exp == 0 ? 1 : exp) - 1075;
        // value = mant · 2^e; scaled = value · 10^decimals, rounded half-even.
        BigInteger num = mant * BigInteger.Pow(10, decimals), den = BigInteger.One;
        if (e >= 0) num <<= e; else den <<= -e;
        var q = BigInteger.DivRem(num, den, out var rem);
        var twice = rem * 2;
        if (twice > den || (twice == den && !q.IsEven)) q += 1;
        var digits = q.ToString(CultureInfo.InvariantCulture).PadLeft(decimals + 1, '0');
        var text = decimals == 0 ? digits : digits[..^decimals] + "." + digits[^decimals..];
        return (neg ? "-" : "") + text; // Python keeps the sign of -0.0
    }
}
