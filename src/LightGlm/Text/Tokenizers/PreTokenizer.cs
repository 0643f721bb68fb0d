// Splits text into pre-tokens before BPE. The GPT-2, Qwen2/3 (GPT-4-style, single digits) and LightGlm
// patterns are hand-coded on code points (faster than Regex, and with Oniguruma's Unicode semantics for
// supplementary-plane letters); any other pattern falls back to .NET Regex.
using System.Text;
using System.Text.RegularExpressions;

namespace LightGlm.Text.Tokenizers;

public abstract class PreTokenizer
{
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
    public const string QwenPattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>Qwen's pattern with Han runs split from other letters ("使用git" -> "使用", "git") so CJK words form their own pieces.</summary>
    public const string LightGlmPattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|\p{Han}+|[^\r\n\p{L}\p{N}]?(?:(?!\p{Han})\p{L})+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>Appends (start, length) of each pre-token of <paramref name="text"/> (UTF-16 offsets).</summary>
    public abstract void Split(ReadOnlySpan<char> text, List<(int Start, int Length)> into);

    public static PreTokenizer ForPattern(string pattern) => pattern switch
    {
        Gpt2Pattern => new HandCoded(HandCoded.Kind.Gpt2),
        QwenPattern => new HandCoded(HandCoded.Kind.Qwen),
        LightGlmPattern => new HandCoded(HandCoded.Kind.LightGlm),
        _ => new RegexSplit(pattern),
    };

    /// <summary>The whole text as one piece (pre_tokenizer null).</summary>
    public sealed class Whole : PreTokenizer
    {
        public override void Split(ReadOnlySpan<char> text, List<(int, int)> into) { if (text.Length > 0) into.Add((0, text.Length)); }
    }

    /// <summary>HF "Split" with behavior Isolated: every match is a piece, and so is the text between matches.</summary>
    sealed class RegexSplit(string pattern) : PreTokenizer
    {
        readonly Regex _regex = Create(pattern);

        static Regex Create(string pattern)
        {
            // A bad pattern in a tokenizer.json is a bad file; the timeout bounds a pathological (backtracking) one.
            try { return new Regex(pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(5)); }
            catch (ArgumentException e) { throw new InvalidDataException($"tokenizer.json: the pre-tokenizer pattern is not a valid regular expression: {e.Message}"); }
        }

        public override void Split(ReadOnlySpan<char> text, List<(int, int)> into)
        {
            int last = 0;
            foreach (var m in _regex.EnumerateMatches(text))
            {
                if (m.Length == 0) continue;
                if (m.Index > last) into.Add((last, m.Index - last));
                into.Add((m.Index, m.Length));
                last = m.Index + m.Length;
            }
            if (last < text.Length) into.Add((last, text.Length - last));
        }
    }

    sealed class HandCoded(HandCoded.Kind kind) : PreTokenizer
    {
        public enum Kind { Gpt2, Qwen, LightGlm }

        public override void Split(ReadOnlySpan<char> s, List<(int, int)> into)
        {
            int i = 0;
            while (i < s.Length)
            {
                int end = kind == Kind.Gpt2 ? MatchGpt2(s, i) : MatchQwen(s, i, kind == Kind.LightGlm);
                into.Add((i, end - i));
                i = end;
            }
        }

        // Code point helpers: (rune, its UTF-16 length) at i.
        static Rune At(ReadOnlySpan<char> s, int i, out int n)
        {
            if (Rune.DecodeFromUtf16(s[i..], out var r, out n) != System.Buffers.OperationStatus.Done) { r = Rune.ReplacementChar; n = 1; }
            return r;
        }
        static bool IsL(Rune r) => Rune.IsLetter(r);
        static bool IsN(Rune r) => Rune.IsNumber(r);
        static bool IsS(Rune r) => Rune.IsWhiteSpace(r);
        static bool IsNl(Rune r) => r.Value is '\r' or '\n';

        /// <summary>Script=Han (ideographs, radicals, iteration marks), as Oniguruma's \p{Han}.</summary>
        internal static bool IsHan(Rune r)
        {
            int c = r.Value;
            return c is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x323AF or >= 0xF900 and <= 0xFAD9
                or >= 0x2E80 and <= 0x2FD5 or 0x3005 or 0x3007 or >= 0x3021 and <= 0x3029 or >= 0x3038 and <= 0x303B
                or >= 0x16FE2 and <= 0x16FF1;
        }

        static int Run(ReadOnlySpan<char> s, int i, Func<Rune, bool> pred)
        {
            while (i < s.Length && pred(At(s, i, out int n))) i += n;
            return i;
        }

        static int Contraction(ReadOnlySpan<char> s, int i, bool ignoreCase)
        {
            if (s[i] != '\'' || i + 1 >= s.Length) return -1;
            char a = ignoreCase ? char.ToLowerInvariant(s[i + 1]) : s[i + 1];
            char b = i + 2 < s.Length ? (ignoreCase ? char.ToLowerInvariant(s[i + 2]) : s[i + 2]) : '\0';
            if (a is 's' or 't' or 'm' or 'd') return i + 2;
            if (a == 'r' && b == 'e' || a == 'v' && b == 'e' || a == 'l' && b == 'l') return i + 3;
            return -1;
        }

        /// <summary>Whitespace alternatives shared by both patterns: \s+(?!\S) then \s+ (with \s*[\r\n]+ first for Qwen).</summary>
        static int Whitespace(ReadOnlySpan<char> s, int i, bool newlineRule)
        {
            int k = Run(s, i, IsS);
            if (newlineRule)
            {
                int lastNl = -1;
                for (int j = i; j < k; j++) if (s[j] is '\r' or '\n') lastNl = j;
                if (lastNl >= 0) return lastNl + 1;                 // \s*[\r\n]+
            }
            if (k == s.Length) return k;                            // \s+(?!\S) at the end
            At(s, i, out int first);
            if (k - i > first)
            {
                // Back off one code point so the next piece starts with a space (" word").
                int back = k - 1;
                if (char.IsLowSurrogate(s[back]) && back - 1 >= i) back--;
                if (back > i) return back;
            }
            return k;                                               // \s+
        }

        static int MatchGpt2(ReadOnlySpan<char> s, int i)
        {
            int c = Contraction(s, i, ignoreCase: false);
            if (c > 0) return c;
            var r = At(s, i, out int n);
            int j = i;
            if (r.Value == ' ' && i + 1 < s.Length) { j = i + 1; r = At(s, j, out n); }
            if (IsL(r)) return Run(s, j, IsL);
            if (IsN(r)) return Run(s, j, IsN);
            if (!IsS(r)) return Run(s, j, x => !IsS(x) && !IsL(x) && !IsN(x));
            return Whitespace(s, i, newlineRule: false);
        }

        static int MatchQwen(ReadOnlySpan<char> s, int i, bool han)
        {
            int c = Contraction(s, i, ignoreCase: true);
            if (c > 0) return c;
            var r = At(s, i, out int n);
            Func<Rune, bool> letter = han ? x => IsL(x) && !IsHan(x) : IsL;
            if (han && IsHan(r)) return Run(s, i, IsHan);                       // \p{Han}+
            if (letter(r)) return Run(s, i, letter);                            // \p{L}+
            if (!IsNl(r) && !IsL(r) && !IsN(r) && i + n < s.Length && letter(At(s, i + n, out _)))
                return Run(s, i + n, letter);                                   // [^\r\n\p{L}\p{N}]\p{L}+
            if (IsN(r)) return i + n;                                           // \p{N}
            int j = i;
            if (r.Value == ' ' && i + 1 < s.Length) { var r2 = At(s, i + 1, out _); if (!IsS(r2) && !IsL(r2) && !IsN(r2)) { j = i + 1; r = r2; } }
            if (!IsS(r) && !IsL(r) && !IsN(r))
            {
                int k = Run(s, j, x => !IsS(x) && !IsL(x) && !IsN(x));      // ?[^\s\p{L}\p{N}]+
                return Run(s, k, IsNl);                                         // [\r\n]*
            }
            return Whitespace(s, i, newlineRule: true);
        }
    }
}
