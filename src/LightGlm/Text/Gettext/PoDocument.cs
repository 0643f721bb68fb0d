// A .po file kept line for line (with its line endings) next to its parsed entries, so a filler can
// replace the msgstr lines of untranslated entries and leave every other byte of the file unchanged.
using System.Text;
using LightGlm.IO;

namespace LightGlm.Text.Gettext;

public sealed class PoDocument
{
    PoDocument(string path, List<string> lines, List<string> endings, Encoding encoding, bool bom, GettextCatalog catalog)
    {
        Path = path; _lines = lines; _endings = endings; Encoding = encoding; _bom = bom; Catalog = catalog;
    }

    readonly List<string> _lines;     // line text without its terminator
    readonly List<string> _endings;   // "\n", "\r\n" or "" (last line without newline)
    readonly bool _bom;
    static ReadOnlySpan<byte> Bom => [0xEF, 0xBB, 0xBF];

    public string Path { get; }
    public Encoding Encoding { get; }
    public GettextCatalog Catalog { get; }
    public IReadOnlyList<string> Lines => _lines;

    public static PoDocument Load(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        using var ms = new MemoryStream(bytes, writable: false);
        var (text, enc) = PoReader.Decode(ms, path);
        var catalog = PoReader.Parse(text, enc, path);
        var lines = new List<string>();
        var endings = new List<string>();
        int pos = 0;
        while (pos < text.Length)
        {
            int nl = text.IndexOf('\n', pos);
            if (nl < 0) { lines.Add(text[pos..]); endings.Add(""); break; }
            bool crlf = nl > pos && text[nl - 1] == '\r';
            lines.Add(text[pos..(crlf ? nl - 1 : nl)]);
            endings.Add(crlf ? "\r\n" : "\n");
            pos = nl + 1;
        }
        return new PoDocument(path, lines, endings, enc, bytes.AsSpan().StartsWith(Bom), catalog);
    }

    /// <summary>
    /// Returns the file text with each given span replaced by new lines (spans from this document's
    /// entries, e.g. <see cref="GettextEntry.MsgStrLines"/>; they must not overlap). New lines take
    /// the line ending of the first replaced line. Lines outside the spans are reproduced exactly.
    /// </summary>
    public string Render(IEnumerable<(LineSpan Span, IReadOnlyList<string> NewLines)> replacements)
    {
        var sorted = replacements.OrderBy(r => r.Span.Start).ToList();
        for (int k = 0; k < sorted.Count; k++)
        {
            var s = sorted[k].Span;
            if (s.Start < 0 || s.End > _lines.Count || s.End < s.Start)
                throw new ArgumentException($"{Path}: span {s} is outside the file's {_lines.Count} lines");
            if (k > 0 && sorted[k - 1].Span.End > s.Start)
                throw new ArgumentException($"{Path}: spans {sorted[k - 1].Span} and {s} overlap");
        }
        var sb = new StringBuilder();
        int line = 0;
        foreach (var (span, newLines) in sorted)
        {
            for (; line < span.Start; line++) sb.Append(_lines[line]).Append(_endings[line]);
            string eol = span.Start < _endings.Count && _endings[span.Start].Length > 0 ? _endings[span.Start] : "\n";
            for (int j = 0; j < newLines.Count; j++)
            {
                sb.Append(newLines[j]);
                // The last new line keeps the original ending of the span's last line (maybe none at EOF).
                bool last = j == newLines.Count - 1;
                sb.Append(last && span.End > span.Start ? _endings[span.End - 1] : eol);
            }
            line = span.End;
        }
        for (; line < _lines.Count; line++) sb.Append(_lines[line]).Append(_endings[line]);
        return sb.ToString();
    }

    /// <summary>Writes <see cref="Render"/>'s text to <paramref name="outPath"/> (temp file, then rename).</summary>
    public void Save(string outPath, IEnumerable<(LineSpan Span, IReadOnlyList<string> NewLines)> replacements)
    {
        string text = Render(replacements);
        var bytes = Encoding.GetBytes(text);
        AtomicFile.Write(outPath, fs =>
        {
            if (_bom) fs.Write(Bom);
            fs.Write(bytes);
        });
    }
}
