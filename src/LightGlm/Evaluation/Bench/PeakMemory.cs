// Peak resident memory of this process (Linux VmHWM), the figure the bench reports for our side.
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
}
