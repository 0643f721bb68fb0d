// The shape of a pipelined job: K stages, M micro-batches, D data-parallel replicas, the schedule.
namespace LightGlm.Pipeline;

/// <summary>A pipeline configuration: K stages, M micro-batches, D replicas, schedule.</summary>
public sealed record PipelineConfig(int Stages, int MicroBatches, int Replicas, ScheduleKind Schedule)
{
    /// <summary>Checks the numbers against each other and the model; all problems in one message.</summary>
    public PipelineConfig Validate(int layers, int batchRows)
    {
        var problems = new List<string>();
        if (Stages < 1) problems.Add($"--pipeline-stages must be >= 1, got {Stages}");
        if (MicroBatches < 1) problems.Add($"--micro-batches must be >= 1, got {MicroBatches}");
        if (Replicas < 1) problems.Add($"--data-parallel must be >= 1, got {Replicas}");
        if (Stages > layers) problems.Add($"--pipeline-stages {Stages} exceeds the model's {layers} layers");
        if (Replicas >= 1 && MicroBatches >= 1 && batchRows % (Replicas * MicroBatches) != 0)
            problems.Add($"batch size {batchRows} must be a multiple of --data-parallel x --micro-batches = {Replicas * MicroBatches}");
        if (problems.Count > 0) throw new ArgumentException(string.Join("; ", problems));
        return this;
    }

    public int Workers => Stages * Replicas;
    public override string ToString() => $"K={Stages} M={MicroBatches} D={Replicas} {PipelineSchedule.Name(Schedule)}";
}
