// How a stage talks to its neighbours and to its data-parallel replicas. Implemented over
// threads (InProcessTransport) and over MPI (MpiTransport); the executor sees only these.
namespace LightGlm.Pipeline;

/// <summary>Point-to-point links of one stage: activations forward to stage s+1, gradients back to s−1.</summary>
public interface IStageTransport
{
    /// <summary>Sends micro-batch m's activations to the next stage. The transport may keep a reference
    /// to <paramref name="data"/> until <see cref="Flush"/>; the caller leaves it unchanged until then.</summary>
    void SendActivation(int micro, ReadOnlyMemory<float> data);

    /// <summary>Blocks until micro-batch m's activations from the previous stage are in <paramref name="into"/>.</summary>
    void ReceiveActivation(int micro, Memory<float> into);

    /// <summary>Sends the gradient with respect to this stage's input for micro-batch m to the previous stage.</summary>
    void SendGradient(int micro, ReadOnlyMemory<float> data);

    /// <summary>Blocks until micro-batch m's output gradient from the next stage is in <paramref name="into"/>.</summary>
    void ReceiveGradient(int micro, Memory<float> into);

    /// <summary>Waits until every send of this step has completed.</summary>
    void Flush();
}

/// <summary>Sums a stage's gradients over its data-parallel replicas: grads := Σ_replicas grads.</summary>
public interface IGradientReducer
{
    int Replicas { get; }

    /// <summary>Starts the sum (it may run while other stages still compute backward).</summary>
    void Start(Memory<float> gradients);

    /// <summary>Waits for the sum started by <see cref="Start"/>.</summary>
    void Finish();
}
