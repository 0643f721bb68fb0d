// `lightglm init --shape chatglm2-6b|qwen2.5-0.5b --out DIR [--dtype bf16] [--format hf|lightglm] [--layers N]`: a
// random-weight checkpoint with a real model's exact config and tensor shapes, in its Hugging Face layout.
using System.CommandLine;
using LightGlm.Interop;
using LightGlm.Model.Checkpoints;

namespace LightGlm.Cli.Commands;

public sealed class InitCommand : ICliCommand
{
    public string[] Path => ["init"];

    public Command Build()
    {
        var shape = new Option<string>("--shape") { Description = $"A real model's config and tensor shapes: {string.Join(", ", SyntheticCheckpoint.Shapes.Keys)}", Required = true };
        var output = new Option<string>("--out") { Description = "Output directory (new or empty)", Required = true };
        var dtype = new Option<string>("--dtype") { Description = "Stored dtype: bf16, f16 or f32", DefaultValueFactory = _ => "bf16" };
        var format = new Option<string>("--format") { Description = "hf (the model's own Hugging Face layout) or lightglm (ours)", DefaultValueFactory = _ => "hf" };
        var layers = new Option<int?>("--layers") { Description = "Keep only the first N layers (same widths): a quicker stand-in of the same shape" };
        var seed = new Option<ulong>("--seed") { Description = "Random seed (weights are deterministic in it)", DefaultValueFactory = _ => 1 };
        var shard = new Option<long>("--max-shard-mb") { Description = "Largest safetensors shard in MB (as save_pretrained's max_shard_size)", DefaultValueFactory = _ => 5000 };
        var cmd = new Command("init", "Write a random-weight checkpoint with the exact config and tensor shapes of a real model (ChatGLM2-6B, Qwen2.5-0.5B): " +
                                      "what the large-model commands are measured on when the real weights are not at hand.")
        { shape, output, dtype, format, layers, seed, shard };
        cmd.SetAction(r => ImportCommand.Guard(() =>
        {
            string dst = r.GetValue(output)!;
            if (Directory.Exists(dst) && Directory.EnumerateFileSystemEntries(dst).Any())
                throw new CliException($"--out {dst}: directory exists and is not empty; choose a new one");
            (LightGlm.Model.ModelConfig config, HfArchitecture hf) s;
            try { s = SyntheticCheckpoint.Shape(r.GetValue(shape)!); }
            catch (ArgumentException e) { throw new CliException($"--shape: {e.Message}"); }
            if (r.GetValue(layers) is { } n)
            {
                if (n < 1 || n > s.config.NumHiddenLayers) throw new CliException($"--layers {n} must be in [1, {s.config.NumHiddenLayers}]");
                s.config.NumHiddenLayers = n;
            }
            string fmt = r.GetValue(format)!;
            if (fmt is not ("hf" or "lightglm")) throw new CliException($"--format '{fmt}': use hf or lightglm");
            var dt = TensorDTypes.Parse(r.GetValue(dtype)!, "--dtype");
            if (r.GetValue(shard) <= 0) throw new CliException($"--max-shard-mb {r.GetValue(shard)} must be > 0");
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var files = SyntheticCheckpoint.Write(s.config, fmt == "hf" ? s.hf : null, dst, dt, r.GetValue(seed), maxShardBytes: r.GetValue(shard) * 1_000_000);
            Console.WriteLine($"{r.GetValue(shape)} ({s.config.ParameterEstimate():N0} parameters, {s.config.NumHiddenLayers} layers) as " +
                              $"{(fmt == "hf" ? s.hf.FormatName() : "lightglm")} [{dt.TorchName()}] -> {dst} in {sw.Elapsed.TotalSeconds:F1} s: {string.Join(", ", files)}");
            return 0;
        }));
        return cmd;
    }
}
