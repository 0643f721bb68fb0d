// `lightglm bench student-decode`: teacher vs pruned student (fp32, int8, int4) decode speed and weight bytes, same run, same decoder.
using System.CommandLine;
using System.Diagnostics;
using LightGlm.Compression;
using LightGlm.Compression.Quantization;
using LightGlm.Kernels.Quantized;

namespace LightGlm.Cli.Commands;

public sealed class StudentDecodeBenchCommand : ICliCommand
{
    public string[] Path => ["bench", "student-decode"];

    public Command Build()
    {
        var teacher = new Option<string>("--teacher") { Description = "Teacher model directory (the Baseline row).", Required = true };
        var student = new Option<string>("--student") { Description = "Student model directory (e.g. from prune and/or vocab-prune).", Required = true };
        var tokens = new Option<int>("--tokens") { Description = "Greedy decode steps timed per repetition (batch 1).", DefaultValueFactory = _ => 64 };
        var reps = new Option<int>("--reps") { Description = "Repetitions; the best is reported.", DefaultValueFactory = _ => 3 };
        var formats = new Option<string>("--formats") { Description = "Student variants: comma list of fp32, int8, int4.", DefaultValueFactory = _ => "fp32,int8" };
        var cmd = new Command("student-decode", "Decode tokens/s at batch 1 of the teacher and of the student in fp32 / int8 / int4 (weight-only, group 32), one decoder for all.")
        { teacher, student, tokens, reps, formats };
        cmd.SetAction(r =>
        {
            int n = r.GetValue(tokens), k = r.GetValue(reps);
            if (n < 2 || k < 1) throw new CliException("--tokens must be ≥ 2 and --reps ≥ 1");
            var rows = new List<(string Name, long Params, long Bytes, double TokS)>();
            void Measure(string name, ModelFiles m, QuantFormat? q)
            {
                var (best, bytes) = DecodeSpeed(m, q, n, k);
                rows.Add((name, m.Shape.ParameterCount(), bytes, best));
                Console.Error.WriteLine($"  measured {name}: {best:F1} tok/s");
            }
            Console.WriteLine($"machine: {Environment.ProcessorCount} cores (timings are noisy when the machine is shared; rows measured in this run)");
            Measure("teacher fp32 (baseline)", ModelFiles.Load(r.GetValue(teacher)!), null);
            var s = ModelFiles.Load(r.GetValue(student)!);
            foreach (var f in r.GetValue(formats)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                Measure($"student {f}", s, f switch
                {
                    "fp32" => null, "int8" => QuantFormat.Int8, "int4" => QuantFormat.Int4,
                    _ => throw new CliException($"--formats: '{f}' is not fp32, int8 or int4"),
                });
            var b = rows[0];
            Console.WriteLine($"| model | params | weight MB | decode tok/s | speedup | weight bytes vs teacher |");
            Console.WriteLine("|---|---|---|---|---|---|");
            foreach (var x in rows)
                Console.WriteLine($"| {x.Name} | {x.Params:N0} | {x.Bytes / 1e6:F1} | {x.TokS:F1} | {x.TokS / b.TokS:F2}x | {(double)x.Bytes / b.Bytes:P1} |");
            return 0;
        });
        return cmd;
    }

    /// <summary>Greedy decode at batch 1 with one <see cref="CompactDecoder"/>: the best of <paramref name="reps"/> runs of
    /// <paramref name="tokens"/> − 1 timed steps (after a first, untimed token), in tokens/s; and the decoder's weight bytes.</summary>
    public static (double TokensPerSecond, long WeightBytes) DecodeSpeed(ModelFiles m, QuantFormat? q, int tokens, int reps)
    {
        var dec = new CompactDecoder(m, q, 32, maxT: tokens + 1);
        double best = 0;
        for (int rep = 0; rep < reps; rep++)
        {
            dec.Reset();
            var z = dec.Forward([1 % m.Shape.V]);
            int tok = Array.IndexOf(z, z.Max());
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < tokens - 1; i++) { z = dec.Forward([tok]); tok = Array.IndexOf(z, z.Max()); }
            best = Math.Max(best, (tokens - 1) / sw.Elapsed.TotalSeconds);
        }
        return (best, dec.WeightBytes);
    }
}
