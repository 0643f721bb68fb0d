// The hook through which `lightglm train` gets pipeline parallelism: the flags --pipeline-stages,
// --micro-batches, --data-parallel, --schedule, --stage-split, --distributed, and a factory that turns
// them into an IPipelineTrainer (threads in one process, or this rank's stage of an mpirun job).
using System.CommandLine;
using LightGlm.Kernels.Mpi;
using LightGlm.Model;
using LightGlm.Pipeline;

namespace LightGlm.Cli.Commands;

/// <summary>Add <see cref="AddTo"/> to a training command; call <see cref="CreateTrainer"/> with its parse result.
/// With --distributed, run the command's body inside <see cref="MpiSession.Run"/> so a failing rank aborts the job.</summary>
public sealed class ParallelTrainOptions
{
    public Option<int> Stages { get; } = new("--pipeline-stages") { Description = "Pipeline stages K (contiguous layer ranges)", DefaultValueFactory = _ => 1 };
    public Option<int> MicroBatches { get; } = new("--micro-batches") { Description = "Micro-batches M per step (gradient accumulation through the pipeline)", DefaultValueFactory = _ => 1 };
    public Option<int> DataParallel { get; } = new("--data-parallel") { Description = "Data-parallel replicas D (gradients all-reduced per stage)", DefaultValueFactory = _ => 1 };
    public Option<string> Schedule { get; } = new("--schedule") { Description = "gpipe or 1f1b (DAPPLE early backward)", DefaultValueFactory = _ => "1f1b" };
    public Option<string?> StageSplit { get; } = new("--stage-split") { Description = "Layer bounds per stage, e.g. 0,3,8 (from `lightglm plan`); default even" };
    public Option<bool> Distributed { get; } = new("--distributed") { Description = "One MPI rank per (replica, stage): launch with mpirun -np K*D" };

    public void AddTo(Command cmd)
    {
        foreach (var o in new Option[] { Stages, MicroBatches, DataParallel, Schedule, StageSplit, Distributed }) cmd.Options.Add(o);
    }

    /// <summary>True when the flags ask for anything beyond plain one-process training.</summary>
    public bool Requested(ParseResult r) =>
        r.GetValue(Stages) > 1 || r.GetValue(MicroBatches) > 1 || r.GetValue(DataParallel) > 1 || r.GetValue(Distributed);

    /// <summary>The pipeline trainer the flags describe, validated against the model and batch size
    /// (all problems in one <see cref="CliException"/>).</summary>
    public IPipelineTrainer CreateTrainer(ParseResult r, GlmModel model, IRangeOptimizer optimizer, int batchRows)
    {
        ScheduleKind kind;
        try { kind = PipelineSchedule.Parse(r.GetValue(Schedule)!); } catch (FormatException e) { throw new CliException("--schedule: " + e.Message); }
        PipelineConfig cfg;
        StageSplit split;
        try
        {
            cfg = new PipelineConfig(r.GetValue(Stages), r.GetValue(MicroBatches), r.GetValue(DataParallel), kind).Validate(model.Config.L, batchRows);
            split = r.GetValue(StageSplit) is { } text ? Pipeline.StageSplit.Parse(text, model.Config.L) : Pipeline.StageSplit.Even(model.Config.L, cfg.Stages);
            if (split.Stages != cfg.Stages) throw new ArgumentException($"--stage-split {split} has {split.Stages} stages but --pipeline-stages is {cfg.Stages}");
        }
        catch (Exception e) when (e is ArgumentException or FormatException) { throw new CliException(e.Message); }
        if (!r.GetValue(Distributed)) return new InProcessGlmTrainer(model, cfg, split, optimizer);
        MpiComm world;
        try { world = MpiComm.World(); }
        catch (MpiUnavailableException e) { throw new CliException("--distributed needs MPI: " + e.Message); }
        try { return new MpiGlmTrainer(model, cfg, split, optimizer, MpiPipelineGroups.Create(world, cfg.Stages, cfg.Replicas)); }
        catch (ArgumentException e) { throw new CliException(e.Message); }
    }
}
