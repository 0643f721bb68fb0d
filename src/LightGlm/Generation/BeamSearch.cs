// Beam search over a KV cache: width k, score = Σ log p / length^penalty, early stopping once k hypotheses have finished.
// One prompt's search is a BeamHypotheses; several prompts' beams decode together in one session step.
using System.Numerics.Tensors;
using LightGlm.Model;
using LightGlm.Model.Inference;

namespace LightGlm.Generation;

/// <summary>
/// The beam search of one prompt whose cache slots are [slotBase, slotBase + 2k): beams live in the first or the second
/// half alternately; each step copies every survivor's parent slot into the other half, so a parent can have several
/// children. Per step: for each beam, log-softmax; take the 2k best (beam, token) pairs; a pair ending in a stop token
/// becomes a finished hypothesis, others become the next beams (up to k). The search ends when k hypotheses have
/// finished (Hugging Face early_stopping=True) or at max new tokens, where live beams count as finished.
/// With k = 1 this is exactly greedy decoding.
/// </summary>
public sealed class BeamHypotheses
{
    sealed record Beam(int[] Tokens, double LogProb, int Slot);

    /// <summary>
    /// The widest beam any command or request may use. Beyond a few beams quality no longer improves (the paper and
    /// Hugging Face's defaults use 4–5), while the work does: each step decodes every live beam over the vocabulary and
    /// the cache holds 2k slots, so a width like 100,000 grew to 100,000 live beams × V logits per step (a hang).
    /// </summary>
    public const int MaxWidth = 16;

    readonly int _k, _slotBase, _maxNew;
    readonly double _lengthPenalty;
    readonly int[] _stop;
    readonly float[] _logp;
    readonly int[] _topIdx;
    readonly float[] _topVal;
    readonly List<(double LogProb, int Beam, int Token)> _cands;
    readonly List<(int[] Tokens, double Score, bool Stopped)> _finished = [];
    List<Beam> _beams;
    int _half;

    /// <summary>Starts from the prompt already prefilled into slot <paramref name="slotBase"/>.</summary>
    public BeamHypotheses(int width, double lengthPenalty, int maxNewTokens, int[] stopTokens, int slotBase, int vocabSize)
    {
        if (width < 1) throw new ArgumentOutOfRangeException(nameof(width), width, "beam width must be >= 1");
        _k = width; _lengthPenalty = lengthPenalty; _maxNew = maxNewTokens; _stop = stopTokens; _slotBase = slotBase;
        _logp = new float[vocabSize];
        _topIdx = new int[2 * width];
        _topVal = new float[2 * width];
        _cands = new List<(double, int, int)>(4 * width * width);
        _beams = [new Beam([], 0, slotBase)];
        Done = maxNewTokens <= 0;
    }

    public bool Done { get; private set; }
    /// <summary>Live beams: the rows this prompt needs in the next decode step.</summary>
    public int Live => Done ? 0 : _beams.Count;

    /// <summary>Writes the live beams' slots and last tokens (the next decode rows); returns how many.</summary>
    public int NextRows(Span<int> slots, Span<int> tokens)
    {
        if (Done) return 0;
        for (int b = 0; b < _beams.Count; b++) { slots[b] = _beams[b].Slot; tokens[b] = _beams[b].Tokens[^1]; }
        return _beams.Count;
    }

    double Score(double lp, int len) => lp / Math.Pow(Math.Max(1, len), _lengthPenalty);

    /// <summary>One step from the logits of the live beams (Live rows of V, in NextRows order; after the prefill: its logits).</summary>
    public void Step(ReadOnlySpan<float> logits, KvCache cache)
    {
        if (Done) return;
        int V = _logp.Length;
        _cands.Clear();
        for (int b = 0; b < _beams.Count; b++)
        {
            LogSoftmax(logits.Slice(b * V, V), _logp);
            int n = TopIndices(_logp, 2 * _k);
            for (int i = 0; i < n; i++) _cands.Add((_beams[b].LogProb + _logp[_topIdx[i]], b, _topIdx[i]));
        }
        // Best first (ties: lower beam, lower token).
        _cands.Sort((x, y) => y.LogProb != x.LogProb ? y.LogProb.CompareTo(x.LogProb) : x.Beam != y.Beam ? x.Beam.CompareTo(y.Beam) : x.Token.CompareTo(y.Token));
        var next = new List<Beam>(_k);
        int newHalf = _k - _half;
        for (int rank = 0; rank < _cands.Count; rank++)
        {
            var (lp, b, t) = _cands[rank];
            if (Array.IndexOf(_stop, t) >= 0)
            {
                if (rank >= _k) continue; // as Hugging Face: only a top-k candidate may finish a hypothesis
                _finished.Add((_beams[b].Tokens, Score(lp, _beams[b].Tokens.Length + 1), true));
                if (_finished.Count >= _k) break;
                continue;
            }
            if (next.Count == _k) continue;
            int slot = _slotBase + newHalf + next.Count;
            cache.CopySlot(_beams[b].Slot, slot);
            next.Add(new Beam([.. _beams[b].Tokens, t], lp, slot));
        }
        _half = newHalf;
        _beams = next;
        bool atLimit = _beams.Count > 0 && _beams[0].Tokens.Length >= _maxNew;
        if (_finished.Count >= _k || _beams.Count == 0 || atLimit)
        {
            if (_finished.Count < _k || _beams.Count == 0)
                foreach (var b in _beams) _finished.Add((b.Tokens, Score(b.LogProb, b.Tokens.Length), false));
            Done = true;
        }
    }

    /// <summary>The best finished hypothesis (call when <see cref="Done"/>).</summary>
    public GeneratedSequence Best()
    {
        if (!Done) throw new InvalidOperationException("the beam search has not finished");
        if (_finished.Count == 0) return new GeneratedSequence([], false, 0);
        var best = _finished[0];
        foreach (var f in _finished) if (f.Score > best.Score) best = f;
        return new GeneratedSequence(best.Tokens, best.Stopped, best.Score);
    }

    static void LogSoftmax(ReadOnlySpan<float> x, Span<float> y)
    {
        float max = TensorPrimitives.Max(x);
        TensorPrimitives.Subtract(x, max, y);
        double sum = 0;
        foreach (float v in y) sum += Math.Exp(v);
        TensorPrimitives.Subtract(y, (float)Math.Log(sum), y);
    }

    /// <summary>Indices of the n largest values into _topIdx, largest first (ties: lower index first); returns the count.</summary>
    int TopIndices(ReadOnlySpan<float> x, int n)
    {
        n = Math.Min(n, x.Length);
        var idx = _topIdx; var val = _topVal;
        int count = 0;
        for (int i = 0; i < x.Length; i++)
        {
            float v = x[i];
            if (count == n && v <= val[n - 1]) continue;
            int j = count < n ? count++ : n - 1;
            while (j > 0 && val[j - 1] < v) { val[j] = val[j - 1]; idx[j] = idx[j - 1]; j--; }
            val[j] = v; idx[j] = i;
        }
        return count;
    }
}

public static class BeamSearch
{
    /// <summary>One prompt: prefill into slot 0, then <see cref="BeamHypotheses"/> steps with all live beams in one decode.</summary>
    public static GeneratedSequence Run(GlmModel model, int[] prompt, GenerationOptions o, InferenceWeights? weights = null)
    {
        if (weights is not null && !InferenceSession.SameShape(weights.Config, model.Config))
            throw new ArgumentException("the inference weights were made from a model of another shape");
        return Run(weights ?? InferenceWeights.Fp32(model), prompt, o);
    }

    /// <summary>The same over any weight source (a quantized checkpoint, a mapped one).</summary>
    public static GeneratedSequence Run(InferenceWeights weights, int[] prompt, GenerationOptions o)
    {
        var c = weights.Config;
        int k = o.BeamWidth, V = c.V;
        if (prompt.Length == 0) throw new ArgumentException("the prompt needs at least one token");
        if (o.MaxNewTokens == 0) return new GeneratedSequence([], false, 0);
        var session = new InferenceSession(weights, 2 * k, prompt.Length + Math.Max(1, o.MaxNewTokens), Math.Max(prompt.Length, 2 * k));
        var logits = new float[2 * k * V];
        var slots = new int[k];
        var tokens = new int[k];
        var search = new BeamHypotheses(k, o.LengthPenalty, o.MaxNewTokens, o.StopTokens, 0, V);
        session.Prefill(0, prompt, logits.AsSpan(0, V), o.BidirectionalPrompt);
        o.MaskUnknownIds(logits.AsSpan(0, V), V);
        search.Step(logits.AsSpan(0, V), session.Cache);
        while (!search.Done)
        {
            int n = search.NextRows(slots, tokens);
            session.Decode(slots.AsSpan(0, n), tokens.AsSpan(0, n), logits.AsSpan(0, n * V));
            o.MaskUnknownIds(logits.AsSpan(0, n * V), V);
            search.Step(logits.AsSpan(0, n * V), session.Cache);
        }
        return search.Best();
    }
}
