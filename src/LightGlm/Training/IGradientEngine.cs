// Where a training step's forward and backward run when not on the trainer's own thread: a pipeline of stage
// threads or MPI ranks (LightGlm.Pipeline). The trainer keeps the loss normalisation, clipping, NaN check and AdamW.
using LightGlm.Model;

namespace LightGlm.Training;

/// <summary>
/// Computes a step's loss and gradients into the model's Grads arena. Implementations must give the same loss and
/// gradients as forward + backward of every micro-batch on one thread (float tolerance): the micro-batches arrive with
/// the step's global loss scale already set.
/// </summary>
public interface IGradientEngine
{
    /// <summary>Zeroes the gradients, runs forward and backward of <paramref name="micro"/>, returns the step's loss.</summary>
    double ComputeGradients(IReadOnlyList<Batch> micro, ILossObjective objective);

    /// <summary>Parameters this process holds gradients for and updates: Weights[From, To). The whole arena,
    /// except on an MPI stage rank, which owns its stage's range.</summary>
    (int From, int To) Owned { get; }

    /// <summary>Σ of <paramref name="x"/> over the processes owning the other ranges (the global gradient norm needs it).</summary>
    double SumOverOwners(double x);

    /// <summary>Called after the optimizer changed Weights[Owned]: copies them to other replicas when they share memory.</summary>
    void WeightsChanged();

    /// <summary>Makes the whole state current on this process before a checkpoint or evaluation (an MPI rank sums
    /// every stage's range of <paramref name="arenas"/>); returns true when this process writes checkpoints.</summary>
    bool Gather(params float[][] arenas);

    /// <summary>Waits until every process of the run gets here (MPI: no rank runs ahead of a checkpoint being written).</summary>
    void Barrier();

    /// <summary>One line for logs: the schedule, stages, micro-batches, transport.</summary>
    string Description { get; }
}
