// Paths to committed test data and small helpers shared by the Text tests.
using System.Diagnostics;

namespace LightGlm.Tests.Text;

internal static class TextTestData
{
    public static string Dir => Path.Combine(AppContext.BaseDirectory, "Data", "text");
    public static string File(string name) => Path.Combine(Dir, name);

    /// <summary>A fresh scratch directory under the system temp folder.</summary>
    public static string TempDir(string tag)
    {
        string d = Path.Combine(Path.GetTempPath(), $"lightglm-test-{tag}-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(d);
        return d;
    }

    /// <summary>Runs a program and returns stdout; throws with stderr on failure.</summary>
    public static string Run(string exe, params string[] args)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string o = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{exe} {string.Join(' ', args)}: exit {p.ExitCode}: {err.Result}");
        return o;
    }
}
