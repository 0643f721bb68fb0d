// `lightglm parallel check`: proves the pipeline on this machine or cluster — trains a small model
// through K stages × D replicas (threads or MPI ranks) and compares loss, gradients and weights
// with single-process training of the same batches. Prints one JSON line per configuration.
using System.CommandLine;
using System.Text.Json;
using LightGlm.Kernels.Mpi;
using LightGlm.Pipeline;

namespace LightGlm.Cli.Commands;

public sealed class ParallelGroupCommand : ICliCommand
{
    public string[] Path => ["parallel"];
    public Command Build() => new("parallel", "Pipeline-parallel training tools (DAPPLE): checks over threads and MPI.");
}

public sealed class ParallelCheckCommand : ICliCommand
{
    public string[] Path => ["parallel", "check"];

    static readonly string DefaultConfigs = "2x1x1:gpipe,2x4x1:1f1b,2x8x1:gpipe,4x2x1:1f1b,4x8x1:gpipe,1x2x2:1f1b,2x4x2:1f1b,2x2x2:gpipe";

    public Command Build()
    {
        var configs = new Option<string>("--configs") { Description = "Comma-separated KxMxD:schedule list (stages x micro-batches x data-parallel)", DefaultValueFactory = _ => DefaultConfigs };
        var distributed = new Option<bool>("--distributed") { Description = "Run over MPI: launch with mpirun -np N; every configuration with K*D <= N runs" };
        var steps = new Option<int>("--steps") { Description = "SGD steps per configuration", DefaultValueFactory = _ => 3 };
        var crashRank = new Option<int>("--crash-rank") { Description = "Testing: this rank (or stage, with threads) fails in the first configuration", DefaultValueFactory = _ => -1 };
        var crashMode = new Option<string>("--crash-mode") { Description = "Testing: throw (an exception) or exit (the process dies without a word)", DefaultValueFactory = _ => "throw" };
        var cmd = new Command("check", "Train a small GLM-style model through the pipeline and compare with single-process training (gradients, loss, weights).")
        {
            configs, distributed, steps, crashRank, crashMode,
        };
        cmd.SetAction(r =>
        {
            var list = ParseConfigs(r.GetValue(configs)!);
            int n = r.GetValue(steps);
            if (n < 1) throw new CliException($"--steps must be >= 1, got {n}");
            var mode = r.GetValue(crashMode)!;
            if (mode is not ("throw" or "exit")) throw new CliException($"--crash-mode must be throw or exit, got '{mode}'");
            try
            {
                var check = new PipelineCheck();
                return r.GetValue(distributed)
                    ? MpiSession.Run("parallel check", world => RunMpi(check, world, list, n, r.GetValue(crashRank), mode))
                    : RunThreads(check, list, n, r.GetValue(crashRank));
            }
            catch (ArgumentException e) { throw new CliException(e.Message); }
            catch (MpiUnavailableException e) { throw new CliException(e.Message); }
            catch (PipelineFailedException e) { throw new CliException(e.Message); }
        });
        return cmd;
    }

    internal static List<PipelineConfig> ParseConfigs(string text)
    {
        var list = new List<PipelineConfig>();
        foreach (var item in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = item.Split(':');
            var dims = parts[0].Split('x');
            if (dims.Length != 3 || !dims.All(d => int.TryParse(d, out var v) && v >= 1))
                throw new CliException($"--configs: '{item}' is not KxMxD[:schedule] with positive integers, e.g. 2x4x1:1f1b");
            ScheduleKind kind;
            try { kind = parts.Length > 1 ? PipelineSchedule.Parse(parts[1]) : ScheduleKind.OneFOneB; }
            catch (FormatException e) { throw new CliException($"--configs: {e.Message}"); }
            list.Add(new PipelineConfig(int.Parse(dims[0]), int.Parse(dims[1]), int.Parse(dims[2]), kind));
        }
        if (list.Count == 0) throw new CliException("--configs is empty");
        return list;
    }

    const double Tolerance = 1e-5;

    static int RunThreads(PipelineCheck check, List<PipelineConfig> list, int steps, int crashStage)
    {
        bool ok = true;
        var reference = check.Reference(steps);
        foreach (var cfg in list)
        {
            cfg.Validate(check.Layers, 16);
            var run = check.Threads(cfg, steps, (d, s, st) => s == crashStage && d == 0 ? new FailingStage(st) : st);
            ok &= Report(check, "threads", cfg, reference, run.Losses, run.Messages,
                PipelineCheck.MaxRelDiff(reference.Grads, run.Grads, 0, run.Grads.Length),
                PipelineCheck.MaxRelDiff(reference.Weights, run.Weights, 0, run.Weights.Length));
        }
        return ok ? 0 : 1;
    }

    static int RunMpi(PipelineCheck check, MpiComm world, List<PipelineConfig> list, int steps, int crashRank, string crashMode)
    {
        bool ok = true, first = true;
        var reference = check.Reference(steps);
        foreach (var cfg in list)
        {
            if (cfg.Workers > world.Size)
            {
                if (world.Rank == 0) Console.Error.WriteLine($"parallel check: skipping {cfg}: needs {cfg.Workers} ranks, job has {world.Size}");
                continue;
            }
            cfg.Validate(check.Layers, 16);
            // Ranks beyond K·D sit this configuration out.
            using var sub = world.Split(world.Rank < cfg.Workers ? 0 : -1, world.Rank);
            if (sub is not null)
            {
                using var groups = MpiPipelineGroups.Create(sub, cfg.Stages, cfg.Replicas);
                bool crashHere = first && sub.Rank == crashRank;
                var run = check.Mpi(cfg, steps, groups, step =>
                {
                    if (!crashHere || step != 1) return;
                    if (crashMode == "exit") Environment.Exit(9); // dies mid-job: the others wait on its messages
                    throw new InvalidOperationException($"simulated failure of rank {sub.Rank} at step {step}");
                });
                double[] worst = [PipelineCheck.MaxRelDiff(reference.Grads, run.Grads, run.ParamFrom, run.ParamTo),
                                  PipelineCheck.MaxRelDiff(reference.Weights, run.Weights, run.ParamFrom, run.ParamTo)];
                sub.AllreduceMax(worst);
                double[] messages = [run.Messages];
                sub.AllreduceSum(messages);
                if (sub.Rank == 0) ok &= Report(check, "mpi", cfg, reference, run.Losses, (long)messages[0], worst[0], worst[1]);
            }
            first = false;
            world.Barrier();
        }
        double[] all = [ok ? 0 : 1];
        world.AllreduceMax(all);
        return all[0] == 0 ? 0 : 1;
    }

    static bool Report(PipelineCheck check, string transport, PipelineConfig cfg, CheckRun reference, double[] losses, long messages, double g, double w)
    {
        double l = reference.Losses.Zip(losses).Max(p => Math.Abs(p.First - p.Second));
        bool talked = cfg.Workers == 1 || messages > 0;
        bool ok = g <= Tolerance && w <= Tolerance && l <= Tolerance && talked;
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            model = check.Name, transport, stages = cfg.Stages, micro_batches = cfg.MicroBatches, data_parallel = cfg.Replicas,
            schedule = PipelineSchedule.Name(cfg.Schedule), max_grad_rel_diff = g, max_weight_rel_diff = w, max_loss_diff = l,
            loss_first = losses[0], loss_last = losses[^1], messages, ok,
        }));
        return ok;
    }

    sealed class FailingStage(IPipelineStage inner) : IPipelineStage
    {
        public int MicroBatches => inner.MicroBatches;
        public int InputLength(int m) => inner.InputLength(m);
        public int OutputLength(int m) => inner.OutputLength(m);
        public void Forward(int m, ReadOnlySpan<float> i, Span<float> o) => throw new InvalidOperationException("simulated stage failure");
        public void Backward(int m, ReadOnlySpan<float> d, Span<float> di) => inner.Backward(m, d, di);
        public long CacheBytes(int m) => inner.CacheBytes(m);
        public double Loss(int m) => inner.Loss(m);
        public Memory<float> Gradients => inner.Gradients;
        public void ZeroGradients() => inner.ZeroGradients();
    }
}
