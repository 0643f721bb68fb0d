// `lightglm bench large-decode --shape qwen2.5-0.5b|chatglm2-6b [--vs-llamacpp] [--json]`: decode, prefill, load and
// peak RSS of a large model of a real shape on random weights (written once to the cache, in bf16 like the released
// checkpoints), ours in fp32/bf16/int8/int4 and — with --vs-llamacpp — llama.cpp on the very same weights exported to
// GGUF (f32/f16/q8_0/q4_0), each side alone in a child process (`bench llama-cpp-side`).
using System.CommandLine;
using System.Diagnostics;
using LightGlm.Evaluation.Bench;
using LightGlm.Interop;
using LightGlm.Interop.Gguf;
using LightGlm.Model.Checkpoints;
using LightGlm.Text.Corpus;

namespace LightGlm.Cli.Commands;

public sealed class LargeDecodeBenchCommand : ICliCommand
{
    public string[] Path => ["bench", "large-decode"];

    /// <summary>Our format, the checkpoint dtype it reads, the format our child runs, and llama.cpp's type beside it.</summary>
    static readonly Dictionary<string, (TensorDType Stored, string OurFormat, GgmlType Peer)> Pairs = new()
    {
        ["fp32"] = (TensorDType.F32, "fp32", GgmlType.F32),
        ["bf16"] = (TensorDType.BF16, "fp32", GgmlType.F16),
        ["int8"] = (TensorDType.BF16, "int8", GgmlType.Q8_0),
        ["int4"] = (TensorDType.BF16, "int4", GgmlType.Q4_0),
    };

    public Command Build()
    {
        var shape = new Option<string>("--shape") { Description = $"A real model's config and tensor shapes: {string.Join(", ", SyntheticCheckpoint.Shapes.Keys)}", Required = true };
        var layers = new Option<int?>("--layers") { Description = "Only the first N layers (same widths): a quicker stand-in of the same shape" };
        var formats = new Option<string>("--formats") { Description = "Ours, comma list of fp32, bf16, int8, int4 (llama.cpp beside each: f32, f16, q8_0, q4_0)", DefaultValueFactory = _ => "bf16,int8,int4" };
        var peer = new Option<bool>("--vs-llamacpp") { Description = "Measure llama.cpp (LLamaSharp, CPU) on the same weights exported to GGUF, side by side" };
        var threads = new Option<int>("--threads") { Description = "Threads on both sides", DefaultValueFactory = _ => 2 };
        var prompts = new Option<string>("--prompt-tokens") { Description = "Prefill lengths, comma list; decode follows the first", DefaultValueFactory = _ => "64,512" };
        var tokens = new Option<int>("--tokens") { Description = "Greedy tokens decoded (and compared)", DefaultValueFactory = _ => 16 };
        var reps = new Option<int>("--reps") { Description = "Timed repetitions per measurement after a warm-up; the best is reported", DefaultValueFactory = _ => 2 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of the table" };
        var cache = new Option<string?>("--cache") { Description = "Where the random checkpoints and GGUF files are kept (default: $LIGHTGLM_CACHE/large)" };
        var quantizedDir = new Option<bool>("--quantized-dir") { Description = "Also measure int8/int4 loaded from a quantized checkpoint (import --quantize, written once to the cache) beside quantizing at load" };
        var cmd = new Command("large-decode", "Decode ms/token, prefill ms, load s and peak RSS of a large model shape on random weights (bf16 like the released checkpoints), " +
                                              "ours in fp32/bf16/int8/int4 and, with --vs-llamacpp, llama.cpp on the very same weights in GGUF; each side alone in a child process.")
        { shape, layers, formats, peer, threads, prompts, tokens, reps, json, cache, quantizedDir };
        cmd.SetAction(r => ImportCommand.Guard(() =>
        {
            var problems = new List<string>();
            (LightGlm.Model.ModelConfig config, HfArchitecture hf) s = default;
            string name = r.GetValue(shape)!;
            try { s = SyntheticCheckpoint.Shape(name); } catch (ArgumentException e) { problems.Add($"--shape: {e.Message}"); }
            if (r.GetValue(layers) is { } n && s.config is not null)
            {
                if (n < 1 || n > s.config.NumHiddenLayers) problems.Add($"--layers {n} must be in [1, {s.config.NumHiddenLayers}]");
                else s.config.NumHiddenLayers = n;
            }
            var chosen = new List<string>();
            foreach (var f in r.GetValue(formats)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                if (Pairs.ContainsKey(f)) { if (!chosen.Contains(f)) chosen.Add(f); }
                else problems.Add($"--formats: '{f}' is not one of {string.Join(", ", Pairs.Keys)}");
            if (chosen.Count == 0 && problems.Count == 0) problems.Add("--formats: give at least one format");
            int th = r.GetValue(threads), tk = r.GetValue(tokens), k = r.GetValue(reps);
            if (th < 1) problems.Add($"--threads must be ≥ 1, got {th}");
            if (tk < 2) problems.Add($"--tokens must be ≥ 2, got {tk}");
            if (k < 1) problems.Add($"--reps must be ≥ 1, got {k}");
            var lengths = LlamaCppBenchCommand.ParseLengths(r.GetValue(prompts)!, problems);
            if (s.config is not null && lengths.Any(p => p + tk + 1 > s.config.MaxPositionEmbeddings))
                problems.Add($"--prompt-tokens {string.Join(',', lengths)} + --tokens {tk} exceed the shape's max_position_embeddings {s.config.MaxPositionEmbeddings}");
            if (problems.Count > 0) throw new CliException(string.Join("\n", problems));
            var config = s.config!;
            if (chosen.Contains("fp32") && config.ParameterEstimate() > 2e9)
                throw new CliException($"--formats fp32: {name} has {config.ParameterEstimate() / 1e9:F1}B parameters; an f32 copy ({config.ParameterEstimate() * 4 / 1e9:F0} GB) " +
                                       "is not kept for it — measure bf16, int8 and int4 (llama.cpp f16, q8_0, q4_0)");

            string root = System.IO.Path.Combine(r.GetValue(cache) ?? System.IO.Path.Combine(RepoPaths.CacheDir, "large"),
                $"{name}{(r.GetValue(layers) is { } l ? $"-L{l}" : "")}");
            bool quiet = r.GetValue(json);
            void Log(string m) => Console.Error.WriteLine("  " + m);
            string Checkpoint(TensorDType dt)
            {
                string dir = System.IO.Path.Combine(root, $"hf-{dt.TorchName()}");
                if (!File.Exists(System.IO.Path.Combine(dir, ModelDirectory.ConfigFile)))
                {
                    var sw = Stopwatch.StartNew();
                    if (Directory.Exists(dir)) Directory.Delete(dir, true); // an interrupted write
                    SyntheticCheckpoint.Write(config, s.hf, dir, dt, seed: 1);
                    Log($"wrote {name} ({config.ParameterEstimate():N0} parameters, {config.NumHiddenLayers} layers) in {dt.TorchName()} to {dir} in {sw.Elapsed.TotalSeconds:F0} s");
                }
                return dir;
            }
            string Gguf(string dir, GgmlType t)
            {
                string file = System.IO.Path.Combine(root, $"model-{GgmlQuant.Name(t)}.gguf");
                if (!File.Exists(file))
                {
                    var sw = Stopwatch.StartNew();
                    var rep = GgufExporter.Export(dir, file, t); // written to a temporary name, then renamed
                    Log($"exported {GgmlQuant.Name(t)} GGUF ({rep.Bytes / 1e6:F0} MB) in {sw.Elapsed.TotalSeconds:F0} s");
                }
                return file;
            }

            string QuantizedDir(string dir, string f)
            {
                var q = QuantizationEntry.Create(LightGlm.Model.Inference.InferenceWeights.ParseFormat(f), 32);
                string qdir = System.IO.Path.Combine(root, $"lightglm-{f}-g32");
                if (!File.Exists(System.IO.Path.Combine(qdir, ModelDirectory.ConfigFile)))
                {
                    var sw = Stopwatch.StartNew(); // embedding kept bf16, as the source: exact, and half the bytes
                    LightGlm.IO.AtomicDirectory.Write(qdir, partial => HfImporter.Import(dir, partial, TensorDType.BF16, QuantizedCheckpointWriter.DefaultMaxShardBytes, q));
                    Log($"wrote the {q} quantized checkpoint to {qdir} in {sw.Elapsed.TotalSeconds:F0} s");
                }
                return qdir;
            }

            var ours = new Dictionary<string, PeerResult>();
            var peers = new Dictionary<string, (string Name, PeerResult Result)>();
            string common = $"--threads {th} --prompt-tokens {string.Join(',', lengths)} --tokens {tk} --reps {k}";
            foreach (var f in chosen)
            {
                var (stored, ourFormat, peerType) = Pairs[f];
                string dir = Checkpoint(stored);
                Log($"{f}: measuring ours...");
                ours[f] = LlamaCppBenchCommand.Child(["--engine", "lightglm", "--source", dir, "--format", ourFormat, .. common.Split(' ')]);
                if (r.GetValue(quantizedDir) && ourFormat is "int8" or "int4")
                {
                    string qdir = QuantizedDir(dir, ourFormat);
                    Log($"{f}: measuring ours from the quantized checkpoint...");
                    ours[f + PeerBenchJson.QuantizedSuffix] = LlamaCppBenchCommand.Child(["--engine", "lightglm", "--source", qdir, "--format", ourFormat, .. common.Split(' ')]);
                }
                if (!r.GetValue(peer)) continue;
                string file = Gguf(dir, peerType);
                Log($"{f}: measuring llama.cpp {GgmlQuant.Name(peerType)}...");
                peers[f] = (GgmlQuant.Name(peerType), LlamaCppBenchCommand.Child(["--engine", "llama.cpp", "--source", file, "--format", GgmlQuant.Name(peerType),
                    "--forced", string.Join(',', ours[f].Greedy), .. common.Split(' ')]));
            }
            if (quiet) Console.WriteLine(PeerBenchJson.LargeDecode(name, config, th, lengths, tk, ours, peers));
            else Print(name, config, th, lengths, tk, k, ours, peers);
            return 0;
        }));
        return cmd;
    }

    static void Print(string shape, LightGlm.Model.ModelConfig c, int threads, int[] lengths, int tokens, int reps,
        Dictionary<string, PeerResult> ours, Dictionary<string, (string Name, PeerResult Result)> peers)
    {
        Console.WriteLine($"{shape}: {c.ParameterEstimate():N0} parameters, {c.NumHiddenLayers} layers, random weights; {threads} thread(s) both sides, " +
                          $"{Environment.ProcessorCount} cores, best of {reps} after a warm-up; load average {LoadAverage.Text()}");
        string pre = string.Join(" | ", lengths.Select(p => $"prefill {p} ms"));
        Console.WriteLine($"| weights | engine | load s | {pre} | decode ms/token | peak RSS MB | greedy: leading equal | argmax equal on our tokens |");
        Console.WriteLine("|---|---|---|" + string.Concat(lengths.Select(_ => "---|")) + "---|---|---|---|");
        foreach (var (f, x) in ours.Where(kv => !kv.Key.EndsWith(PeerBenchJson.QuantizedSuffix, StringComparison.Ordinal)))
        {
            var rows = new List<(string Label, PeerResult R, string Agree, string Forced)> { ($"ours {f}", x, "", "") };
            if (ours.TryGetValue(f + PeerBenchJson.QuantizedSuffix, out var q)) // same engine and quants: its greedy tokens must equal the row above
                rows.Add(($"ours {f}, quantized dir", q, $"{PeerResult.Agreeing(x.Greedy, q.Greedy)}/{tokens}", ""));
            if (peers.TryGetValue(f, out var y))
                rows.Add(($"llama.cpp {y.Name}", y.Result, $"{PeerResult.Agreeing(x.Greedy, y.Result.Greedy)}/{tokens}",
                    $"{PeerResult.ForcedAgreeing(x, y.Result)}/{tokens}"));
            foreach (var (label, v, agree, forced) in rows)
                Console.WriteLine($"| {f} | {label} | {v.LoadS:F2} | {string.Join(" | ", lengths.Select(p => v.PrefillMs[p].ToString("F1")))} | " +
                                  $"{v.DecodeMsPerToken:F1} | {v.PeakRssMb:F0} | {agree} | {forced} |");
        }
        Console.WriteLine("Ours: bf16 = the bf16 checkpoint memory-mapped and widened on the fly; int8/int4 = quantized from it at load (in load s), " +
                          "or (\"quantized dir\") read from a quantized checkpoint written once by import --quantize (its greedy column: tokens equal to the row above), " +
                          "one fp32 scale per 32 weights; fp32 = an f32 copy, mapped. llama.cpp: its defaults (f16 K/V cache, mmap); Q8_0/Q4_0 quantized at " +
                          "export (not in load s). Random weights prove speed and memory only; greedy agreement on random weights is limited by near-ties.");
    }
}
