// `lightglm parallel check`: proves the pipeline on this machine or cluster — trains a small MLP
// through K stages × D replicas (threads or MPI ranks) and compares loss, gradients and weights
// with single-process training of the same batches. Prints one JSON line per configuration.
using System.CommandLine;
using System.Text.Json;
using LightGlm.Kernels.Mpi;
using LightGlm.Pipeline;
using LightGlm.Pipeline.Toy;

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
        var cmd = new Command("check", "Train a small MLP through the pipeline and compare with single-process training (gradients, loss, weights).")
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
                return r.GetValue(distributed)
                    ? MpiSession.Run("parallel check", world => RunMpi(world, list, n, r.GetValue(crashRank), mode))
                    : RunThreads(list, n, r.GetValue(crashRank));
            }
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

    const int Layers = 8, Rows = 32;
    const float Lr = 0.5f;

    static (ToyMlp Model, ToyBatch[] Steps) Problem(int steps) =>
        (new ToyMlp(ToyPipeline.Widths(Layers, 16, 9, 5), seed: 7),
         Enumerable.Range(0, steps).Select(i => ToyBatch.Random(Rows, 9, 5, seed: 1000 + i)).ToArray());

    static double MaxRelDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int from, int to)
    {
        double scale = 1e-12, diff = 0;
        for (int i = from; i < to; i++) { scale = Math.Max(scale, Math.Abs(a[i])); diff = Math.Max(diff, Math.Abs(a[i] - b[i])); }
        return diff / Math.Max(1, scale);
    }

    const double Tolerance = 1e-5;

    static int RunThreads(List<PipelineConfig> list, int steps, int crashStage)
    {
        bool ok = true;
        foreach (var cfg in list)
        {
            var (model, batches) = Problem(steps);
            var reference = ToyPipeline.Reference(model.Clone(), batches, Lr);
            var run = ToyPipeline.InProcess(model.Clone(), cfg, StageSplit.Even(Layers, cfg.Stages), batches, Lr,
                (d, s, st) => s == crashStage && d == 0 ? new FailingStage(st) : st);
            ok &= Report("threads", cfg, reference, run, 0, reference.Weights.Length, run.Messages);
        }
        return ok ? 0 : 1;
    }

    static int RunMpi(MpiComm world, List<PipelineConfig> list, int steps, int crashRank, string crashMode)
    {
        bool ok = true;
        bool first = true;
        foreach (var cfg in list)
        {
            if (cfg.Workers > world.Size)
            {
                if (world.Rank == 0) Console.Error.WriteLine($"parallel check: skipping {cfg}: needs {cfg.Workers} ranks, job has {world.Size}");
                continue;
            }
            using var sub = world.Split(world.Rank < cfg.Workers ? 0 : -1, world.Rank);
            if (sub is not null)
            {
                var (model, batches) = Problem(steps);
                var reference = ToyPipeline.Reference(model.Clone(), batches, Lr);
                using var groups = MpiPipelineGroups.Create(sub, cfg.Stages, cfg.Replicas);
                bool crashHere = first && sub.Rank == crashRank;
                var run = ToyPipeline.Mpi(model, cfg, StageSplit.Even(Layers, cfg.Stages), batches, Lr, groups, step =>
                {
                    if (!crashHere || step != 1) return;
                    if (crashMode == "exit") Environment.Exit(9); // dies mid-step: the others wait on its messages
                    throw new InvalidOperationException($"simulated failure of rank {sub.Rank} at step {step}");
                });
                var (lo, hi) = StageSplit.Even(Layers, cfg.Stages).Range(groups.Stage);
                int pFrom = model.ParameterOffset(lo), pTo = model.ParameterOffset(hi);
                double[] worst = [MaxRelDiff(reference.LastGradients, run.LastGradients, pFrom, pTo),
                                  MaxRelDiff(reference.Weights, run.Weights, pFrom, pTo)];
                sub.AllreduceMax(worst);
                double[] messages = [run.Messages];
                sub.AllreduceSum(messages);
                if (sub.Rank == 0)
                {
                    var merged = run with { LastGradients = reference.LastGradients, Weights = reference.Weights };
                    ok &= Report("mpi", cfg, reference, merged, 0, 0, (long)messages[0], worst[0], worst[1]);
                }
            }
            first = false;
            world.Barrier();
        }
        double[] all = [ok ? 0 : 1];
        world.AllreduceMax(all);
        return all[0] == 0 ? 0 : 1;
    }

    static bool Report(string transport, PipelineConfig cfg, ToyRunResult reference, ToyRunResult run, int from, int to, long messages,
        double? gradDiff = null, double? weightDiff = null)
    {
        double g = gradDiff ?? MaxRelDiff(reference.LastGradients, run.LastGradients, from, to);
        double w = weightDiff ?? MaxRelDiff(reference.Weights, run.Weights, from, to);
        double l = reference.Losses.Zip(run.Losses).Max(p => Math.Abs(p.First - p.Second));
        bool talked = cfg.Workers == 1 || messages > 0;
        bool ok = g <= Tolerance && w <= Tolerance && l <= Tolerance && talked;
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            transport, stages = cfg.Stages, micro_batches = cfg.MicroBatches, data_parallel = cfg.Replicas,
            schedule = PipelineSchedule.Name(cfg.Schedule), max_grad_rel_diff = g, max_weight_rel_diff = w, max_loss_diff = l,
            loss_first = run.Losses[0], loss_last = run.Losses[^1], messages, ok,
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
