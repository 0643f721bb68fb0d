// The compute of one pipeline stage (a contiguous layer range), as the schedule sees it:
// forward/backward of a numbered micro-batch with explicit input/output buffers.
namespace LightGlm.Pipeline;

/// <summary>
/// One stage of a pipeline. The first stage reads its micro-batch's inputs itself (tokens, features) and
/// ignores <c>input</c>; the last stage computes the loss and ignores <c>dOutput</c>. Forward keeps a cache
/// per micro-batch (several may be in flight under 1F1B/GPipe); Backward consumes it and adds into the
/// stage's parameter gradients, so gradients accumulate across micro-batches until <see cref="ZeroGradients"/>.
/// </summary>
public interface IPipelineStage
{
    /// <summary>Number of micro-batches of the current step (set by the driver with the step's data).</summary>
    int MicroBatches { get; }

    /// <summary>Floats this stage receives for micro-batch m (0 on the first stage).</summary>
    int InputLength(int micro);

    /// <summary>Floats this stage sends on for micro-batch m (0 on the last stage).</summary>
    int OutputLength(int micro);

    /// <summary>input (InputLength) → output (OutputLength); stores what Backward needs for this micro-batch.</summary>
    void Forward(int micro, ReadOnlySpan<float> input, Span<float> output);

    /// <summary>dOutput (OutputLength) → dInput (InputLength); adds parameter gradients; frees the cache.</summary>
    void Backward(int micro, ReadOnlySpan<float> dOutput, Span<float> dInput);

    /// <summary>Bytes of activation cache held for micro-batch m between its Forward and Backward.</summary>
    long CacheBytes(int micro);

    /// <summary>Loss contribution of micro-batch m, already scaled by the global normaliser so that the
    /// sum over micro-batches and replicas is the loss of the global batch (last stage only, else 0).</summary>
    double Loss(int micro);

    /// <summary>All parameter gradients of the stage as one flat buffer (all-reduced across replicas).</summary>
    Memory<float> Gradients { get; }

    void ZeroGradients();
}
