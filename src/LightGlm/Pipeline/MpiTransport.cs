// The MPI transport: one rank per (replica, stage). Activations and gradients move with
// non-blocking sends and blocking receives; replicas of a stage sum gradients with MPI_Iallreduce.
using LightGlm.Kernels.Mpi;

namespace LightGlm.Pipeline;

/// <summary>Where this rank sits: rank = replica·K + stage. The pipeline communicator links the K
/// stages of one replica; the data communicator links the D replicas of one stage.</summary>
public sealed class MpiPipelineGroups : IDisposable
{
    public int Stage { get; }
    public int Replica { get; }
    public int Stages { get; }
    public int Replicas { get; }
    public MpiComm World { get; }
    public MpiComm Pipeline { get; }
    public MpiComm Data { get; }

    MpiPipelineGroups(MpiComm world, int stages, int replicas, MpiComm pipe, MpiComm data)
    {
        World = world; Stages = stages; Replicas = replicas; Pipeline = pipe; Data = data;
        Stage = world.Rank % stages; Replica = world.Rank / stages;
    }

    /// <summary>Splits <paramref name="world"/> (of exactly K·D ranks) into pipeline and data groups.</summary>
    public static MpiPipelineGroups Create(MpiComm world, int stages, int replicas)
    {
        if (world.Size != stages * replicas)
            throw new ArgumentException(
                $"MPI job has {world.Size} ranks but --pipeline-stages {stages} x --data-parallel {replicas} = {stages * replicas}; " +
                $"launch with mpirun -np {stages * replicas} or change the flags");
        int stage = world.Rank % stages, replica = world.Rank / stages;
        var pipe = world.Split(color: replica, key: stage)!;
        var data = world.Split(color: stage, key: replica)!;
        return new MpiPipelineGroups(world, stages, replicas, pipe, data);
    }

    public void Dispose() { Pipeline.Dispose(); Data.Dispose(); }
}

/// <summary>Point-to-point links of one stage rank; tag 2m carries activations, 2m+1 gradients.</summary>
public sealed class MpiStageTransport(MpiComm pipeline) : IStageTransport
{
    readonly List<MpiRequest> _pending = [];
    int Stage => pipeline.Rank;

    public void SendActivation(int micro, ReadOnlyMemory<float> data) => _pending.Add(pipeline.Isend(data, Stage + 1, 2 * micro));
    public void ReceiveActivation(int micro, Memory<float> into) => pipeline.Recv(into.Span, Stage - 1, 2 * micro);
    public void SendGradient(int micro, ReadOnlyMemory<float> data) => _pending.Add(pipeline.Isend(data, Stage - 1, 2 * micro + 1));
    public void ReceiveGradient(int micro, Memory<float> into) => pipeline.Recv(into.Span, Stage + 1, 2 * micro + 1);

    public void Flush()
    {
        foreach (var r in _pending) r.Wait();
        _pending.Clear();
    }
}

/// <summary>Sums one stage's gradients over its replicas with MPI_Iallreduce (started when the stage's
/// last backward is done, finished after its sends are flushed).</summary>
public sealed class MpiGradientReducer(MpiComm data) : IGradientReducer
{
    MpiRequest? _request;
    public int Replicas => data.Size;

    /// <summary>All-reduces started so far (counted as messages: proof the replicas really exchanged).</summary>
    public long Reductions { get; private set; }

    public void Start(Memory<float> gradients) { _request = data.IallreduceSum(gradients); Reductions++; }
    public void Finish() { _request?.Wait(); _request = null; }
}
