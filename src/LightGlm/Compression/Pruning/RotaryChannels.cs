// Which head-dim channels form rotary pairs, and the student channel order that keeps pairs together in either layout.
namespace LightGlm.Compression.Pruning;

/// <summary>
/// Teacher head of D channels whose first R are rotary. Pair j is channels (2j, 2j+1) when interleaved (ChatGLM2) or
/// (j, j + R/2) with rotate_half (LLaMA). A student keeps m whole pairs and some pass-through channels; its channel order is
///   interleaved:  2p₀, 2p₀+1, 2p₁, 2p₁+1, …, then pass-through channels
///   rotate_half:  p₀, p₁, …, p_{m−1}, p₀+R/2, …, p_{m−1}+R/2, then pass-through channels
/// so its own layout (R' = 2m) sees the same pairs. The student's inv_freq_k = θ^(−2k/R') equals the teacher's
/// inv_freq_{p_k} = θ^(−2p_k/R) for every k exactly when p_k = k·s with s = (R/2)/m: a stride set.
/// </summary>
public sealed record RotaryChannels(int D, int R, bool Interleaved)
{
    public int Pairs => R / 2;

    /// <summary>The two teacher channels of pair j.</summary>
    public (int A, int B) Pair(int j) => Interleaved ? (2 * j, 2 * j + 1) : (j, j + R / 2);

    /// <summary>The pair a rotary channel belongs to, or −1 for a pass-through channel (c ≥ R).</summary>
    public int PairOf(int c) => c >= R ? -1 : Interleaved ? c / 2 : c % (R / 2);

    /// <summary>Student channel order for kept pairs (ascending) and kept pass-through channels (ascending).</summary>
    public List<int> Order(IEnumerable<int> pairs, IEnumerable<int> passThrough)
    {
        var p = pairs.Order().ToList();
        var order = new List<int>();
        if (Interleaved) foreach (var j in p) { order.Add(2 * j); order.Add(2 * j + 1); }
        else { order.AddRange(p); order.AddRange(p.Select(j => j + R / 2)); }
        order.AddRange(passThrough.Order());
        return order;
    }

    /// <summary>The stride set of m pairs {0, s, 2s, …} with s = (R/2)/m, or null when m does not divide R/2.</summary>
    public List<int>? StridePairs(int m)
    {
        if (m == 0) return [];
        if (m < 0 || Pairs % m != 0) return null;
        int s = Pairs / m;
        return Enumerable.Range(0, m).Select(k => k * s).ToList();
    }

    /// <summary>
    /// Reads a student channel list back into (pairs, pass-through), or returns an error saying why the list does not keep
    /// whole pairs in the student's layout order.
    /// </summary>
    public (List<int> Pairs, List<int> PassThrough, string? Error) Parse(IReadOnlyList<int> channels)
    {
        int rot = channels.Count(c => c < R);
        if (rot % 2 != 0) return ([], [], $"keeps {rot} rotary channels; rotary channels must be kept in whole pairs");
        if (channels.Take(rot).Any(c => c >= R)) return ([], [], "lists pass-through channels before rotary ones; rotary pairs come first");
        var pairs = channels.Take(rot).Select(PairOf).Distinct().Order().ToList();
        var pass = channels.Skip(rot).ToList();
        var expected = Order(pairs, pass);
        if (!expected.SequenceEqual(channels))
            return ([], [], $"is [{string.Join(",", channels)}] but whole pairs in {(Interleaved ? "interleaved" : "rotate_half")} order would be [{string.Join(",", expected)}]");
        return (pairs, pass, null);
    }

    /// <summary>True when the kept pairs keep their teacher frequencies in the student (a stride set, or all pairs).</summary>
    public bool KeepsFrequencies(IReadOnlyList<int> pairs) => StridePairs(pairs.Count) is { } s && s.SequenceEqual(pairs.Order());
}
