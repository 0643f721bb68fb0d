// Hooks into the reference forward: importance estimators read one layer's activations at a time and keep only sums.
namespace LightGlm.Compression.Importance;

/// <summary>Each hook gets the current sequence's tensors (T rows); they are overwritten by the next layer, so copy what you keep.</summary>
public abstract class ForwardObserver
{
    /// <summary>Residual stream entering (x_in) and leaving (x_out) block <paramref name="layer"/>, both (T, C).</summary>
    public virtual void Block(int layer, ReadOnlySpan<float> xIn, ReadOnlySpan<float> xOut, int T) { }
    /// <summary>Normed block inputs n1 (before attention) and n2 (before the FFN), (T, C).</summary>
    public virtual void Norms(int layer, ReadOnlySpan<float> n1, ReadOnlySpan<float> n2, int T) { }
    /// <summary>q (T, H·D), k and v (T, KV·D) after bias, masks and rotary.</summary>
    public virtual void Qkv(int layer, ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, int T) { }
    /// <summary>Per-head attention outputs before o_proj, (T, H·D).</summary>
    public virtual void HeadOutputs(int layer, ReadOnlySpan<float> att, int T) { }
    /// <summary>silu(gate)·up, (T, F), after the neuron mask.</summary>
    public virtual void FfnActivations(int layer, ReadOnlySpan<float> act, int T) { }
}
