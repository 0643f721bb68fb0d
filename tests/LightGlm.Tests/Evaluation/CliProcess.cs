// Runs the built `lightglm` (LightGlm.Cli.dll next to the tests) as a real child process, so CLI tests
// see exactly what a user sees (stdout, stderr, exit code) without redirecting the shared Console.
using System.Diagnostics;

namespace LightGlm.Tests.Evaluation;

internal static class CliProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(string? stdin, params string[] args) => Run(TimeSpan.FromMinutes(3), stdin, args);

    public static Result Run(TimeSpan timeout, string? stdin, params string[] args) => Run(timeout, stdin, null, null, args);

    /// <summary>Runs in <paramref name="workingDirectory"/> with <paramref name="environment"/> added to this process's.</summary>
    public static Result Run(TimeSpan timeout, string? stdin, string? workingDirectory, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = System.Text.Encoding.UTF8, StandardErrorEncoding = System.Text.Encoding.UTF8,
        };
        if (workingDirectory is not null) psi.WorkingDirectory = workingDirectory;
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "LightGlm.Cli.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var outTask = p.StandardOutput.ReadToEndAsync();
        var errTask = p.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            var bytes = new System.Text.UTF8Encoding(false).GetBytes(stdin);
            p.StandardInput.BaseStream.Write(bytes);
        }
        p.StandardInput.Close();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"lightglm {string.Join(' ', args)} did not finish in {timeout.TotalMinutes:0.#} minutes");
        }
        return new Result(p.ExitCode, outTask.Result, errTask.Result);
    }
}
