// `lightglm bench student-decode`: teacher vs pruned student (fp32, int8, int4) decode speed and weight bytes, same run, same decoder.
// The decoder: the one forward pass (InferenceSession over InferenceWeights — what translate, eval and serve run).
using System.CommandLine;
using LightGlm.Evaluation.Bench;
using LightGlm.Model.Checkpoints;
using LightGlm.Model.Inference;

namespace LightGlm.Cli.Commands;

public sealed class StudentDecodeBenchCommand : ICliCommand
{
    public string[] Path => ["bench", "student-decode"];

    public Command Build()
    {
        var teacher = new Option<string>("--teacher") { Description = "Teacher model directory (the Baseline row).", Required = true };
        var student = new Option<string>("--student") { Description = "Student model directory (e.g. from prune and/or vocab-prune; a quantized one from export --quantize runs as stored).", Required = true };
        var tokens = new Option<int>("--tokens") { Description = "Greedy decode steps timed per repetition (batch 1).", DefaultValueFactory = _ => 64 };
        var reps = new Option<int>("--reps") { Description = "Repetitions after a warm-up; the best is reported.", DefaultValueFactory = _ => 5 };
        var formats = new Option<string>("--formats") { Description = "Student variants: comma list of fp32, int8, int4.", DefaultValueFactory = _ => "fp32,int8" };
        var threads = new Option<int>("--threads") { Description = "Kernel threads while timing the engine (the eval stage's probe uses 1).", DefaultValueFactory = _ => 1 };
        var cmd = new Command("student-decode", "Decode speed at batch 1 of the teacher and of the student in fp32 / int8 / int4 (weight-only, group 32), one decoder for all, rows measured in the same run.")
        { teacher, student, tokens, reps, formats, threads };
        cmd.SetAction(r =>
        {
            int n = r.GetValue(tokens), k = r.GetValue(reps), th = r.GetValue(threads);
            if (n < 2 || k < 1 || th < 1) throw new CliException("--tokens must be ≥ 2, --reps ≥ 1 and --threads ≥ 1");
            var formatList = r.GetValue(formats)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            foreach (var f in formatList)
                if (f is not ("fp32" or "int8" or "int4")) throw new CliException($"--formats: '{f}' is not fp32, int8 or int4");
            var rows = new List<(string Name, long Params, long Bytes, double Ms, double CpuMs)>();
            Console.WriteLine($"machine: {Environment.ProcessorCount} cores; {th} kernel thread(s)" +
                              $"; {n} greedy tokens at batch 1, best of {k} rounds after a warm-up round; rows measured in this run");
            // Every model warms up first, then the rounds go model by model (DecodeBench.BestOfRounds). Both through the reader translate uses (TranslationModel.OpenWeights): a quantized student directory
            // (import|export --quantize) is measured as stored, in its one format.
            var (sw, sOwner) = LightGlm.Translation.TranslationModel.OpenWeights(r.GetValue(student)!);
            var (tw, tOwner) = LightGlm.Translation.TranslationModel.OpenWeights(r.GetValue(teacher)!);
            using var sOpen = sOwner;
            using var tOpen = tOwner;
            var engines = new List<(string Name, long Params, InferenceWeights Weights)> { ("teacher fp32 (baseline)", tw.Config.ParameterCount(), tw) };
            if (sw.Format != WeightFormat.Fp32)
            {
                string stored = InferenceWeights.Name(sw.Format);
                if (r.GetResult(formats) is { Implicit: false } && formatList.Any(f => f != stored))
                    throw new CliException($"--formats {r.GetValue(formats)}: the student directory is stored as {stored} (a quantized checkpoint); drop --formats or pass {stored}");
                engines.Add(($"student {stored} (stored, group {sw.GroupSize})", sw.Config.ParameterCount(), sw));
            }
            else
                foreach (var f in formatList) engines.Add(($"student {f}", sw.Config.ParameterCount(), InferenceWeights.Quantize(sw, InferenceWeights.ParseFormat(f))));
            var prompt = Enumerable.Range(0, 16).Select(i => (i * 7 + 3) % Math.Min(tw.Config.V, sw.Config.V)).ToArray();
            var best = DecodeBench.BestOfRounds(engines.Select(e => e.Weights).ToList(), prompt, n, rounds: k, threads: th);
            for (int i = 0; i < engines.Count; i++)
                rows.Add((engines[i].Name, engines[i].Params, engines[i].Weights.HeldBytes, best[i].Ms, best[i].CpuMs));
            var b = rows[0];
            Console.WriteLine("| model | params | weight MB | ms/token | CPU ms/token | tok/s | speedup | speedup (CPU) | weight bytes vs teacher |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
            foreach (var x in rows)
                Console.WriteLine($"| {x.Name} | {x.Params:N0} | {x.Bytes / 1e6:F1} | {x.Ms:F4} | {x.CpuMs:F4} | {1000 / x.Ms:F1} | {b.Ms / x.Ms:F2}x | {b.CpuMs / x.CpuMs:F2}x | {(double)x.Bytes / b.Bytes:P1} |");
            return 0;
        });
        return cmd;
    }
}
