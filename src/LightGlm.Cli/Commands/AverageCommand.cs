// `lightglm average --out DIR (MODEL_DIR ... | --checkpoints FOLDER --last N)`: checkpoint averaging.
using System.CommandLine;
using LightGlm.IO;
using LightGlm.Model.Checkpoints;

namespace LightGlm.Cli.Commands;

public sealed class AverageCommand : ICliCommand
{
    public string[] Path => ["average"];

    public Command Build()
    {
        var models = new Argument<string[]>("models") { Description = "Model or checkpoint directories of one model (config.json + model.safetensors)", Arity = ArgumentArity.ZeroOrMore };
        var checkpoints = new Option<string?>("--checkpoints") { Description = "A training run's checkpoint folder (step-NNNNNN subfolders), e.g. runs/quickstart/checkpoints/teacher" };
        var last = new Option<int>("--last") { Description = "With --checkpoints: average its last N checkpoints", DefaultValueFactory = _ => 2 };
        var output = new Option<string>("--out") { Description = "Directory for the averaged model (written whole, then renamed into place)", Required = true };
        var cmd = new Command("average", "Average the weights of several checkpoints of one training run (as fairseq's average_checkpoints.py) into one model.")
            { models, checkpoints, last, output };
        cmd.SetAction(r => ImportCommand.Guard(() =>
        {
            var dirs = (r.GetValue(models) ?? []).ToList();
            if (r.GetValue(checkpoints) is { } folder)
            {
                if (dirs.Count > 0) throw new CliException("give either model directories or --checkpoints FOLDER, not both");
                dirs = CheckpointAverage.Last(folder, r.GetValue(last));
            }
            if (dirs.Count < 2) throw new CliException("average needs at least two model directories (or --checkpoints FOLDER --last N with N ≥ 2)");
            string outDir = r.GetValue(output)!;
            if (dirs.Any(d => System.IO.Path.GetFullPath(d).TrimEnd('/') == System.IO.Path.GetFullPath(outDir).TrimEnd('/')))
                throw new CliException($"--out {outDir} is one of the inputs; write the average to another directory");
            var model = CheckpointAverage.Average(dirs);
            AtomicDirectory.Write(outDir, tmp => ModelDirectory.SaveWithTokenizerOf(model, tmp, dirs[0]));
            Console.WriteLine($"averaged {dirs.Count} checkpoints ({string.Join(", ", dirs.Select(System.IO.Path.GetFileName))}) into {outDir}: {model.Layout.TotalLength:N0} parameters");
            return 0;
        }));
        return cmd;
    }
}
