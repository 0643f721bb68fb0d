// Reads parallel test/training files: `english<TAB>chinese` per line, UTF-8; errors name file and line.
using System.Text;

namespace LightGlm.Translation;

public static class ParallelTsv
{
    public static List<(string English, string Chinese)> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"parallel file '{path}' does not exist (expected english<TAB>chinese per line)", path);
        var pairs = new List<(string, string)>();
        var enc = new UTF8Encoding(false, throwOnInvalidBytes: true);
        string text;
        try { text = enc.GetString(File.ReadAllBytes(path)); }
        catch (DecoderFallbackException e) { throw new InvalidDataException($"'{path}' is not valid UTF-8 (byte {e.Index}): convert it to UTF-8"); }
        if (text.StartsWith('\uFEFF')) text = text[1..];
        int lineNo = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNo++;
            var line = raw.TrimEnd('\r');
            if (line.Length == 0) continue;
            var cols = line.Split('\t');
            if (cols.Length != 2)
                throw new InvalidDataException($"{path}:{lineNo}: expected 2 tab-separated columns (english<TAB>chinese), found {cols.Length}: '{(line.Length > 80 ? line[..80] + "…" : line)}'");
            pairs.Add((cols[0], cols[1]));
        }
        if (pairs.Count == 0) throw new InvalidDataException($"'{path}' has no sentence pairs");
        return pairs;
    }
}
