// Escaping and unescaping of .po quoted strings (C escapes as GNU gettext writes and accepts them),
// and rendering of a keyword + value as .po lines, for a filler that writes msgstr lines in place.
using System.Text;

namespace LightGlm.Text.Gettext;

public static class PoString
{
    /// <summary>
    /// Parses one quoted string starting at <paramref name="at"/> (which must be '"'), unescaping
    /// \n \t \r \a \b \f \v \\ \" \' \? \ooo \xHH. Octal/hex escapes are bytes, decoded with <paramref name="enc"/>.
    /// Returns the index after the closing quote.
    /// </summary>
    public static int Parse(string line, int at, StringBuilder into, Encoding enc, Func<string, Exception> error)
    {
        if (at >= line.Length || line[at] != '"') throw error("expected a quoted string");
        List<byte>? bytes = null;
        int i = at + 1;
        while (true)
        {
            if (i >= line.Length) throw error("unterminated string (no closing quote)");
            char c = line[i];
            if (c == '"') { Flush(); return i + 1; }
            if (c != '\\') { Flush(); into.Append(c); i++; continue; }
            if (++i >= line.Length) throw error("backslash at end of line");
            char e = line[i++];
            int octal = e - '0';
            if (e is >= '0' and <= '7')
            {
                for (int k = 0; k < 2 && i < line.Length && line[i] is >= '0' and <= '7'; k++) octal = octal * 8 + (line[i++] - '0');
                AddByte(octal & 0xff);
                continue;
            }
            if (e == 'x')
            {
                int v = 0, k = 0;
                while (i < line.Length && Uri.IsHexDigit(line[i]) && k < 2) { v = v * 16 + Convert.ToInt32(line[i].ToString(), 16); i++; k++; }
                if (k == 0) throw error("\\x without hex digits");
                AddByte(v);
                continue;
            }
            Flush();
            into.Append(e switch
            {
                'n' => '\n', 't' => '\t', 'r' => '\r', 'a' => '\a', 'b' => '\b', 'f' => '\f', 'v' => '\v',
                '\\' => '\\', '"' => '"', '\'' => '\'', '?' => '?',
                _ => throw error($"invalid escape '\\{e}'"),
            });
        }

        void AddByte(int b)
        {
            if (b < 0x80 && bytes is null) { into.Append((char)b); return; }
            (bytes ??= []).Add((byte)b);
        }
        void Flush()
        {
            if (bytes is null || bytes.Count == 0) return;
            try { into.Append(enc.GetString(bytes.ToArray())); }
            catch (DecoderFallbackException) { throw error("octal/hex escapes do not form valid text in the file's charset"); }
            bytes.Clear();
        }
    }

    /// <summary>Escapes text for inside quotes: \\ \" \n \t \r and other C0 controls as octal.</summary>
    public static string Escape(string s)
    {
        var sb = new StringBuilder(s.Length + 8);
        foreach (char c in s)
        {
            switch (c)
            {
                case '\\': sb.Append("\\\\"); break;
                case '"': sb.Append("\\\""); break;
                case '\n': sb.Append("\\n"); break;
                case '\t': sb.Append("\\t"); break;
                case '\r': sb.Append("\\r"); break;
                case '\a': sb.Append("\\a"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '\v': sb.Append("\\v"); break;
                default:
                    if (c < 0x20 || c == 0x7f) sb.Append('\\').Append(Convert.ToString(c, 8).PadLeft(3, '0'));
                    else sb.Append(c);
                    break;
            }
        }
        return sb.ToString();
    }

    /// <summary>
    /// Renders `keyword "value"` the way msgmerge does: one line when short and without inner newlines,
    /// otherwise `keyword ""` followed by one quoted line per "\n"-terminated piece.
    /// <paramref name="prefix"/> is "" or "#~ " for obsolete entries.
    /// </summary>
    public static IReadOnlyList<string> FormatLines(string keyword, string value, string prefix = "")
    {
        int nl = value.IndexOf('\n');
        if (nl < 0 || nl == value.Length - 1)
            return [$"{prefix}{keyword} \"{Escape(value)}\""];
        var lines = new List<string> { $"{prefix}{keyword} \"\"" };
        int start = 0;
        while (start < value.Length)
        {
            int e = value.IndexOf('\n', start);
            int end = e < 0 ? value.Length : e + 1;
            lines.Add($"{prefix}\"{Escape(value[start..end])}\"");
            start = end;
        }
        return lines;
    }

    /// <summary>The msgstr lines for an entry: `msgstr` for a singular message, `msgstr[i]` for plurals.</summary>
    public static IReadOnlyList<string> FormatMsgStr(IReadOnlyList<string> translations, bool plural, string prefix = "")
    {
        if (!plural)
        {
            if (translations.Count != 1) throw new ArgumentException($"a singular message has one translation, got {translations.Count}");
            return FormatLines("msgstr", translations[0], prefix);
        }
        var all = new List<string>();
        for (int i = 0; i < translations.Count; i++) all.AddRange(FormatLines($"msgstr[{i}]", translations[i], prefix));
        return all;
    }
}
