// Peak resident memory of this process (Linux VmHWM), the figure the bench reports for our side, and what
// `bench mapped-decode` prints beside each step (anonymous vs file-backed resident memory).
using System.Diagnostics;

namespace LightGlm.Evaluation.Bench;

public static class PeakMemory
{
    /// <summary>VmHWM of /proc/self/status in MiB (the process's peak RSS so far); NaN where /proc is missing.</summary>
    public static double ProcessPeakMb()
    {
        const string path = "/proc/self/status";
        if (!File.Exists(path)) return double.NaN;
        foreach (var line in File.ReadLines(path))
        {
            if (!line.StartsWith("VmHWM:", StringComparison.Ordinal)) continue;
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries); // "VmHWM:", "123456", "kB"
            return long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) / 1024.0;
        }
        return double.NaN;
    }

    /// <summary>Peak and current resident memory from /proc/self/status: anonymous (our buffers) vs file-backed (mapped
    /// weights in the page cache), e.g. "peak RSS 1.23 GB (now: RssAnon 10 kB, RssFile 20 kB)".</summary>
    public static string Describe()
    {
        var p = Process.GetCurrentProcess();
        p.Refresh();
        string s = $"peak RSS {p.PeakWorkingSet64 / 1e9:F2} GB";
        try
        {
            var lines = File.ReadAllLines("/proc/self/status");
            string Field(string name) => lines.FirstOrDefault(l => l.StartsWith(name + ":"))?.Split(':', 2)[1].Trim() ?? "?";
            s += $" (now: RssAnon {Field("RssAnon")}, RssFile {Field("RssFile")})";
        }
        catch (IOException) { }
        return s;
    }
}
