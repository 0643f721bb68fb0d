// Measured costs the planner works from: per-layer forward/backward time as an affine function of the
// micro-batch rows, activation and parameter bytes per layer, link latency/bandwidth, update time per parameter.
namespace LightGlm.Pipeline.Planning;

/// <summary>Costs of one unit the planner places (a transformer block; the embedding is folded into the
/// first block and the head into the last, as the first and last stage carry them).
/// Time(b) = Fixed + PerRow·b seconds for a micro-batch of b sequences, measured on one core.</summary>
public sealed record LayerCost(string Name, double ForwardFixed, double ForwardPerRow, double BackwardFixed, double BackwardPerRow,
    long ActivationBytesPerRow, long ParameterCount)
{
    public double Time(int rows) => ForwardFixed + BackwardFixed + (ForwardPerRow + BackwardPerRow) * rows;
}

/// <summary>A point-to-point link: time(n bytes) = Latency + n / Bandwidth.</summary>
public sealed record LinkCost(string Name, double LatencySeconds, double BytesPerSecond)
{
    public double Time(long bytes) => bytes <= 0 ? 0 : LatencySeconds + bytes / BytesPerSecond;
}

/// <summary>Everything measured about one model at one sequence length on one machine.</summary>
/// <param name="BoundaryBytesPerRow">Bytes sent between stages per sequence (hidden states, B·T·C·4 / B).</param>
/// <param name="UpdateSecondsPerParameter">Optimizer step time per parameter (AdamW, one core).</param>
/// <param name="StateBytesPerParameter">Weights + gradients + optimizer moments per parameter (fp32 AdamW: 16).</param>
public sealed record CostProfile(IReadOnlyList<LayerCost> Layers, LinkCost Link, long BoundaryBytesPerRow,
    double UpdateSecondsPerParameter, int StateBytesPerParameter, int Cores, int SequenceLength)
{
    public int L => Layers.Count;
}
