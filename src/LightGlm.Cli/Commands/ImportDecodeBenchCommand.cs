// `lightglm bench mapped-decode --model DIR`: load time, memory and per-token decode time of a checkpoint kept in its stored dtype.
using System.CommandLine;
using System.Diagnostics;
using LightGlm.Evaluation.Bench;
using LightGlm.Interop;
using LightGlm.Interop.Inference;
using LightGlm.Model.Inference;

namespace LightGlm.Cli.Commands;

public sealed class ImportDecodeBenchCommand : ICliCommand
{
    public string[] Path => ["bench", "mapped-decode"];

    public Command Build()
    {
        var model = new Option<string>("--model") { Description = "A LightGlm model directory (also a quantized one: import|export --quantize) or a Hugging Face checkpoint (ChatGLM2/3, GLM-4, LLaMA, Qwen2)", Required = true };
        var steps = new Option<int>("--steps") { Description = "Decode steps to time after the first (default 3)", DefaultValueFactory = _ => 3 };
        var prompt = new Option<string>("--prompt-ids") { Description = "Comma-separated token ids fed before timing decode (default 1,2,3)", DefaultValueFactory = _ => "1,2,3" };
        var engine = new Option<bool>("--engine") { Description = "Load into the model engine's fp32 arena instead (ModelDirectory.Load: ≤ 2^31 values) — the same forward pass over in-memory weights" };
        var quantize = new Option<string>("--quantize") { Description = "Quantize the projections and head after loading: int8, int4 or none (weight-only, group 32)", DefaultValueFactory = _ => "none" };
        var cmd = new Command("mapped-decode", "Measure loading, prefill and decode of a checkpoint with its weights memory-mapped in their stored dtype (bf16/fp16/fp32), through the one forward pass (InferenceSession).")
        {
            model, steps, prompt, engine, quantize,
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
            var format = LightGlm.Model.Inference.InferenceWeights.ParseFormat(r.GetValue(quantize)!);
            var sw = Stopwatch.StartNew();
            MappedWeights? mapped = null;
            LightGlm.Model.Checkpoints.QuantizedCheckpointWeights? quantized = null;
            InferenceWeights weights;
            try
            {
                if (LightGlm.Model.Checkpoints.QuantizedCheckpoint.Is(dir))
                {   // import|export --quantize: the quants as stored, nothing quantized here
                    if (r.GetValue(engine)) throw new CliException($"--engine: {dir} is a quantized checkpoint, which has no fp32 arena; drop --engine");
                    quantized = LightGlm.Model.Checkpoints.QuantizedCheckpointWeights.Open(dir);
                    Console.WriteLine($"quantized checkpoint: {quantized.Quantization}, {quantized.StoredBytes / 1e9:F2} GB stored in {quantized.FileCount} file(s)");
                    weights = quantized;
                }
                else if (r.GetValue(engine))
                {
                    var m = LightGlm.Model.Checkpoints.ModelDirectory.Load(dir);
                    Console.WriteLine($"engine model: {m.Layout.TotalLength:N0} parameters, {m.Layout.TotalLength * 4L / 1e9:F2} GB fp32 arena");
                    weights = InferenceWeights.Fp32(m);
                }
                else
                {
                    mapped = MappedWeights.Open(dir);
                    long stored = mapped.Archive.Tensors.Values.Sum(t => t.End - t.Begin);
                    Console.WriteLine($"mapped model: {(mapped.Architecture?.FormatName() ?? "lightglm")}, {stored / 1e9:F2} GB stored in {mapped.Archive.Files.Count} file(s), " +
                                      $"dtypes {string.Join("/", mapped.Archive.Tensors.Values.Select(t => t.DType).Distinct())}");
                    weights = MappedInferenceWeights.Create(mapped);
                }
                double load = sw.Elapsed.TotalSeconds;
                var c = weights.Config;
                string how = quantized is not null ? "open + validate shards, lay the quants into the kernel's blocks, read norms/biases"
                    : r.GetValue(engine) ? "read + widen into the arena" : "open + validate shards, map, read norms/biases";
                Console.WriteLine($"L={c.L} C={c.C} H={c.H} KV={c.KV} D={c.D} F={c.F} V={c.V}; load ({how}): {load:F2} s; {PeakMemory.Describe()}");
                if (format != WeightFormat.Fp32 && weights.Format != WeightFormat.Fp32)
                {
                    if (format != weights.Format)
                        throw new CliException($"--quantize {InferenceWeights.Name(format)}: {dir} is stored as {InferenceWeights.Name(weights.Format)} and runs as it is; drop --quantize");
                }
                else if (format != WeightFormat.Fp32)
                {
                    sw.Restart();
                    weights = InferenceWeights.Quantize(weights, format);
                    Console.WriteLine($"quantize projections + head to {InferenceWeights.Name(format)} (group 32): {sw.Elapsed.TotalSeconds:F2} s, {weights.ProjectionBytes / 1e9:F2} GB; {PeakMemory.Describe()}");
                }
                return Decode(weights, ids, n);
            }
            finally { mapped?.Dispose(); quantized?.Dispose(); }
        }));
        return cmd;
    }

    /// <summary>Prefill of the prompt and <paramref name="n"/> timed greedy decode steps (<see cref="DecodeBench.Steps"/>).</summary>
    static int Decode(InferenceWeights weights, int[] ids, int n)
    {
        var t = DecodeBench.Steps(weights, ids, n);
        Console.WriteLine($"prefill {ids.Length} token(s) (the first touch pages mapped weights in from disk): {t.PrefillS:F3} s; {t.MemoryAfterPrefill}");
        if (n > 0)
            Console.WriteLine($"decode: {n} step(s), median {t.MedianS:F3} s/token (min {t.StepS.Min():F3}, max {t.StepS.Max():F3}), " +
                              $"CPU {t.CpuS / n:F3} s/token; {t.MemoryAfterSteps}");
        Console.WriteLine($"greedy token after the last step: {t.Next}");
        return 0;
    }
}
