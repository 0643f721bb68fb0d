// `lightglm plan`: profiles the model on this machine (per-layer time, memory, link) and prints the
// parallel plan (stages K, micro-batches M, data-parallel D, layer split) with predicted step time,
// bubble and memory per stage; --measure runs the top plans and prints measured beside predicted.
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using LightGlm.IO;
using LightGlm.Model;
using LightGlm.Pipeline;
using LightGlm.Pipeline.Planning;

namespace LightGlm.Cli.Commands;

public sealed class PlanCommand : ICliCommand
{
    public string[] Path => ["plan"];

    public Command Build()
    {
        var model = new Option<string>("--model") { Description = "config.json or a model directory (only the config is used: costs do not depend on weight values)", Required = true };
        var batch = new Option<int>("--batch") { Description = "Global batch size (sequences per step)", DefaultValueFactory = _ => 16 };
        var seq = new Option<int>("--seq") { Description = "Sequence length", DefaultValueFactory = _ => 64 };
        var workers = new Option<int>("--max-workers") { Description = "Most workers (threads or MPI ranks) K*D to use; default = cores", DefaultValueFactory = _ => Environment.ProcessorCount };
        var memory = new Option<double>("--memory-limit-mb") { Description = "Memory limit per worker (parameters+gradients+AdamW moments+in-flight activations)", DefaultValueFactory = _ => 4096 };
        var schedule = new Option<string>("--schedule") { Description = "gpipe or 1f1b", DefaultValueFactory = _ => "1f1b" };
        var measure = new Option<int>("--measure") { Description = "Run the top 3 plans for this many steps (in-process) and print measured beside predicted", DefaultValueFactory = _ => 0 };
        var top = new Option<int>("--top") { Description = "How many plans to list", DefaultValueFactory = _ => 8 };
        var json = new Option<string?>("--json") { Description = "Also write the profile and plans to this JSON file" };
        var cmd = new Command("plan", "Choose pipeline stages, micro-batches and data-parallel width from measured costs (determine_parallelism).")
        {
            model, batch, seq, workers, memory, schedule, measure, top, json,
        };
        cmd.SetAction(r =>
        {
            var path = r.GetValue(model)!;
            var configPath = Directory.Exists(path) ? System.IO.Path.Combine(path, "config.json") : path;
            if (!File.Exists(configPath)) throw new CliException($"--model: no config.json at '{configPath}'");
            var config = ModelConfig.Load(configPath);
            int B = r.GetValue(batch), T = r.GetValue(seq), W = r.GetValue(workers);
            if (B < 1 || T < 1 || W < 1) throw new CliException($"--batch, --seq and --max-workers must be >= 1 (got {B}, {T}, {W})");
            if (T > config.MaxPositionEmbeddings) throw new CliException($"--seq {T} exceeds max_position_embeddings {config.MaxPositionEmbeddings} of {configPath}");
            ScheduleKind kind;
            try { kind = PipelineSchedule.Parse(r.GetValue(schedule)!); } catch (FormatException e) { throw new CliException("--schedule: " + e.Message); }
            long limit = (long)(r.GetValue(memory) * 1024 * 1024);

            var glm = GlmModel.Create(config, seed: 1);
            Console.Error.WriteLine($"plan: profiling {config.L} blocks at seq {T} (micro-batches of 1 and {Math.Min(B, 8)} sequences), the link and AdamW...");
            var link = CostProfiler.MeasureInProcess();
            var profile = CostProfiler.Profile(glm, T, Math.Min(B, 8), link);
            var planner = new PipelinePlanner(profile);
            var plans = planner.Search(B, W, limit, kind);
            PrintProfile(profile);
            if (plans.Count == 0) throw new CliException($"no plan fits --memory-limit-mb {r.GetValue(memory)}: raise it, or use more workers or a smaller batch");
            var measured = new Dictionary<ParallelPlan, double>();
            int steps = r.GetValue(measure);
            if (steps > 0)
                foreach (var p in plans.Take(3)) measured[p] = PlanMeasurement.Measure(config, p, B, T, steps);
            PrintPlans(plans.Take(Math.Max(1, r.GetValue(top))).ToList(), measured, plans[0]);
            if (r.GetValue(json) is { } jsonPath)
                AtomicFile.WriteAllText(jsonPath, JsonSerializer.Serialize(new { profile, plans = plans.Select(p => PlanJson(p, measured.GetValueOrDefault(p, double.NaN))) },
                    new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
            return 0;
        });
        return cmd;
    }

    internal static object PlanJson(ParallelPlan p, double measured) => new
    {
        stages = p.Config.Stages, micro_batches = p.Config.MicroBatches, data_parallel = p.Config.Replicas,
        schedule = PipelineSchedule.Name(p.Config.Schedule), split = p.Split.ToString(), micro_rows = p.MicroRows,
        predicted_step_seconds = p.StepSeconds, measured_step_seconds = measured, compute_seconds = p.ComputeSeconds,
        comm_seconds = p.CommSeconds, allreduce_seconds = p.AllReduceSeconds, update_seconds = p.UpdateSeconds,
        bubble = p.Bubble, stage_seconds = p.StageSeconds, stage_memory_bytes = p.StageMemoryBytes,
    };

    static void PrintProfile(CostProfile p)
    {
        Console.WriteLine($"profile: {p.L} layers, seq {p.SequenceLength}, {p.Cores} cores; link {p.Link.Name}: latency {p.Link.LatencySeconds * 1e6:F1} us, " +
                          $"bandwidth {p.Link.BytesPerSecond / 1e9:F2} GB/s; AdamW {p.UpdateSecondsPerParameter * 1e9:F2} ns/parameter");
        Console.WriteLine($"  {"layer",-26} {"fwd ms/seq",10} {"bwd ms/seq",10} {"act MB/seq",10} {"params",10}");
        foreach (var l in p.Layers)
            Console.WriteLine($"  {l.Name,-26} {(l.ForwardFixed + l.ForwardPerRow) * 1e3,10:F3} {(l.BackwardFixed + l.BackwardPerRow) * 1e3,10:F3} {l.ActivationBytesPerRow / 1048576.0,10:F2} {l.ParameterCount,10}");
    }

    static void PrintPlans(List<ParallelPlan> plans, Dictionary<ParallelPlan, double> measured, ParallelPlan best)
    {
        Console.WriteLine();
        Console.WriteLine($"  {"K",2} {"M",3} {"D",2} {"split",-16} {"pred s/step",11} {"meas s/step",11} {"bubble",6} {"ideal eff",9}  memory per stage (MB)");
        foreach (var p in plans)
        {
            string meas = measured.TryGetValue(p, out var m) ? m.ToString("F4", CultureInfo.InvariantCulture) : "-";
            Console.WriteLine($"  {p.Config.Stages,2} {p.Config.MicroBatches,3} {p.Config.Replicas,2} {p.Split,-16} {p.StepSeconds,11:F4} {meas,11} {p.Bubble,6:F3} {p.IdealEfficiency,9:F3}  " +
                              string.Join(" ", p.StageMemoryBytes.Select(b => (b / 1048576.0).ToString("F1", CultureInfo.InvariantCulture))));
        }
        Console.WriteLine();
        Console.WriteLine($"plan: --pipeline-stages {best.Config.Stages} --micro-batches {best.Config.MicroBatches} --data-parallel {best.Config.Replicas} " +
                          $"--stage-split {best.Split} --schedule {PipelineSchedule.Name(best.Config.Schedule)}  (predicted {best.StepSeconds:F4} s/step: " +
                          $"compute {best.ComputeSeconds:F4}, comm {best.CommSeconds:F4}, all-reduce {best.AllReduceSeconds:F4}, update {best.UpdateSeconds:F4})");
    }
}
