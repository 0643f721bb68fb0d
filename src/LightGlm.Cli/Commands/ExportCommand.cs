// `lightglm export --model DIR --format hf-llama|hf-chatglm|hf-qwen2|onnx|gguf --out DIR|FILE`: a LightGlm model as a Hugging
// Face checkpoint, as an ONNX decoder graph with a KV cache (model.onnx + config.json + tokenizer files), or as one GGUF
// file for llama.cpp.
using System.CommandLine;
using LightGlm.Interop;
using LightGlm.Interop.Gguf;
using LightGlm.Interop.Onnx;
using LightGlm.IO;
using LightGlm.Model.Checkpoints;

namespace LightGlm.Cli.Commands;

public sealed class ExportCommand : ICliCommand
{
    public string[] Path => ["export"];

    public Command Build()
    {
        var model = new Option<string>("--model") { Description = "LightGlm model directory (teacher, pruned student, imported model); gguf also reads a Hugging Face checkpoint directory", Required = true };
        var format = new Option<string?>("--format") { Description = "hf-llama, hf-chatglm (THUDM remote code, GLM-4 style), hf-qwen2, onnx (KV-cache decoder graph for ONNX Runtime; fp32), gguf (one file for llama.cpp, arch llama, qwen2 or chatglm), or lightglm (with --quantize: the default)" };
        var output = new Option<string>("--out") { Description = "New directory for the Hugging Face checkpoint or model.onnx; for gguf the .gguf file", Required = true };
        var dtype = new Option<string>("--dtype") { Description = "Stored dtype: fp32 (default), bf16 or fp16 (onnx: fp32 only; gguf: f32, f16, q8_0 or q4_0)", DefaultValueFactory = _ => "fp32" };
        var shard = new Option<long?>("--max-shard-mb") { Description = "Largest safetensors file in MB before sharding (default 5000, as transformers; 2000 with --quantize)" };
        var quantize = new Option<string>("--quantize") { Description = "Write a quantized LightGlm checkpoint: int8 or int4 (weight-only, the engine's quantizer; inference only, loads without quantizing), or none", DefaultValueFactory = _ => "none" };
        var group = new Option<int>("--group-size") { Description = "With --quantize: weights per scale (multiple of 32)", DefaultValueFactory = _ => 32 };
        var cmd = new Command("export", "Export a LightGlm model as a Hugging Face checkpoint (config.json, safetensors, tokenizer files), as ONNX (model.onnx, config.json, tokenizer files), as GGUF, or with --quantize as a quantized LightGlm checkpoint.")
        {
            model, format, output, dtype, shard, quantize, group,
        };
        cmd.SetAction(r => ImportCommand.Guard(() =>
        {
            string src = r.GetValue(model)!, dst = r.GetValue(output)!;
            if (!Directory.Exists(src)) throw new CliException($"--model {src}: directory not found");
            var q = ImportCommand.Quantization(r.GetValue(quantize)!, r.GetValue(group));
            string? fmt = r.GetValue(format);
            if (q is not null && fmt is not (null or "lightglm"))
                throw new CliException($"--quantize {r.GetValue(quantize)} writes a LightGlm directory, not --format {fmt}" +
                                       (fmt == "gguf" ? "; for a quantized GGUF file use --dtype q8_0 or q4_0" : "; drop --format"));
            if (q is null && fmt is (null or "lightglm")) throw new CliException("--format is required: hf-llama, hf-chatglm, hf-qwen2, onnx, gguf (or --quantize int8|int4 for a quantized LightGlm directory)");
            if (fmt == "gguf") return ExportGguf(src, dst, r.GetValue(dtype)!);
            if (Directory.Exists(dst) && Directory.EnumerateFileSystemEntries(dst).Any())
                throw new CliException($"--out {dst}: directory exists and is not empty; choose a new one");
            long shardMb = r.GetValue(shard) ?? (q is null ? 5000 : QuantizedCheckpointWriter.DefaultMaxShardBytes / 1_000_000);
            if (shardMb <= 0) throw new CliException($"--max-shard-mb {shardMb} must be > 0");
            if (q is not null) return ExportQuantized(src, dst, q, r.GetValue(dtype)!, shardMb);
            if (fmt == "onnx") return ExportOnnx(src, dst, r.GetValue(dtype)!);
            var target = HfArchitectures.ParseFormat(fmt!);
            var dt = TensorDTypes.Parse(r.GetValue(dtype)!, "--dtype");
            var sw = System.Diagnostics.Stopwatch.StartNew();
            // Written whole or not at all (--out is new or empty, so replacing it loses nothing): a killed export leaves no
            // half checkpoint that a rerun would then refuse as "not empty".
            ExportReport rep = null!;
            AtomicDirectory.Write(dst, partial => rep = HfExporter.Export(src, target, partial, dt, shardMb * 1_000_000));
            Console.WriteLine($"exported {src} as {target.FormatName()} [{dt.TorchName()}] -> {dst} in {sw.Elapsed.TotalSeconds:F1} s");
            Console.WriteLine($"  weights: {string.Join(", ", rep.WeightFiles)}");
            foreach (var (n, k) in rep.TokenizerFiles) Console.WriteLine($"  copied {n} ({k})");
            if (target == HfArchitecture.ChatGlm)
                Console.WriteLine("  load with transformers: AutoModel.from_pretrained(dir, trust_remote_code=True) (config.json's auto_map names THUDM/glm-4-9b's code)");
            return 0;
        }));
        return cmd;
    }

    static int ExportGguf(string src, string dst, string dtype)
    {
        GgmlType type;
        try { type = GgmlQuant.Parse(dtype); }
        catch (ArgumentException e) { throw new CliException($"--dtype: {e.Message}"); }
        if (Directory.Exists(dst)) throw new CliException($"--out {dst}: is a directory; gguf writes one file (e.g. {System.IO.Path.Combine(dst, "model.gguf")})");
        var sw = System.Diagnostics.Stopwatch.StartNew();
        GgufExportReport rep;
        try { rep = GgufExporter.Export(src, dst, type); }
        catch (NotSupportedException e) { throw new CliException(e.Message); }
        Console.WriteLine($"exported {src} as GGUF (arch {rep.Architecture}, {GgmlQuant.Name(rep.Type)}, {rep.Parameters:N0} parameters, {rep.Bytes / 1e6:F1} MB) -> {rep.Path} in {sw.Elapsed.TotalSeconds:F1} s");
        foreach (var n in rep.Notes) Console.WriteLine($"  note: {n}");
        Console.WriteLine("  vocabulary: placeholder SentencePiece-style tokens (llama.cpp loads it; feed token ids from our tokenizer, not text) — see docs/INTEROP.md (GGUF)");
        return 0;
    }

    static int ExportQuantized(string src, string dst, QuantizationEntry q, string dtype, long shardMb)
    {
        var dt = TensorDTypes.Parse(dtype, "--dtype (the embedding's dtype with --quantize)");
        var sw = System.Diagnostics.Stopwatch.StartNew();
        QuantizedExportReport rep = null!;
        // Written whole or not at all, as the Hugging Face export.
        AtomicDirectory.Write(dst, partial => rep = QuantizedExport.Export(src, partial, q, dt, shardMb * 1_000_000));
        Console.WriteLine($"exported {src} quantized ({q}; embedding {dt.TorchName()}, norms and biases float32, {rep.Bytes / 1e6:F1} MB) -> {dst} in {sw.Elapsed.TotalSeconds:F1} s");
        Console.WriteLine($"  weights: {string.Join(", ", rep.WeightFiles)}");
        foreach (var (n, k) in rep.TokenizerFiles) Console.WriteLine($"  copied {n} ({k})");
        Console.WriteLine("  run it with translate, eval, serve, generate or bench (loads without quantizing); training refuses it — see docs/INTEROP.md (quantized checkpoints)");
        return 0;
    }

    static int ExportOnnx(string src, string dst, string dtype)
    {
        if (dtype != "fp32") throw new CliException($"--dtype {dtype}: ONNX export writes fp32 weights only; omit --dtype or pass fp32");
        var sw = System.Diagnostics.Stopwatch.StartNew();
        OnnxExportReport rep = null!;
        // Written whole or not at all, as the Hugging Face export.
        try { AtomicDirectory.Write(dst, partial => rep = OnnxExporter.Export(src, partial)); }
        catch (NotSupportedException e) { throw new CliException(e.Message); }
        Console.WriteLine($"exported {src} as ONNX (opset {OnnxGraph.Opset}, fp32, {rep.Parameters:N0} parameters, {rep.Bytes / 1e6:F1} MB) -> " +
                          $"{System.IO.Path.Combine(dst, System.IO.Path.GetFileName(rep.ModelPath))} in {sw.Elapsed.TotalSeconds:F1} s");
        foreach (var (n, k) in rep.TokenizerFiles) Console.WriteLine($"  copied {n} ({k})");
        Console.WriteLine("  inputs: input_ids, position_ids (batch, seq) int64; attention_bias (batch, 1, seq, past_seq + seq) float; past_key_values.N.key/value (batch, kv_heads, past_seq, head_dim)");
        Console.WriteLine("  outputs: logits (batch, seq, vocab); present.N.key/value (batch, kv_heads, past_seq + seq, head_dim) — see docs/INTEROP.md (ONNX)");
        return 0;
    }
}
