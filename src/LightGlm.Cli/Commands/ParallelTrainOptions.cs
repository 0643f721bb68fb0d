// The pipeline flags of `lightglm train`: --pipeline-stages, --micro-batches, --data-parallel, --schedule,
// --stage-split, --transport threads|mpi (--distributed = --transport mpi), --no-predict. Each flag given on the
// command line overrides the run config's "parallel" section.
using System.CommandLine;
using LightGlm.Pipeline;
using LightGlm.Training;

namespace LightGlm.Cli.Commands;

public sealed class ParallelTrainOptions
{
    public Option<int?> Stages { get; } = new("--pipeline-stages") { Description = "Pipeline stages K (contiguous layer ranges; default 1 or the config's parallel.pipeline_stages)" };
    public Option<int?> MicroBatches { get; } = new("--micro-batches") { Description = "Micro-batches M the step's batch (batch_size x grad_accum rows) is cut into" };
    public Option<int?> DataParallel { get; } = new("--data-parallel") { Description = "Data-parallel replicas D (gradients all-reduced per stage)" };
    public Option<string?> Schedule { get; } = new("--schedule") { Description = "gpipe or 1f1b (DAPPLE early backward; default)" };
    public Option<string?> StageSplit { get; } = new("--stage-split") { Description = "Layer bounds per stage, e.g. 0,3,8 (from `lightglm plan`); default even" };
    public Option<string?> Transport { get; } = new("--transport") { Description = "threads (one process; default) or mpi (one rank per stage x replica: mpirun -np K*D ./lightglm train ...)" };
    public Option<bool> Distributed { get; } = new("--distributed") { Description = "Same as --transport mpi" };
    public Option<bool> NoPredict { get; } = new("--no-predict") { Description = "Skip profiling the layers for the planner's predicted step time" };
    public Option<double?> MpiTimeout { get; } = new("--mpi-timeout-seconds") { Description = "MPI: end the job when a message or collective waits longer than this (a hung rank); default 600 or the config's parallel.timeout_seconds" };

    public void AddTo(Command cmd)
    {
        foreach (var o in new Option[] { Stages, MicroBatches, DataParallel, Schedule, StageSplit, Transport, Distributed, NoPredict, MpiTimeout }) cmd.Options.Add(o);
    }

    /// <summary>Writes the flags that were given into <paramref name="p"/>.</summary>
    public void ApplyTo(ParseResult r, PipelineOptions p)
    {
        if (r.GetValue(Stages) is { } k) p.PipelineStages = k;
        if (r.GetValue(MicroBatches) is { } m) p.MicroBatches = m;
        if (r.GetValue(DataParallel) is { } d) p.DataParallel = d;
        if (r.GetValue(Schedule) is { } s) p.Schedule = s;
        if (r.GetValue(StageSplit) is { } split) p.StageSplit = split;
        if (r.GetValue(Transport) is { } t)
        {
            if (t is not ("threads" or "mpi")) throw new CliException($"--transport must be threads or mpi, got '{t}'");
            p.Transport = t;
        }
        if (r.GetValue(Distributed)) p.Transport = "mpi";
        if (r.GetValue(NoPredict)) p.Predict = false;
        if (r.GetValue(MpiTimeout) is { } timeout) p.TimeoutSeconds = timeout;
        if (p.Transport == "mpi" && !MpiSession.LaunchedByMpirun)
            throw new CliException($"--transport mpi: start this under mpirun, one rank per stage and replica: mpirun -np {p.PipelineStages * p.DataParallel} ./lightglm train ...");
    }

    /// <summary>This process's MPI rank from the launcher's environment (0 when not under mpirun).</summary>
    public static int LauncherRank() =>
        new[] { "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK" }.Select(Environment.GetEnvironmentVariable).FirstOrDefault(v => v is not null) is { } v
        && int.TryParse(v, out int rank) ? rank : 0;
}
