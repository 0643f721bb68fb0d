// `lightglm export --model DIR --format hf-llama|hf-chatglm|hf-qwen2 --out DIR`: a LightGlm model as a Hugging Face checkpoint.
using System.CommandLine;
using LightGlm.Interop;
using LightGlm.IO;
using LightGlm.Model.Checkpoints;

namespace LightGlm.Cli.Commands;

public sealed class ExportCommand : ICliCommand
{
    public string[] Path => ["export"];

    public Command Build()
    {
        var model = new Option<string>("--model") { Description = "LightGlm model directory (teacher, pruned student, imported model)", Required = true };
        var format = new Option<string>("--format") { Description = "hf-llama, hf-chatglm (THUDM remote code, GLM-4 style) or hf-qwen2", Required = true };
        var output = new Option<string>("--out") { Description = "New directory for the Hugging Face checkpoint", Required = true };
        var dtype = new Option<string>("--dtype") { Description = "Stored dtype: fp32 (default), bf16 or fp16", DefaultValueFactory = _ => "fp32" };
        var shard = new Option<long>("--max-shard-mb") { Description = "Largest safetensors file in MB before sharding (default 5000, as transformers)", DefaultValueFactory = _ => 5000 };
        var cmd = new Command("export", "Export a LightGlm model as a Hugging Face checkpoint (config.json, safetensors, tokenizer files).")
        {
            model, format, output, dtype, shard,
        };
        cmd.SetAction(r => ImportCommand.Guard(() =>
        {
            string src = r.GetValue(model)!, dst = r.GetValue(output)!;
            if (!Directory.Exists(src)) throw new CliException($"--model {src}: directory not found");
            if (Directory.Exists(dst) && Directory.EnumerateFileSystemEntries(dst).Any())
                throw new CliException($"--out {dst}: directory exists and is not empty; choose a new one");
            if (r.GetValue(shard) <= 0) throw new CliException($"--max-shard-mb {r.GetValue(shard)} must be > 0");
            var target = HfArchitectures.ParseFormat(r.GetValue(format)!);
            var dt = TensorDTypes.Parse(r.GetValue(dtype)!, "--dtype");
            var sw = System.Diagnostics.Stopwatch.StartNew();
            // Written whole or not at all (--out is new or empty, so replacing it loses nothing): a killed export leaves no
            // half checkpoint that a rerun would then refuse as "not empty".
            ExportReport rep = null!;
            AtomicDirectory.Write(dst, partial => rep = HfExporter.Export(src, target, partial, dt, r.GetValue(shard) * 1_000_000));
            Console.WriteLine($"exported {src} as {target.FormatName()} [{dt.TorchName()}] -> {dst} in {sw.Elapsed.TotalSeconds:F1} s");
            Console.WriteLine($"  weights: {string.Join(", ", rep.WeightFiles)}");
            foreach (var (n, k) in rep.TokenizerFiles) Console.WriteLine($"  copied {n} ({k})");
            if (target == HfArchitecture.ChatGlm)
                Console.WriteLine("  load with transformers: AutoModel.from_pretrained(dir, trust_remote_code=True) (config.json's auto_map names THUDM/glm-4-9b's code)");
            return 0;
        }));
        return cmd;
    }
}
