// `lightglm bench llama-cpp --model DIR`: llama.cpp (LLamaSharp) as a peer on the very same weights — each format exported
// to GGUF, then our engine and llama.cpp each measured alone in a child process of this command (so each peak RSS is one
// side's alone): our fp32 vs its F32/F16, our int8 vs its Q8_0, our int4 vs its Q4_0, the greedy tokens compared.
using LightGlm.Model;
using System.CommandLine;
using System.Diagnostics;
using LightGlm.Cli.LlamaCpp;
using LightGlm.Evaluation.Bench;
using LightGlm.Interop;
using LightGlm.Interop.Gguf;
using LightGlm.Model.Inference;

namespace LightGlm.Cli.Commands;

public sealed class LlamaCppBenchCommand : ICliCommand
{
    public string[] Path => ["bench", "llama-cpp"];

    /// <summary>Our format measured against each GGUF type (weight-only, blocks of 32 on both sides).</summary>
    static WeightFormat Ours(GgmlType t) => t switch { GgmlType.Q8_0 => WeightFormat.Int8, GgmlType.Q4_0 => WeightFormat.Int4, _ => WeightFormat.Fp32 };

    public Command Build()
    {
        var model = new Option<string>("--model") { Description = "Model directory (ours or a Hugging Face checkpoint)", Required = true };
        var formats = new Option<string>("--formats") { Description = "GGUF types, comma list of f32, f16, q8_0, q4_0 (ours: fp32, fp32, int8, int4)", DefaultValueFactory = _ => "f32,q8_0,q4_0" };
        var threads = new Option<int>("--threads") { Description = "Threads on both sides (our GEMM + kernels; llama.cpp n_threads and n_threads_batch)", DefaultValueFactory = _ => 2 };
        var prompts = new Option<string>("--prompt-tokens") { Description = "Prefill lengths, comma list; decode follows the first", DefaultValueFactory = _ => "64,512" };
        var tokens = new Option<int>("--tokens") { Description = "Greedy tokens decoded (and compared)", DefaultValueFactory = _ => 32 };
        var reps = new Option<int>("--reps") { Description = "Timed repetitions per measurement after a warm-up; the best is reported", DefaultValueFactory = _ => 2 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of the table" };
        var keep = new Option<string?>("--gguf-dir") { Description = "Keep the GGUF files in this directory (default: a temp directory, deleted)" };
        var cmd = new Command("llama-cpp", "Our engine and llama.cpp (LLamaSharp, CPU) on the very same weights exported to GGUF: load, prefill, decode ms/token, peak RSS, greedy tokens; each side in its own child process.")
        { model, formats, threads, prompts, tokens, reps, json, keep };
        cmd.SetAction(r => ImportCommand.Guard(() =>
        {
            var problems = new List<string>();
            string dir = r.GetValue(model)!;
            int th = r.GetValue(threads), n = r.GetValue(tokens), k = r.GetValue(reps);
            if (!Directory.Exists(dir)) problems.Add($"--model {dir}: directory not found");
            if (th < 1) problems.Add($"--threads must be ≥ 1, got {th}");
            if (n < 2) problems.Add($"--tokens must be ≥ 2, got {n}");
            if (k < 1) problems.Add($"--reps must be ≥ 1, got {k}");
            var types = new List<GgmlType>();
            foreach (var f in r.GetValue(formats)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                try { types.Add(GgmlQuant.Parse(f)); } catch (ArgumentException e) { problems.Add($"--formats: {e.Message}"); }
            var lengths = ParseLengths(r.GetValue(prompts)!, problems);
            if (problems.Count > 0) throw new CliException(string.Join("\n", problems));

            ModelConfig config;
            using (var w = MappedWeights.Open(dir)) config = w.Config;
            try { GgufExporter.ArchitectureFor(config); }
            catch (NotSupportedException e) { throw new CliException(e.Message); }
            var notes = new List<string>();
            if (config.PrefixLm) notes.Add("the model has the GLM prefix mask; both sides here run the prompt causally");
            var fit = lengths.Where(p => p + n + 1 <= config.MaxPositionEmbeddings).ToArray();
            foreach (var p in lengths.Except(fit)) notes.Add($"prompt {p} skipped: {p} + {n} tokens exceed max_position_embeddings {config.MaxPositionEmbeddings}");
            if (fit.Length == 0) throw new CliException($"no --prompt-tokens length fits max_position_embeddings {config.MaxPositionEmbeddings} with --tokens {n}");

            string ggufDir = r.GetValue(keep) ?? System.IO.Path.Combine(System.IO.Path.GetTempPath(), "lightglm-gguf-bench-" + Guid.NewGuid().ToString("N")[..12]);
            Directory.CreateDirectory(ggufDir);
            var rows = new List<GgufPeerRow>();
            try
            {
                foreach (var t in types)
                {
                    string file = System.IO.Path.Combine(ggufDir, $"model-{GgmlQuant.Name(t)}.gguf");
                    var sw = Stopwatch.StartNew();
                    var rep = GgufExporter.Export(dir, file, t);
                    double exportS = sw.Elapsed.TotalSeconds;
                    string common = $"--format {{0}} --threads {th} --prompt-tokens {string.Join(',', fit)} --tokens {n} --reps {k}";
                    var ours = Child(["--engine", "lightglm", "--source", dir, .. string.Format(common, InferenceWeights.Name(Ours(t))).Split(' ')]);
                    var peer = Child(["--engine", "llama.cpp", "--source", file, "--forced", string.Join(',', ours.Greedy), .. string.Format(common, GgmlQuant.Name(t)).Split(' ')]);
                    rows.Add(new(t, ours, peer, exportS, rep.Bytes));
                    if (ours.Source is { } src && !notes.Contains($"ours {ours.Format}: {src}")) notes.Add($"ours {ours.Format}: {src}");
                    if (!r.GetValue(json)) Console.Error.WriteLine($"  {GgmlQuant.Name(t)}: exported {rep.Bytes / 1e6:F1} MB in {exportS:F1} s, measured both sides");
                }
            }
            finally { if (r.GetValue(keep) is null) try { Directory.Delete(ggufDir, true); } catch (IOException) { } }

            if (r.GetValue(json)) Console.WriteLine(PeerBenchJson.LlamaCpp(dir, th, fit, n, rows, notes));
            else Print(dir, config, th, fit, n, k, rows, notes);
            return 0;
        }));
        return cmd;
    }

    internal static int[] ParseLengths(string text, List<string> problems)
    {
        var list = new List<int>();
        foreach (var s in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            if (int.TryParse(s, out int v) && v >= 1) list.Add(v); else problems.Add($"--prompt-tokens: '{s}' is not a length ≥ 1");
        if (list.Count == 0 && problems.Count == 0) problems.Add("--prompt-tokens: give at least one length");
        return [.. list];
    }

    /// <summary>Runs `bench llama-cpp-side` in a child process of this CLI and reads its result line.</summary>
    internal static PeerResult Child(string[] args)
    {
        string exe = Environment.ProcessPath ?? throw new CliException("cannot find this process's executable to start a measurement child");
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, UseShellExecute = false };
        if (System.IO.Path.GetFileNameWithoutExtension(exe) == "dotnet") psi.ArgumentList.Add(typeof(LlamaCppBenchCommand).Assembly.Location);
        foreach (var a in (string[])["bench", "llama-cpp-side", .. args]) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new CliException($"could not start {exe}");
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return PeerResult.FromOutput(stdout) ?? throw new CliException(
            $"the measurement child ({string.Join(' ', args)}) exited with code {p.ExitCode} without a result; its output:\n{stdout}");
    }

    static void Print(string dir, ModelConfig c, int threads, int[] lengths, int tokens, int reps, List<GgufPeerRow> rows, List<string> notes)
    {
        Console.WriteLine($"model {dir}: arch {GgufExporter.ArchitectureFor(c)}, L {c.L}, C {c.C}, H {c.H}/{c.KV}, D {c.D}, F {c.F}, V {c.V}; " +
                          $"{threads} thread(s) both sides; {Environment.ProcessorCount} cores; best of {reps} after a warm-up; load average {LoadAverage.Text()}");
        string pre = string.Join(" | ", lengths.Select(p => $"prefill {p} ms"));
        Console.WriteLine($"| weights | engine | load s | {pre} | decode ms/token | peak RSS MB | greedy: leading tokens equal | argmax equal on our tokens |");
        Console.WriteLine("|---|---|---|" + string.Concat(lengths.Select(_ => "---|")) + "---|---|---|---|");
        foreach (var (t, ours, peer, _, _) in rows)
        {
            int agree = PeerResult.Agreeing(ours.Greedy, peer.Greedy);
            foreach (var x in new[] { ours, peer })
                Console.WriteLine($"| {GgmlQuant.Name(t)} | {x.Engine} {x.Format} | {x.LoadS:F2} | {string.Join(" | ", lengths.Select(p => x.PrefillMs[p].ToString("F2")))} | " +
                                  $"{x.DecodeMsPerToken:F3} | {x.PeakRssMb:F0} | {(x == ours ? "" : $"{agree}/{tokens}")} | {(x == ours ? "" : $"{PeerResult.ForcedAgreeing(ours, peer)}/{tokens}")} |");
        }
        Console.WriteLine("Each side ran alone in its own child process (peak RSS = its VmHWM, mapped weight pages included); llama.cpp with its defaults " +
                          "(f16 K/V cache, mmap, flash attention auto), ours with an fp32 K/V cache; prompts are token ids (the GGUF's vocabulary is a placeholder).");
        Console.WriteLine("Ours: int8/int4 quantized at load (counted in load s), one fp32 scale per 32 weights; " +
                          "llama.cpp: Q8_0/Q4_0 blocks of 32 with an fp16 scale, quantized at export (not in load s). The last column feeds llama.cpp our greedy tokens and counts the steps where its argmax equals ours (one flipped near-tie ends the leading run, not this count); " +
                          "llama.cpp's Q8_0/Q4_0 matmuls also quantize the activations to 8 bits, ours keep them fp32.");
        foreach (var n in notes) Console.WriteLine("note: " + n);
    }
}

/// <summary>`bench llama-cpp-side` (hidden): one side of `bench llama-cpp`, measured alone in this process; prints one result line.</summary>
public sealed class LlamaCppBenchSideCommand : ICliCommand
{
    public string[] Path => ["bench", "llama-cpp-side"];

    public Command Build()
    {
        var engine = new Option<string>("--engine") { Required = true };
        var source = new Option<string>("--source") { Required = true };
        var format = new Option<string>("--format") { Required = true };
        var threads = new Option<int>("--threads") { DefaultValueFactory = _ => 2 };
        var prompts = new Option<string>("--prompt-tokens") { DefaultValueFactory = _ => "64" };
        var tokens = new Option<int>("--tokens") { DefaultValueFactory = _ => 32 };
        var reps = new Option<int>("--reps") { DefaultValueFactory = _ => 2 };
        var forced = new Option<string?>("--forced") { Description = "llama.cpp: our greedy tokens to feed while timing decode" };
        var cmd = new Command("llama-cpp-side", "One side of `bench llama-cpp` (internal).") { engine, source, format, threads, prompts, tokens, reps, forced };
        cmd.Hidden = true;
        cmd.SetAction(r => ImportCommand.Guard(() =>
        {
            var lengths = r.GetValue(prompts)!.Split(',').Select(int.Parse).ToArray();
            int th = r.GetValue(threads), n = r.GetValue(tokens), k = r.GetValue(reps);
            var result = r.GetValue(engine) switch
            {
                "lightglm" => PeerRun.Ours(r.GetValue(source)!, InferenceWeights.ParseFormat(r.GetValue(format)!), th, lengths, n, k),
                "llama.cpp" => LlamaCppPeer.Run(r.GetValue(source)!, r.GetValue(format)!, th, lengths, n, k,
                    r.GetValue(forced)?.Split(',').Select(int.Parse).ToArray()),
                var e => throw new CliException($"--engine {e}: lightglm or llama.cpp"),
            };
            Console.WriteLine(result.ToLine());
            return 0;
        }));
        return cmd;
    }
}
