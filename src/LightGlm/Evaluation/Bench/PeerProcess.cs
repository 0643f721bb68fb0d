// Runs a peer benchmark script (Python, Node) and reads the JSON object on the last line of its output.
using System.Diagnostics;
using System.Text.Json;

namespace LightGlm.Evaluation.Bench;

internal sealed class PeerJson(JsonElement root)
{
    public double? Get(string key) => root.TryGetProperty(key, out var e) && e.ValueKind == JsonValueKind.Number ? e.GetDouble() : null;
    public string Str(string key) => root.TryGetProperty(key, out var e) && e.ValueKind == JsonValueKind.String ? e.GetString()! : "";
}

internal static class PeerProcess
{
    /// <summary>Runs <paramref name="exe"/> with arguments; a non-zero exit is an error carrying its stderr.</summary>
    public static PeerJson RunJson(string exe, IEnumerable<string> args, string installHint)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        Process p;
        try { p = Process.Start(psi)!; }
        catch (System.ComponentModel.Win32Exception e) { throw new FileNotFoundException($"{exe}: cannot start ({e.Message}); {installHint}"); }
        using (p)
        {
            var stderr = p.StandardError.ReadToEndAsync();
            var stdout = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0)
                throw new InvalidOperationException($"{exe} {string.Join(' ', psi.ArgumentList.Take(1))} exited with {p.ExitCode}: {Last(stderr.Result, 600)}");
            var last = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()
                ?? throw new InvalidDataException($"{exe} {psi.ArgumentList[0]} printed nothing");
            try { return new PeerJson(JsonDocument.Parse(last).RootElement.Clone()); }
            catch (JsonException e) { throw new InvalidDataException($"{psi.ArgumentList[0]}: last line is not JSON ({e.Message}): {Last(last, 200)}"); }
        }
    }

    static string Last(string s, int n) { s = s.Trim(); return s.Length <= n ? s : "..." + s[^n..]; }
}
