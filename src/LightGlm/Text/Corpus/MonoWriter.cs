// Writes monolingual text (mono.en.txt / mono.zh.txt): each manual page rendered once (cached by content
// hash), cleaned, one paragraph per line, pages separated by a blank line, in a fixed order.
using System.Security.Cryptography;
using LightGlm.IO;

namespace LightGlm.Text.Corpus;

public sealed record MonoStats(int Pages, int Skipped, long Lines, long Characters)
{
    public string? Package { get; init; }
    public string? Sha256 { get; init; }
}

public static class MonoWriter
{
    public static MonoStats Write(string outPath, List<(string Package, string File)> pages, string renderCache, int? max, Action<string> log)
    {
        Directory.CreateDirectory(renderCache);
        var chosen = max is { } m ? pages.Take(m).ToList() : pages;
        var texts = new List<string>?[chosen.Count];
        int done = 0, skipped = 0;
        // groff is a separate process, so two at a time uses both cores of a small machine; --threads bounds it like every kernel.
        Parallel.For(0, chosen.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, LightGlm.Kernels.KernelParallel.Degree) }, i =>
        {
            try
            {
                var src = Manpages.ManpageRenderer.ReadSource(chosen[i].File);
                if (src is null) { Interlocked.Increment(ref skipped); return; }
                string key = Convert.ToHexStringLower(SHA256.HashData(src))[..32];
                string cached = Path.Combine(renderCache, key + ".txt");
                List<string> lines;
                if (File.Exists(cached)) lines = File.ReadAllLines(cached).ToList();
                else
                {
                    lines = Manpages.ManpageRenderer.Clean(Manpages.ManpageRenderer.Render(src));
                    AtomicFile.WriteText(cached, w => { foreach (var l in lines) w.WriteLine(l); });
                }
                if (lines.Count >= 3) texts[i] = lines; else Interlocked.Increment(ref skipped);
            }
            catch (Exception e) when (e is IOException or InvalidDataException or TimeoutException)
            {
                Interlocked.Increment(ref skipped);
            }
            int d = Interlocked.Increment(ref done);
            if (d % 200 == 0) log($"{Path.GetFileName(outPath)}: {d}/{chosen.Count} manual pages");
        });
        long nLines = 0, chars = 0;
        int written = 0;
        AtomicFile.WriteText(outPath, w =>
        {
            foreach (var t in texts)
            {
                if (t is null) continue;
                if (written++ > 0) w.Write('\n');
                foreach (var l in t) { w.Write(l); w.Write('\n'); nLines++; chars += l.Length; }
            }
        });
        log($"{Path.GetFileName(outPath)}: {written} pages, {nLines} lines, {chars} characters");
        return new MonoStats(written, skipped, nLines, chars);
    }
}
