// Launching real mpirun jobs of the lightglm CLI from tests (as root: Open MPI's allow-run-as-root vars).
using System.Diagnostics;

namespace LightGlm.Tests.Pipeline;

/// <summary>A fact that is skipped, with the reason, only when mpirun is not installed.</summary>
public sealed class MpiFactAttribute : FactAttribute
{
    public MpiFactAttribute()
    {
        if (MpiRun.Mpirun is null) Skip = "mpirun not found on PATH (install openmpi-bin; scripts/setup.sh does)";
    }
}

internal static class MpiRun
{
    public static string? Mpirun { get; } = Environment.GetEnvironmentVariable("PATH")!.Split(':')
        .Select(d => Path.Combine(d, "mpirun")).FirstOrDefault(File.Exists);

    public static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "LightGlm.slnx"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("LightGlm.slnx not found above " + AppContext.BaseDirectory);
        }
    }

    public static string CliDll => Path.Combine(RepoRoot, "src/LightGlm.Cli/bin/Release/net10.0/LightGlm.Cli.dll");

    public sealed record Result(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed);

    /// <summary>Runs `dotnet LightGlm.Cli.dll args` (under `mpirun -np N` when ranks > 0) and waits at most timeout.</summary>
    public static Result Run(int ranks, string args, TimeSpan timeout, IDictionary<string, string>? env = null)
    {
        var watch = Stopwatch.StartNew();
        using var p = Start(ranks, args, env);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"`{p.StartInfo.FileName} {p.StartInfo.Arguments}` did not finish within {timeout}: a hang. stderr: {stderr.Result}");
        }
        p.WaitForExit();
        return new Result(p.ExitCode, stdout.Result, stderr.Result, watch.Elapsed);
    }

    /// <summary>Starts `dotnet LightGlm.Cli.dll args` (under `mpirun -np N` when ranks > 0) with stdout and stderr redirected
    /// and stdin closed, for a test that watches the job while it runs.</summary>
    public static Process Start(int ranks, string args, IDictionary<string, string>? env = null)
    {
        var psi = ranks > 0
            ? new ProcessStartInfo(Mpirun!, $"--oversubscribe --mca btl self,vader,tcp -np {ranks} dotnet {CliDll} {args}")
            : new ProcessStartInfo("dotnet", $"{CliDll} {args}");
        psi.RedirectStandardOutput = psi.RedirectStandardError = psi.RedirectStandardInput = true;
        psi.UseShellExecute = false;
        psi.Environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1";
        psi.Environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1";
        psi.Environment["OMPI_MCA_btl_vader_single_copy_mechanism"] = "none"; // containers often forbid CMA
        psi.Environment["DOTNET_TieredPGO"] = "0";
        foreach (var (k, v) in env ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        var p = Process.Start(psi)!;
        p.StandardInput.Close();
        return p;
    }
}

/// <summary>Timing-dependent conditions, checked until they hold or a deadline passes (never sampled once).</summary>
public static class Eventually
{
    public static bool Holds(Func<bool> condition, TimeSpan deadline)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            if (condition()) return true;
            if (watch.Elapsed > deadline) return false;
            Thread.Sleep(50);
        }
    }
}
