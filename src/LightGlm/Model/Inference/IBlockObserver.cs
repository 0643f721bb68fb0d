// What importance scoring reads inside the one forward pass: each block's activations, handed out as they are computed.
namespace LightGlm.Model.Inference;

/// <summary>
/// Hooks <see cref="InferenceSession"/> calls once per block and per pass (n rows of one pass, in the order they run).
/// The spans are the session's own buffers, overwritten by the next block: keep sums, or copy. A hook not implemented
/// does nothing. With no observer attached the session pays one null check per hook and block, nothing else.
/// </summary>
public interface IBlockObserver
{
    /// <summary>n1 = RMSNorm(x)·w, the attention's input, (n, C).</summary>
    void AttentionInput(int layer, ReadOnlySpan<float> n1, int n) { }

    /// <summary>
    /// q, k and v of every row, (n, QkvDim), row = [q (H·D) | k (KV·D) | v (KV·D)]: after bias and mask; q and k also
    /// after rotary.
    /// </summary>
    void Qkv(int layer, ReadOnlySpan<float> qkv, int n) { }

    /// <summary>Per-head attention outputs before o_proj, (n, H·D); masked heads are zero.</summary>
    void HeadOutputs(int layer, ReadOnlySpan<float> att, int n) { }

    /// <summary>n2 = RMSNorm(x + attention)·w, the FFN's input, (n, C).</summary>
    void FfnInput(int layer, ReadOnlySpan<float> n2, int n) { }

    /// <summary>silu(gate)·up, (n, F), after the neuron mask.</summary>
    void FfnActivations(int layer, ReadOnlySpan<float> act, int n) { }

    /// <summary>The residual stream entering (x_in) and leaving (x_out) the block, both (n, C). Not called for a masked-out layer.</summary>
    void Block(int layer, ReadOnlySpan<float> xIn, ReadOnlySpan<float> xOut, int n) { }
}
