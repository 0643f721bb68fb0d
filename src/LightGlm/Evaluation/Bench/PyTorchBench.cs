// Runs tests/reference/bench_pytorch.py (Debian's /usr/bin/python3 + python3-torch) on the same model and parses its JSON.
using System.Diagnostics;
using System.Text.Json;

namespace LightGlm.Evaluation.Bench;

public static class PyTorchBench
{
    public const string ScriptRelative = "tests/reference/bench_pytorch.py";

    /// <summary>The script, searched upwards from the working directory and from the program's folder.</summary>
    public static string? FindScript()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
            {
                var p = Path.Combine(d.FullName, ScriptRelative);
                if (File.Exists(p)) return p;
            }
        return null;
    }

    /// <summary>
    /// Writes the bench config to a temp config.json so both sides build exactly the same model, runs the script
    /// (which probes PyTorch's thread settings and measures at the best one), and returns its numbers.
    /// </summary>
    public static SideResult Run(BenchSpec spec, string what, int steps, string python, string? script, string setting = "best")
    {
        script ??= FindScript() ?? throw new FileNotFoundException(
            $"{ScriptRelative} not found above {Environment.CurrentDirectory}; run from the repository or pass --pytorch-script");
        if (!File.Exists(python)) throw new FileNotFoundException($"{python}: Python not found (PyTorch side needs Debian's python3-torch: apt-get install python3-torch)");
        var cfg = Path.Combine(Path.GetTempPath(), $"lightglm-bench-{Environment.ProcessId}-{spec.Name}.json");
        File.WriteAllText(cfg, spec.Config.ToJson());
        try
        {
            var psi = new ProcessStartInfo(python)
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            // The same OpenBLAS kernels as ours (PyTorch's BLAS is Debian's OpenBLAS too): see Gemm.OpenBlasCoreTypeSet.
            if (Kernels.Gemm.OpenBlasCoreTypeSet is { } core) psi.Environment["OPENBLAS_CORETYPE"] = core;
            foreach (var a in new[] { script, "--config-json", cfg, "--batch", spec.Batch.ToString(), "--seq", spec.Seq.ToString(),
                         "--prompt-len", spec.PromptLength.ToString(), "--gen-len", spec.GenLength.ToString(),
                         "--steps", steps.ToString(), "--what", what, "--setting", setting })
                psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var stderr = p.StandardError.ReadToEndAsync();
            var stdout = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0)
                throw new InvalidOperationException($"{script} exited with {p.ExitCode}:\n{stderr.Result.Trim()}");
            var last = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()
                ?? throw new InvalidDataException($"{script} printed nothing");
            using var doc = JsonDocument.Parse(last);
            var r = doc.RootElement;
            double? Get(string k) => r.TryGetProperty(k, out var e) && e.ValueKind == JsonValueKind.Number ? e.GetDouble() : null;
            var picked = r.TryGetProperty("setting", out var s) ? string.Join(", ", s.EnumerateObject().Select(o => $"{o.Name}: {o.Value.GetString()}")) : "";
            return new SideResult
            {
                TrainMsPerStep = Get("train_ms_per_step"), TrainTokensPerS = Get("train_tokens_per_s"),
                DecodeMsPerToken = Get("decode_ms_per_token"), PrefillMs = Get("prefill_ms"), PeakRssMb = Get("peak_rss_mb"),
                Note = $"PyTorch {r.GetProperty("torch").GetString()}, best thread setting ({picked}){(Kernels.Gemm.OpenBlasCoreTypeSet is { } ct ? $", OPENBLAS_CORETYPE={ct} as ours" : "")}; peak RSS = ru_maxrss of its measuring process",
            };
        }
        finally { File.Delete(cfg); }
    }
}
