// Keys and values of past positions, per layer and per sequence slot, for incremental decoding.
namespace LightGlm.Model.Inference;

/// <summary>
/// K and V of layer l, slot s, position p live at ((l·S + s)·MaxLength + p)·KV·D in one arena each.
/// A slot is one sequence (a prompt of a batch, or a beam); each has its own length and its own positions from 0.
/// </summary>
public sealed class KvCache
{
    public int Layers { get; }
    public int Slots { get; }
    public int MaxLength { get; }
    public int RowWidth { get; }           // KV·D
    public float[] K { get; }
    public float[] V { get; }
    /// <summary>Filled positions per slot.</summary>
    public int[] Length { get; }
    /// <summary>Keys [0, PrefixEnd[s]) are visible to every query of slot s (GLM prefix mask); 0 = causal only.</summary>
    public int[] PrefixEnd { get; }

    public KvCache(ModelConfig c, int slots, int maxLength)
    {
        if (maxLength > c.MaxPositionEmbeddings)
            throw new ArgumentException($"KV cache length {maxLength} exceeds max_position_embeddings = {c.MaxPositionEmbeddings}");
        Layers = c.L; Slots = slots; MaxLength = maxLength; RowWidth = c.KV * c.D;
        long n = (long)Layers * slots * maxLength * RowWidth;
        if (n > Array.MaxLength) throw new InvalidOperationException($"KV cache of {n} floats is too large: fewer slots or a shorter max length");
        K = new float[n];
        V = new float[n];
        Length = new int[slots];
        PrefixEnd = new int[slots];
    }

    public int Offset(int layer, int slot, int pos) => ((layer * Slots + slot) * MaxLength + pos) * RowWidth;

    public void Reset(int slot) { Length[slot] = 0; PrefixEnd[slot] = 0; }

    public void ResetAll() { Array.Clear(Length); Array.Clear(PrefixEnd); }

    /// <summary>Copies slot <paramref name="src"/>'s filled positions to <paramref name="dst"/> (beam search reordering).</summary>
    public void CopySlot(int src, int dst)
    {
        if (src == dst) return;
        int len = Length[src];
        for (int l = 0; l < Layers; l++)
        {
            Array.Copy(K, Offset(l, src, 0), K, Offset(l, dst, 0), len * RowWidth);
            Array.Copy(V, Offset(l, src, 0), V, Offset(l, dst, 0), len * RowWidth);
        }
        Length[dst] = len;
        PrefixEnd[dst] = PrefixEnd[src];
    }
}
