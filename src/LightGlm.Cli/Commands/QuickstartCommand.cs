// `lightglm quickstart` v0: trains a small byte-level model on text every Debian machine has, saves it, and samples from it.
using System.CommandLine;
using LightGlm.Generation;
using LightGlm.Model;
using LightGlm.Model.Checkpoints;
using LightGlm.Training;

namespace LightGlm.Cli.Commands;

public sealed class QuickstartCommand : ICliCommand
{
    public string[] Path => ["quickstart"];

    /// <summary>Real text present on any fresh Debian system: the licence texts of /usr/share/common-licenses.</summary>
    public const string DefaultData = "/usr/share/common-licenses";

    public Command Build()
    {
        var output = new Option<string>("--output") { Description = "Run directory", DefaultValueFactory = _ => "runs/quickstart" };
        var data = new Option<string>("--data") { Description = "Folder or file of training text", DefaultValueFactory = _ => DefaultData };
        var seconds = new Option<double>("--seconds") { Description = "Training time budget in seconds", DefaultValueFactory = _ => 150 };
        var steps = new Option<int>("--steps") { Description = "Optimizer steps (the schedule's length; the time budget may stop earlier)", DefaultValueFactory = _ => 400 };
        var threads = new Option<int>("--threads") { Description = "Threads (0 = all cores)", DefaultValueFactory = _ => 0 };
        var cmd = new Command("quickstart", "Train a small model on real text for a few minutes, save it, and generate samples.")
        {
            output, data, seconds, steps, threads,
        };
        cmd.SetAction(r =>
        {
            ModelThreads.Apply(r.GetValue(threads));
            var run = System.IO.Path.GetFullPath(r.GetValue(output)!);
            var rc = Recipe(r.GetValue(data)!, run, r.GetValue(steps), r.GetValue(seconds));
            Console.WriteLine($"quickstart: training a {rc.Model!.NumHiddenLayers}-layer byte-level model on {r.GetValue(data)} for at most {rc.MaxSeconds:F0} s");
            var s = TrainCommand.TrainWithProgress(rc, "quickstart");
            Console.WriteLine($"trained {s.Steps} steps in {s.Seconds:F0} s ({s.TokensPerSecond:F0} tokens/s): loss {s.FirstLoss:F3} → {s.LastLoss:F3}, held-out {s.ValidLoss:F3} nats/byte");
            var teacher = rc.OutputDir!;
            var model = ModelDirectory.Load(teacher);
            string[] prompts = ["This program is free software", "You should have received a copy of", "THE SOFTWARE IS PROVIDED"];
            var o = new GenerationOptions
            {
                MaxNewTokens = 120, Greedy = false, Temperature = 0.7f, TopP = 0.9f, Seed = 1,
                StopTokens = model.Config.EosTokenId is { } eos ? [eos] : [],
            };
            var outs = Generator.GenerateText(model, ByteTokenizer.Instance, prompts, o);
            Console.WriteLine($"\nsamples from {teacher} (temperature 0.7, top-p 0.9):");
            for (int i = 0; i < prompts.Length; i++) Console.WriteLine($"--- {prompts[i]}{outs[i].ReplaceLineEndings(" ")}");
            Console.WriteLine($"\nnext: ./lightglm generate --model {teacher} --prompt \"This License\" --temperature 0.7");
            return 0;
        });
        return cmd;
    }

    /// <summary>The quickstart run: 4 layers, d 128, GQA 4/2 heads, seq 128, batch 8, cosine schedule; regular files only.</summary>
    internal static RunConfig Recipe(string data, string runDir, int steps, double seconds)
    {
        if (!File.Exists(data) && !Directory.Exists(data)) throw new CliException($"{data}: training text not found");
        var files = Directory.Exists(data)
            ? Directory.EnumerateFiles(data).Where(f => new FileInfo(f).LinkTarget is null).Order(StringComparer.Ordinal).ToList()
            : [data];
        if (files.Count == 0) throw new CliException($"{data}: no text files inside");
        var rc = new RunConfig
        {
            Model = new ModelConfig
            {
                ModelType = "lightglm", VocabSize = ByteTokenizer.Size, HiddenSize = 128, NumHiddenLayers = 4, NumAttentionHeads = 4,
                NumKeyValueHeads = 2, IntermediateSize = 344, MaxPositionEmbeddings = 512, PartialRotaryFactor = 0.5, RopeInterleaved = true,
            },
            Data = new DataConfig { Train = files, Tokenizer = "byte", ValidFraction = 0.05 },
            Optimizer = new OptimizerOptions { Lr = 2e-3, WeightDecay = 0.1, GradClip = 1.0 },
            Schedule = new ScheduleOptions { WarmupSteps = 30, Decay = DecayKind.Cosine, MinLrRatio = 0.1 },
            Steps = steps, BatchSize = 8, SeqLen = 128, Seed = 1, InitSeed = 1,
            CheckpointDir = System.IO.Path.Combine(runDir, "checkpoints"), CheckpointEvery = 100, Resume = false,
            OutputDir = System.IO.Path.Combine(runDir, "teacher"), MaxSeconds = seconds,
        };
        rc.Validate("quickstart");
        return rc;
    }
}
