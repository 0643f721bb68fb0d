// The parallel corpus on disk: UTF-8 TSV files of `english<TAB>chinese` lines, read and written here.
using System.Text;

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
        WriteAtomically(path, w =>
        {
            foreach (var p in pairs)
            {
                if (p.English.AsSpan().IndexOfAny('\t', '\n', '\r') >= 0 || p.Chinese.AsSpan().IndexOfAny('\t', '\n', '\r') >= 0)
                    throw new ArgumentException($"pair contains a TAB or newline and cannot be written as TSV: {p.English}");
                w.Write(p.English); w.Write('\t'); w.Write(p.Chinese); w.Write('\n');
            }
        });
    }

    /// <summary>Strict UTF-8 line reader with a per-line length limit; errors name the file and line.</summary>
    public static IEnumerable<string> ReadLines(string path)
    {
        using var reader = new StreamReader(path, StrictUtf8, detectEncodingFromByteOrderMarks: true, new FileStreamOptions { BufferSize = 1 << 16 });
        var sb = new StringBuilder();
        int lineNo = 0;
        var buf = new char[8192];
        while (true)
        {
            int n;
            try { n = reader.Read(buf, 0, buf.Length); }
            catch (DecoderFallbackException) { throw new InvalidDataException($"{path}:{lineNo + 1}: not valid UTF-8; convert the file (e.g. iconv -t UTF-8)."); }
            if (n == 0) break;
            for (int i = 0; i < n; i++)
            {
                char c = buf[i];
                if (c == '\n')
                {
                    lineNo++;
                    if (sb.Length > 0 && sb[^1] == '\r') sb.Length--;
                    yield return sb.ToString();
                    sb.Clear();
                }
                else
                {
                    if (sb.Length >= MaxLineChars)
                        throw new InvalidDataException($"{path}:{lineNo + 1}: line longer than {MaxLineChars} characters; not a line-oriented text file?");
                    sb.Append(c);
                }
            }
        }
        if (sb.Length > 0) yield return sb.ToString();
    }

    /// <summary>Writes through a temp file in the same folder and renames it, so readers never see half a file.</summary>
    public static void WriteAtomically(string path, Action<TextWriter> write)
    {
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        string tmp = path + ".tmp-" + Environment.ProcessId;
        using (var w = new StreamWriter(tmp, false, new UTF8Encoding(false)) { NewLine = "\n" }) write(w);
        File.Move(tmp, path, overwrite: true);
    }
}
