// Translation examples packed several to a row: UI strings are short, and a row padded to seq_len spends most of its
// compute on padding. Each row holds whole examples back to back; the model's block-diagonal prefix mask
// (Kernels.AttentionSegments) and per-example positions keep every example alone in its row.
using LightGlm.Model;
using LightGlm.Translation;

namespace LightGlm.Training;

/// <summary>How full the packed rows are over the first epoch.</summary>
public sealed record PackingStats(int Examples, int Rows, long RealTokens, int SeqLen)
{
    public double PadFraction => Rows == 0 ? 0 : 1 - RealTokens / ((double)Rows * SeqLen);
    public double ExamplesPerRow => Rows == 0 ? 0 : Examples / (double)Rows;
}

/// <summary>
/// Epoch e shuffles the examples with (seed, e) and packs them best-fit into rows of <c>seqLen</c> tokens, keeping up to
/// <see cref="OpenRows"/> rows open (a full row, or the fullest when none has room, is closed and emitted). Micro-batch i
/// takes rows [i·B, (i+1)·B) of the epochs laid end to end: a pure function of i, so a resumed run is bit-identical.
/// Every example is seen once per epoch, as with the unpacked source; an epoch just needs fewer rows.
/// </summary>
public sealed class PackedBatchSource : IBatchSource
{
    /// <summary>Rows being filled at once: more = denser rows, less locality of the shuffle.</summary>
    public const int OpenRows = 16;

    readonly IReadOnlyList<TaskExample> _examples;
    readonly int _seqLen, _pad;
    readonly ulong _seed;
    readonly List<int[][]> _epochs = [];
    readonly List<long> _epochFirstRow = [];
    readonly object _lock = new();

    public PackedBatchSource(IReadOnlyList<TaskExample> examples, int seqLen, int padId, ulong seed)
    {
        if (examples.Count == 0) throw new ArgumentException("no training examples to pack: the training split is empty or every pair was too long");
        for (int i = 0; i < examples.Count; i++)
            if (examples[i].Length > seqLen || examples[i].Length == 0)
                throw new ArgumentException($"training example {i} has {examples[i].Length} tokens; packing needs 1..seq_len = {seqLen}: build the examples with max length {seqLen}");
        _examples = examples;
        _seqLen = seqLen;
        _pad = padId;
        _seed = seed;
    }

    public PackingStats FirstEpochStats()
    {
        var rows = Epoch(0);
        long real = rows.Sum(r => r.Sum(i => (long)_examples[i].Length));
        return new PackingStats(_examples.Count, rows.Length, real, _seqLen);
    }

    public void Fill(Batch batch, long index)
    {
        int B = batch.B, T = batch.T;
        if (T != _seqLen) throw new ArgumentException($"the batch has T = {T}, the packing was made for seq_len = {_seqLen}");
        batch.PrefixLengths = null;
        batch.SampleWeights = null;
        var starts = batch.SegmentStarts ??= new int[B * T];
        var ends = batch.SegmentPrefixEnds ??= new int[B * T];
        Array.Fill(batch.Tokens, _pad);
        Array.Fill(batch.Targets, -1);
        int real = 0;
        for (int b = 0; b < B; b++)
        {
            var row = Row(index * B + b);
            int t = 0;
            foreach (int e in row)
            {
                var ex = _examples[e];
                ex.Tokens.CopyTo(batch.Tokens, b * T + t);
                ex.Targets.CopyTo(batch.Targets, b * T + t);
                for (int j = 0; j < ex.Length; j++) { starts[b * T + t + j] = t; ends[b * T + t + j] = t + ex.PrefixLength; }
                t += ex.Length;
                real += ex.Length;
            }
            // The padding tail is one causal segment of its own: it sees only padding and has no targets.
            for (int j = t; j < T; j++) { starts[b * T + j] = t; ends[b * T + j] = t; }
        }
        batch.RealTokens = real;
    }

    /// <summary>Row number <paramref name="r"/> of the epochs laid end to end.</summary>
    int[] Row(long r)
    {
        lock (_lock)
        {
            int e = 0;
            while (true)
            {
                var rows = Epoch(e);
                long first = _epochFirstRow[e];
                if (r < first + rows.Length) return rows[r - first];
                e++;
            }
        }
    }

    int[][] Epoch(int e)
    {
        lock (_lock)
        {
            while (_epochs.Count <= e)
            {
                int k = _epochs.Count;
                _epochFirstRow.Add(k == 0 ? 0 : _epochFirstRow[k - 1] + _epochs[k - 1].Length);
                _epochs.Add(Pack(k));
            }
            return _epochs[e];
        }
    }

    int[][] Pack(int epoch)
    {
        var order = Enumerable.Range(0, _examples.Count).ToArray();
        new Random(unchecked((int)(_seed * 0x9E3779B1UL) ^ (epoch * 7919 + 17))).Shuffle(order);
        var rows = new List<int[]>(_examples.Count / 2 + 1);
        var open = new List<(List<int> Items, int Used)>(OpenRows);
        foreach (int i in order)
        {
            int len = _examples[i].Length;
            int best = -1;
            for (int o = 0; o < open.Count; o++)
                if (open[o].Used + len <= _seqLen && (best < 0 || open[o].Used > open[best].Used)) best = o;
            if (best < 0)
            {
                if (open.Count == OpenRows)
                {
                    int fullest = 0;
                    for (int o = 1; o < open.Count; o++) if (open[o].Used > open[fullest].Used) fullest = o;
                    rows.Add(open[fullest].Items.ToArray());
                    open.RemoveAt(fullest);
                }
                open.Add(([i], len));
                continue;
            }
            var (items, used) = open[best];
            items.Add(i);
            used += len;
            if (used == _seqLen) { rows.Add(items.ToArray()); open.RemoveAt(best); }
            else open[best] = (items, used);
        }
        foreach (var (items, _) in open) rows.Add(items.ToArray());
        return rows.ToArray();
    }
}
