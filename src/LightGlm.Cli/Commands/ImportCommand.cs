// `lightglm import --from DIR --out DIR`: a Hugging Face checkpoint (ChatGLM2/3, GLM-4, LLaMA, Qwen2) -> a LightGlm model directory.
using System.CommandLine;
using LightGlm.Interop;
using LightGlm.IO;
using LightGlm.Model.Checkpoints;

namespace LightGlm.Cli.Commands;

public sealed class ImportCommand : ICliCommand
{
    public string[] Path => ["import"];

    public Command Build()
    {
        var from = new Option<string>("--from") { Description = "Hugging Face checkpoint directory (config.json + safetensors, sharded or not)", Required = true };
        var output = new Option<string>("--out") { Description = "New LightGlm model directory to write", Required = true };
        var dtype = new Option<string>("--dtype") { Description = "Stored dtype of the imported weights: fp32 (default; what training reads), bf16 or fp16 (large models for inference)", DefaultValueFactory = _ => "fp32" };
        var shard = new Option<long?>("--max-shard-mb") { Description = "Largest weights file in MB before sharding (default 5000, as transformers; 2000 with --quantize)" };
        var quantize = new Option<string>("--quantize") { Description = "Write a quantized checkpoint: int8 or int4 (weight-only, the engine's quantizer; inference only, loads without quantizing), or none", DefaultValueFactory = _ => "none" };
        var group = new Option<int>("--group-size") { Description = "With --quantize: weights per scale (multiple of 32)", DefaultValueFactory = _ => 32 };
        var cmd = new Command("import", "Import a Hugging Face checkpoint (ChatGLM2/3, GLM-4, LLaMA, Qwen2) as a LightGlm model directory, or with --quantize as a quantized inference checkpoint.")
        {
            from, output, dtype, shard, quantize, group,
        };
        cmd.SetAction(r => ImportCommand.Guard(() =>
        {
            string src = r.GetValue(from)!, dst = r.GetValue(output)!;
            if (!Directory.Exists(src)) throw new CliException($"--from {src}: directory not found");
            if (Directory.Exists(dst) && Directory.EnumerateFileSystemEntries(dst).Any())
                throw new CliException($"--out {dst}: directory exists and is not empty; choose a new one");
            var q = Quantization(r.GetValue(quantize)!, r.GetValue(group));
            long shardMb = r.GetValue(shard) ?? (q is null ? 5000 : QuantizedCheckpointWriter.DefaultMaxShardBytes / 1_000_000);
            if (shardMb <= 0) throw new CliException($"--max-shard-mb {shardMb} must be > 0");
            var dt = TensorDTypes.Parse(r.GetValue(dtype)!, "--dtype");
            var sw = System.Diagnostics.Stopwatch.StartNew();
            // Written whole or not at all, as export: --out is new or empty, so replacing it loses nothing.
            ImportReport rep = null!;
            AtomicDirectory.Write(dst, partial => rep = HfImporter.Import(src, partial, dt, shardMb * 1_000_000, q));
            Console.WriteLine($"imported {rep.Architecture.FormatName()} ({rep.SourceDType ?? "dtype not stated"}) -> {dst} " +
                              $"[{(q is null ? dt.TorchName() : $"{q} quantized; embedding {dt.TorchName()}")}] in {sw.Elapsed.TotalSeconds:F1} s");
            var c = rep.Config;
            Console.WriteLine($"  {rep.Parameters:N0} parameters: L={c.L} C={c.C} H={c.H} KV={c.KV} D={c.D} F={c.F} V={c.V}, rotary R={c.R} ({(c.RopeInterleaved ? "interleaved pairs" : "half-split pairs")}, theta={c.RopeTheta}), qkv bias={c.AttentionBias}, tied head={c.TieWordEmbeddings}");
            foreach (var d in rep.Defaults) Console.WriteLine($"  default: {d}");
            Console.WriteLine($"  weights: {string.Join(", ", rep.WeightFiles)}");
            foreach (var (n, k) in rep.TokenizerFiles) Console.WriteLine($"  copied {n} ({k})");
            if (!rep.TokenizerFiles.Any(t => t.Name is "tokenizer.json" or "tokenizer.model"))
                Console.WriteLine("  note: no tokenizer.json / tokenizer.model in the source; add one before translating");
            return 0;
        }));
        return cmd;
    }

    /// <summary>--quantize/--group-size as a quantization entry, or null for none (export shares it).</summary>
    internal static QuantizationEntry? Quantization(string quantize, int groupSize)
    {
        LightGlm.Model.Inference.WeightFormat f;
        try { f = LightGlm.Model.Inference.InferenceWeights.ParseFormat(quantize); }
        catch (ArgumentException e) { throw new CliException(e.Message); }
        if (f == LightGlm.Model.Inference.WeightFormat.Fp32) return null;
        if (groupSize <= 0 || groupSize % 32 != 0) throw new CliException($"--group-size {groupSize} must be a positive multiple of 32");
        return QuantizationEntry.Create(f, groupSize);
    }

    /// <summary>
    /// Bad checkpoints are user errors: message + exit 2 (System.CommandLine's own handler would print a stack
    /// trace and exit 1 before CliHost sees the exception).
    /// </summary>
    internal static int Guard(Func<int> action)
    {
        try { return action(); }
        catch (Exception e) when (e is CliException or InvalidDataException or FileNotFoundException or DirectoryNotFoundException or FormatException or IOException)
        {
            Console.Error.WriteLine($"lightglm: error: {e.Message}");
            return 2;
        }
    }
}
