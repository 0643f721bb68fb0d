// Translation edit rate as sacreBLEU's lib_ter.py computes it: greedy block shifts chosen by
// Tercom's ranking, a shift-candidate budget, and a beam-restricted edit distance. Ported literally
// because its heuristics (budget, beam) make it differ from the true minimum on some segments.
namespace LightGlm.Evaluation.Metrics;

/// <summary>The edits of one segment and what happened on the way (diagnostics for tests).</summary>
public readonly record struct TerEdits(int Edits, int RefLength, int Shifts, bool CandidateLimitHit);

public static class TerAlgorithm
{
    const int MaxShiftSize = 10, MaxShiftDist = 50, BeamWidth = 25, MaxShiftCandidates = 1000;
    const long Infinity = 10_000_000_000_000_000; // int(1e16)
    const char OpIns = 'i', OpDel = 'd', OpNop = ' ', OpSub = 's', OpUndef = 'x';

    /// <summary><c>translation_edit_rate(words_hyp, words_ref)</c> → (edits, ref length).</summary>
    public static TerEdits Compute(IReadOnlyList<string> hyp, IReadOnlyList<string> reference)
    {
        if (reference.Count == 0) return new TerEdits(hyp.Count, 0, 0, false); // empty ref: every hyp word is an edit
        var ed = new BeamEditDistance(reference);
        int shifts = 0, checkedCandidates = 0;
        var input = hyp.ToArray();
        bool limit = false;
        while (true)
        {
            var (delta, shifted, nowChecked) = Shift(input, reference, ed, checkedCandidates);
            checkedCandidates = nowChecked;
            // Over budget: stop, and the best shift of this round is thrown away (as in lib_ter.py).
            if (checkedCandidates >= MaxShiftCandidates) { limit = true; break; }
            if (delta <= 0) break;
            shifts++;
            input = shifted;
        }
        var (dist, _) = ed.Run(input);
        return new TerEdits(shifts + (int)dist, reference.Count, shifts, limit);
    }

    static (long Delta, string[] Words, int Checked) Shift(string[] h, IReadOnlyList<string> r, BeamEditDistance ed, int checkedCandidates)
    {
        var (preScore, invTrace) = ed.Run(h);
        // Flip: the alignment is read as if rewriting the reference into the hypothesis.
        var trace = invTrace.Replace(OpIns, '\0').Replace(OpDel, OpIns).Replace('\0', OpDel);
        var (align, refErr, hypErr) = TraceToAlignment(trace);

        bool haveBest = false;
        long bestGain = 0; int bestLen = 0, bestNegStart = 0, bestNegIdx = 0;
        string[]? bestWords = null;

        foreach (var (startH, startR, length) in ShiftedPairs(h, r))
        {
            // Shift only if the hyp words were wrong and the ref words at the target are unmatched.
            if (SumRange(hypErr, startH, length) == 0) continue;
            if (SumRange(refErr, startR, length) == 0) continue;
            if (startH <= align[startR] && align[startR] < startH + length) continue; // not within itself

            int prevIdx = -1;
            for (int offset = -1; offset < length; offset++)
            {
                int idx;
                if (startR + offset == -1) idx = 0;
                else if (align.TryGetValue(startR + offset, out var a)) idx = a + 1; // insert before, unlike Tercom
                else break;
                if (idx == prevIdx) continue;
                prevIdx = idx;

                var shifted = PerformShift(h, startH, length, idx);
                long gain = preScore - ed.Run(shifted).Distance;
                checkedCandidates++;
                // Tuple order (gain, length, −start_h, −idx): the first of equal candidates is kept.
                if (!haveBest || Greater(gain, length, -startH, -idx, bestGain, bestLen, bestNegStart, bestNegIdx))
                {
                    haveBest = true;
                    (bestGain, bestLen, bestNegStart, bestNegIdx, bestWords) = (gain, length, -startH, -idx, shifted);
                }
            }
            if (checkedCandidates >= MaxShiftCandidates) break;
        }
        return haveBest ? (bestGain, bestWords!, checkedCandidates) : (0, h, checkedCandidates);
    }

    static bool Greater(long g, int l, int s, int i, long bg, int bl, int bs, int bi) =>
        g != bg ? g > bg : l != bl ? l > bl : s != bs ? s > bs : i > bi;

    static int SumRange(List<int> v, int start, int length)
    {
        int s = 0;
        for (int k = start; k < Math.Min(v.Count, start + length); k++) s += v[k];
        return s;
    }

    static string[] PerformShift(string[] w, int start, int length, int target)
    {
        IEnumerable<string> Slice(int a, int b) => w.Skip(a).Take(Math.Max(0, Math.Min(b, w.Length) - a));
        IEnumerable<string> result;
        if (target < start)
            result = Slice(0, target).Concat(Slice(start, start + length)).Concat(Slice(target, start)).Concat(Slice(start + length, w.Length));
        else if (target > start + length)
            result = Slice(0, start).Concat(Slice(start + length, target)).Concat(Slice(start, start + length)).Concat(Slice(target, w.Length));
        else
            result = Slice(0, start).Concat(Slice(start + length, length + target)).Concat(Slice(start, start + length)).Concat(Slice(length + target, w.Length));
        return result.ToArray();
    }

    /// <summary>(start_h, start_r, length) with h[start_h..+length] == r[start_r..+length], |start_r−start_h| ≤ 50,
    /// length ≤ 10, in lib_ter's generation order.</summary>
    static IEnumerable<(int, int, int)> ShiftedPairs(string[] h, IReadOnlyList<string> r)
    {
        for (int sh = 0; sh < h.Length; sh++)
            for (int sr = 0; sr < r.Count; sr++)
            {
                if (Math.Abs(sr - sh) > MaxShiftDist) continue;
                int length = 0;
                while (h[sh + length] == r[sr + length] && length < MaxShiftSize)
                {
                    length++;
                    yield return (sh, sr, length);
                    if (h.Length == sh + length || r.Count == sr + length) break;
                }
            }
    }

    static (Dictionary<int, int> Align, List<int> RefErr, List<int> HypErr) TraceToAlignment(string trace)
    {
        int posHyp = -1, posRef = -1;
        var hypErr = new List<int>(); var refErr = new List<int>(); var align = new Dictionary<int, int>();
        foreach (var op in trace)
        {
            switch (op)
            {
                case OpNop: posHyp++; posRef++; align[posRef] = posHyp; hypErr.Add(0); refErr.Add(0); break;
                case OpSub: posHyp++; posRef++; align[posRef] = posHyp; hypErr.Add(1); refErr.Add(1); break;
                case OpIns: posHyp++; hypErr.Add(1); break;
                case OpDel: posRef++; align[posRef] = posHyp; refErr.Add(1); break;
                default: throw new InvalidOperationException($"unknown edit operation '{op}'");
            }
        }
        return (align, refErr, hypErr);
    }

    /// <summary>lib_ter's BeamEditDistance without its row cache: the cache only reuses rows of an
    /// identical hypothesis prefix of the same length, so the values are the same.</summary>
    sealed class BeamEditDistance(IReadOnlyList<string> refWords)
    {
        readonly int _nRef = refWords.Count;

        public (long Distance, string Trace) Run(string[] h)
        {
            int nH = h.Length, nR = _nRef;
            var cost = new long[nH + 1, nR + 1];
            var op = new char[nH + 1, nR + 1];
            for (int j = 0; j <= nR; j++) { cost[0, j] = j; op[0, j] = OpIns; } // first row: insert ref words
            for (int i = 1; i <= nH; i++)
                for (int j = 0; j <= nR; j++) { cost[i, j] = Infinity; op[i, j] = OpUndef; }

            double lengthRatio = nH > 0 ? (double)nR / nH : 1;
            int beam = BeamWidth < lengthRatio / 2 ? (int)Math.Ceiling(lengthRatio / 2 + BeamWidth) : BeamWidth;

            for (int i = 1; i <= nH; i++)
            {
                int diag = (int)Math.Floor(i * lengthRatio);
                int minJ = Math.Max(0, diag - beam);
                int maxJ = i == nH ? nR + 1 : Math.Min(nR + 1, diag + beam);
                for (int j = minJ; j < maxJ; j++)
                {
                    if (j == 0) { cost[i, j] = cost[i - 1, j] + 1; op[i, j] = OpDel; continue; }
                    bool same = h[i - 1] == refWords[j - 1];
                    // Preference on ties: sub/match, then deletion, then insertion (strict '>').
                    Relax(cost, op, i, j, cost[i - 1, j - 1] + (same ? 0 : 1), same ? OpNop : OpSub);
                    Relax(cost, op, i, j, cost[i - 1, j] + 1, OpDel);
                    Relax(cost, op, i, j, cost[i, j - 1] + 1, OpIns);
                }
            }

            var trace = new System.Text.StringBuilder();
            int ti = nH, tj = nR;
            while (ti > 0 || tj > 0)
            {
                char o = op[ti, tj];
                trace.Insert(0, o);
                if (o is OpSub or OpNop) { ti--; tj--; }
                else if (o == OpIns) tj--;
                else if (o == OpDel) ti--;
                else throw new InvalidOperationException($"unknown edit operation '{o}'");
            }
            return (cost[nH, nR], trace.ToString());
        }

        static void Relax(long[,] cost, char[,] op, int i, int j, long c, char o)
        {
            if (cost[i, j] > c) { cost[i, j] = c; op[i, j] = o; }
        }
    }
}
