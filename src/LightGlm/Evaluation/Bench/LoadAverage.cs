// The machine's load average, printed beside every timing: on a shared machine a number means little without it.
namespace LightGlm.Evaluation.Bench;

public static class LoadAverage
{
    /// <summary>The first <paramref name="fields"/> of /proc/loadavg (1, 5 and 15 minutes) joined by spaces; "n/a" where it cannot be read.</summary>
    public static string Text(int fields = 1)
    {
        try { return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(fields)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return "n/a"; }
    }
}
