// `lightglm bench mapped-decode --model DIR`: load time, memory and per-token decode time of a checkpoint kept in its stored dtype.
using System.CommandLine;
using System.Diagnostics;
using LightGlm.Interop;
using LightGlm.Interop.Inference;

namespace LightGlm.Cli.Commands;

public sealed class ImportDecodeBenchCommand : ICliCommand
{
    public string[] Path => ["bench", "mapped-decode"];

    public Command Build()
    {
        var model = new Option<string>("--model") { Description = "A LightGlm model directory or a Hugging Face checkpoint (ChatGLM2/3, GLM-4, LLaMA, Qwen2)", Required = true };
        var steps = new Option<int>("--steps") { Description = "Decode steps to time after the first (default 3)", DefaultValueFactory = _ => 3 };
        var prompt = new Option<string>("--prompt-ids") { Description = "Comma-separated token ids fed before timing decode (default 1,2,3)", DefaultValueFactory = _ => "1,2,3" };
        var engine = new Option<bool>("--engine") { Description = "Load into the model engine instead (ModelDirectory.Load: one fp32 arena, ≤ 2^31 values) and decode with its InferenceSession" };
        var cmd = new Command("mapped-decode", "Measure loading and decoding with memory-mapped weights in their stored dtype (bf16/fp16/fp32), fp32 compute per block.")
        {
            model, steps, prompt, engine,
        };
        cmd.SetAction(r => ImportCommand.Guard(() =>
        {
            string dir = r.GetValue(model)!;
            if (!Directory.Exists(dir)) throw new CliException($"--model {dir}: directory not found");
            int n = r.GetValue(steps);
            if (n < 0) throw new CliException($"--steps {n} must be >= 0");
            int[] ids;
            try { ids = r.GetValue(prompt)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse).ToArray(); }
            catch (FormatException) { throw new CliException($"--prompt-ids '{r.GetValue(prompt)}': expected comma-separated integers"); }
            if (ids.Length == 0) throw new CliException("--prompt-ids: give at least one token id");
            Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version} (timings are noisy when the machine is shared)");
            if (r.GetValue(engine)) return Engine(dir, ids, n);
            var sw = Stopwatch.StartNew();
            using var w = MappedWeights.Open(dir);
            var d = new MappedDecoder(w, ids.Length + n + 1);
            double load = sw.Elapsed.TotalSeconds;
            var c = w.Config;
            long stored = w.Archive.Tensors.Values.Sum(t => t.End - t.Begin);
            Console.WriteLine($"model: {(w.Architecture?.FormatName() ?? "lightglm")}, L={c.L} C={c.C} H={c.H} KV={c.KV} D={c.D} F={c.F} V={c.V}; " +
                              $"{stored / 1e9:F2} GB stored in {w.Archive.Files.Count} file(s), dtypes {string.Join("/", w.Archive.Tensors.Values.Select(t => t.DType).Distinct())}");
            Console.WriteLine($"load (open + validate shards, map, read norms/biases): {load:F2} s; {Memory()}");
            sw.Restart();
            int next = 0;
            ReadOnlySpan<float> logits = default;
            foreach (var t in ids) logits = d.Step(t);
            double prefill = sw.Elapsed.TotalSeconds;
            next = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(logits);
            Console.WriteLine($"first {ids.Length} token(s) (pages weights in from disk as they are touched): {prefill:F2} s ({prefill / ids.Length:F2} s/token); {Memory()}");
            var times = new List<double>();
            var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            for (int i = 0; i < n; i++)
            {
                sw.Restart();
                logits = d.Step(next);
                times.Add(sw.Elapsed.TotalSeconds);
                next = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(logits);
            }
            if (times.Count > 0)
                Console.WriteLine($"decode: {times.Count} step(s), median {times.Order().ElementAt(times.Count / 2):F2} s/token (min {times.Min():F2}, max {times.Max():F2}), " +
                                  $"CPU {CpuSince(cpu0) / times.Count:F2} s/token; {Memory()}");
            Console.WriteLine($"greedy token after the last step: {next}");
            return 0;
        }));
        return cmd;
    }

    /// <summary>The same measurement through the model engine: fp32 arena loaded whole, InferenceSession prefill + decode.</summary>
    static int Engine(string dir, int[] ids, int n)
    {
        var sw = Stopwatch.StartNew();
        var m = LightGlm.Model.Checkpoints.ModelDirectory.Load(dir);
        double load = sw.Elapsed.TotalSeconds;
        var c = m.Config;
        Console.WriteLine($"engine model: L={c.L} C={c.C} H={c.H} KV={c.KV} D={c.D} F={c.F} V={c.V}; {m.Layout.TotalLength:N0} parameters, {m.Layout.TotalLength * 4L / 1e9:F2} GB fp32 arena");
        Console.WriteLine($"load (read + widen into the arena): {load:F2} s; {Memory()}");
        var session = new LightGlm.Model.Inference.InferenceSession(m, 1, ids.Length + n + 1);
        var logits = new float[c.V];
        sw.Restart();
        session.Prefill(0, ids, logits);
        Console.WriteLine($"prefill {ids.Length} token(s): {sw.Elapsed.TotalSeconds:F2} s; {Memory()}");
        int next = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(logits);
        var times = new List<double>();
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        for (int i = 0; i < n; i++)
        {
            sw.Restart();
            session.Decode([0], [next], logits);
            times.Add(sw.Elapsed.TotalSeconds);
            next = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(logits);
        }
        if (times.Count > 0)
            Console.WriteLine($"decode: {times.Count} step(s), median {times.Order().ElementAt(times.Count / 2):F3} s/token (min {times.Min():F3}, max {times.Max():F3}), " +
                              $"CPU {CpuSince(cpu0) / times.Count:F3} s/token; {Memory()}");
        Console.WriteLine($"greedy token after the last step: {next}");
        return 0;
    }

    /// <summary>CPU seconds (all threads) used by this process since <paramref name="t0"/>: a load-independent cost on a shared machine.</summary>
    static double CpuSince(TimeSpan t0) => (Process.GetCurrentProcess().TotalProcessorTime - t0).TotalSeconds;

    /// <summary>Peak and current resident memory from /proc/self/status: anonymous (our buffers) vs file-backed (mapped weights in the page cache).</summary>
    static string Memory()
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
