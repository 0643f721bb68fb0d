// Renders manual pages (roff, possibly gzip'd) to clean plain text with groff: one paragraph per line,
// title/footer lines and overstrike removed. Feeds the monolingual pre-training text.
using System.Diagnostics;
using System.IO.Compression;
using System.Text;

namespace LightGlm.Text.Manpages;

public static class ManpageRenderer
{
    /// <summary>True when groff is on PATH.</summary>
    public static bool Available => Gettext.MsgunfmtCheck.FindOnPath("groff") is not null;

    /// <summary>Reads a page, un-gzipping if needed; null for a ".so" redirect page (an alias of another page).</summary>
    public static byte[]? ReadSource(string path)
    {
        using var fs = File.OpenRead(path);
        using Stream s = path.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(fs, CompressionMode.Decompress) : fs;
        using var ms = new MemoryStream();
        s.CopyTo(ms);
        var bytes = ms.ToArray();
        var head = Encoding.Latin1.GetString(bytes, 0, Math.Min(bytes.Length, 200)).TrimStart();
        if (head.StartsWith(".so ", StringComparison.Ordinal) && bytes.Length < 200) return null;
        return bytes;
    }

    /// <summary>
    /// groff -k (preconv: input encoding detected, UTF-8 for manpages-zh) -t (tables) -man -Tutf8, with a
    /// 2000-column line and no hyphenation so each paragraph comes out as one line; -P-cbou drops SGR and
    /// overstrike. Times out after <paramref name="timeoutMs"/> (a pathological page must not hang a build).
    /// </summary>
    public static string Render(byte[] roff, int timeoutMs = 20000)
    {
        var psi = new ProcessStartInfo("groff")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        foreach (var a in new[] { "-k", "-t", "-man", "-Tutf8", "-rLL=2000n", "-rHY=0", "-P-cbou" }) psi.ArgumentList.Add(a);
        psi.Environment["LC_ALL"] = "C.UTF-8";
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start groff");
        var output = p.StandardOutput.ReadToEndAsync();
        var err = p.StandardError.ReadToEndAsync();
        try { p.StandardInput.BaseStream.Write(roff); p.StandardInput.Close(); } catch (IOException) { }
        if (!p.WaitForExit(timeoutMs)) { p.Kill(); throw new TimeoutException("groff did not finish"); }
        return output.Result;
    }

    /// <summary>
    /// Cleans groff output: drops the first and last non-empty lines (page title and footer), trims
    /// indentation, collapses spaces, drops lines without a letter, keeps one paragraph per line.
    /// </summary>
    public static List<string> Clean(string rendered)
    {
        var lines = rendered.Split('\n').Select(l => Corpus.PairCleaner.NormalizeWhitespace(l)).Where(l => l.Length > 0).ToList();
        if (lines.Count <= 2) return [];
        var result = new List<string>();
        foreach (var l in lines.Skip(1).Take(lines.Count - 2))
        {
            if (!l.Any(char.IsLetter)) continue;
            bool bad = false;
            foreach (char c in l) if (c < 0x20 || c == '\ufffd') { bad = true; break; }
            if (!bad) result.Add(l);
        }
        return result;
    }

    /// <summary>Is this tar path an English manual page ("./usr/share/man/man1/ls.1.gz")?</summary>
    public static bool IsEnglishPage(string tarPath) => IsPage(tarPath, "./usr/share/man/man");

    /// <summary>Is this tar path a Simplified Chinese manual page ("./usr/share/man/zh_CN/man1/ls.1.gz")?</summary>
    public static bool IsChinesePage(string tarPath) => IsPage(tarPath, "./usr/share/man/zh_CN/man");

    static bool IsPage(string p, string prefix) =>
        p.StartsWith(prefix, StringComparison.Ordinal) && p.Length > prefix.Length && char.IsDigit(p[prefix.Length])
        && p.IndexOf('/', prefix.Length) > 0 && p.IndexOf('/', p.IndexOf('/', prefix.Length) + 1) < 0;
}
