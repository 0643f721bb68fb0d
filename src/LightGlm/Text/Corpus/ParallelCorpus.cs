// The parallel corpus on disk: UTF-8 TSV files of `english<TAB>chinese` lines, read and written here.
using System.Text;
using LightGlm.IO;

namespace LightGlm.Text.Corpus;

/// <summary>One aligned English/Chinese pair.</summary>
public readonly record struct TranslationPair(string English, string Chinese);

public static class ParallelCorpus
{
    /// <summary>Lines longer than this are refused rather than loaded (a corrupt or binary file).</summary>
    public const int MaxLineChars = 1 << 20;

    static readonly UTF8Encoding StrictUtf8 = new(false, true);

    /// <summary>Reads `english<TAB>chinese` lines. Blank lines are skipped; anything else malformed is an error naming the line.</summary>
    public static List<TranslationPair> ReadTsv(string path)
    {
        var pairs = new List<TranslationPair>();
        int n = 0;
        foreach (var line in ReadLines(path))
        {
            n++;
            if (line.Length == 0) continue;
            int tab = line.IndexOf('\t');
            if (tab < 0 || line.IndexOf('\t', tab + 1) >= 0)
                throw new InvalidDataException($"{path}:{n}: expected exactly one TAB (english<TAB>chinese), got {(tab < 0 ? "none" : "more than one")}.");
            pairs.Add(new TranslationPair(line[..tab], line[(tab + 1)..]));
        }
        return pairs;
    }

    /// <summary>Writes pairs as TSV (temp file, then rename). Tabs/newlines inside a string are an error: the builder removes them.</summary>
    public static void WriteTsv(string path, IEnumerable<TranslationPair> pairs)
    {
        AtomicFile.WriteText(path, w =>
        {
            foreach (var p in pairs)
            {
                if (p.English.AsSpan().IndexOfAny('\t', '\n', '\r') >= 0 || p.Chinese.AsSpan().IndexOfAny('\t', '\n', '\r') >= 0)
                    throw new ArgumentException($"pair contains a TAB or newline and cannot be written as TSV: {p.English}");
                w.Write(p.English); w.Write('\t'); w.Write(p.Chinese); w.Write('\n');
            }
        });
    }

    /// <summary>
    /// Strict UTF-8 line reader (LF or CRLF, a UTF-8 BOM skipped) with a per-line length limit. Lines are split on
    /// bytes and decoded one by one, so an error names the exact line.
    /// </summary>
    public static IEnumerable<string> ReadLines(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var buf = new byte[1 << 16];
        var line = new MemoryStream();
        int lineNo = 0;
        bool first = true;
        while (true)
        {
            int n = fs.Read(buf, 0, buf.Length);
            if (n == 0) break;
            int i = 0;
            if (first)
            {
                first = false;
                if (n >= 2 && ((buf[0] == 0xFF && buf[1] == 0xFE) || (buf[0] == 0xFE && buf[1] == 0xFF)))
                    throw new InvalidDataException($"{path}: the file is UTF-16 (it starts with a UTF-16 byte-order mark); convert it to UTF-8 (e.g. iconv -f UTF-16 -t UTF-8).");
                if (n >= 3 && buf[0] == 0xEF && buf[1] == 0xBB && buf[2] == 0xBF) i = 3;
            }
            while (i < n)
            {
                int nl = Array.IndexOf(buf, (byte)'\n', i, n - i);
                int end = nl < 0 ? n : nl;
                if (line.Length + (end - i) > MaxLineBytes)
                    throw new InvalidDataException($"{path}:{lineNo + 1}: line longer than {MaxLineChars} characters; not a line-oriented text file?");
                line.Write(buf, i, end - i);
                if (nl < 0) break;
                lineNo++;
                yield return DecodeLine(line, path, lineNo);
                line.SetLength(0);
                i = nl + 1;
            }
        }
        if (line.Length > 0) yield return DecodeLine(line, path, lineNo + 1);
    }

    const int MaxLineBytes = MaxLineChars * 3;

    static string DecodeLine(MemoryStream line, string path, int lineNo)
    {
        var bytes = line.GetBuffer().AsSpan(0, (int)line.Length);
        if (bytes.Length > 0 && bytes[^1] == (byte)'\r') bytes = bytes[..^1];
        string s;
        try { s = StrictUtf8.GetString(bytes); }
        catch (DecoderFallbackException e)
        {
            throw new InvalidDataException($"{path}:{lineNo}: not valid UTF-8 (byte {e.Index} of the line); convert the file (e.g. iconv -f GB18030 -t UTF-8).");
        }
        if (s.Length > MaxLineChars)
            throw new InvalidDataException($"{path}:{lineNo}: line longer than {MaxLineChars} characters; not a line-oriented text file?");
        return s;
    }
}
