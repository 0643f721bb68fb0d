// Reads a text file of segments, one per line, the way sacreBLEU's CLI does (UTF-8, \n or \r\n).
using System.Text;

namespace LightGlm.Evaluation.Metrics;

public static class SegmentFile
{
    /// <summary>The lines of <paramref name="path"/>; a final newline does not start an extra empty segment.</summary>
    public static string[] Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"segment file '{path}' does not exist", path);
        string text;
        try { text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(File.ReadAllBytes(path)); }
        catch (DecoderFallbackException e)
        {
            throw new InvalidDataException($"'{path}' is not valid UTF-8 (byte offset {e.Index}): convert it to UTF-8 first");
        }
        if (text.StartsWith('\uFEFF')) text = text[1..];
        if (text.Length == 0) return [];
        var lines = text.Split('\n');
        if (lines[^1].Length == 0) lines = lines[..^1];
        for (int i = 0; i < lines.Length; i++)
            if (lines[i].EndsWith('\r')) lines[i] = lines[i][..^1];
        return lines;
    }
}
