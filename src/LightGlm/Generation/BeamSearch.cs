// Beam search over a KV cache: width k, score = Σ log p / length^penalty, early stopping once k hypotheses have finished.
using System.Numerics.Tensors;
using LightGlm.Model;
using LightGlm.Model.Inference;

namespace LightGlm.Generation;

public static class BeamSearch
{
    sealed record Beam(List<int> Tokens, double LogProb, int Slot);

    /// <summary>
    /// Beams live in cache slots [0, k) or [k, 2k) alternately; each step copies every survivor's parent slot into the other
    /// half, so a parent can have several children. Per step: for each beam, log-softmax; take the 2k best (beam, token)
    /// pairs; a pair ending in a stop token becomes a finished hypothesis, others become the next beams (up to k).
    /// Search ends when k hypotheses have finished (Hugging Face early_stopping=True) or at max new tokens, where live
    /// beams count as finished. With k = 1 this is exactly greedy decoding.
    /// </summary>
    public static GeneratedSequence Run(GlmModel model, int[] prompt, GenerationOptions o)
    {
        var c = model.Config;
        int k = o.BeamWidth, V = c.V;
        if (prompt.Length == 0) throw new ArgumentException("the prompt needs at least one token");
        var session = new InferenceSession(model, 2 * k, prompt.Length + Math.Max(1, o.MaxNewTokens), Math.Max(prompt.Length, 2 * k));
        var logits = new float[2 * k * V];
        var logp = new float[V];
        var finished = new List<(int[] Tokens, double Score, bool Stopped)>();
        double Score(double lp, int len) => lp / Math.Pow(Math.Max(1, len), o.LengthPenalty);
        if (o.MaxNewTokens == 0) return new GeneratedSequence([], false, 0);

        session.Prefill(0, prompt, logits.AsSpan(0, V), o.BidirectionalPrompt);
        var beams = new List<Beam> { new([], 0, 0) };
        var cands = new List<(double LogProb, int Beam, int Token)>(2 * k * (2 * k));
        int half = 0;
        for (int step = 0; ; step++)
        {
            // Candidates: the 2k best tokens of each beam, then the 2k best overall (ties: lower beam, lower token).
            cands.Clear();
            for (int b = 0; b < beams.Count; b++)
            {
                LogSoftmax(logits.AsSpan(b * V, V), logp);
                foreach (int t in TopIndices(logp, 2 * k)) cands.Add((beams[b].LogProb + logp[t], b, t));
            }
            cands.Sort((x, y) => y.LogProb != x.LogProb ? y.LogProb.CompareTo(x.LogProb) : x.Beam != y.Beam ? x.Beam.CompareTo(y.Beam) : x.Token.CompareTo(y.Token));
            var next = new List<Beam>(k);
            int newHalf = k - half;
            for (int rank = 0; rank < cands.Count; rank++)
            {
                var (lp, b, t) = cands[rank];
                if (o.StopTokens.Contains(t))
                {
                    if (rank >= k) continue; // as Hugging Face: only a top-k candidate may finish a hypothesis
                    finished.Add((beams[b].Tokens.ToArray(), Score(lp, beams[b].Tokens.Count + 1), true));
                    if (finished.Count >= k) break;
                    continue;
                }
                if (next.Count == k) continue;
                int slot = newHalf + next.Count;
                session.Cache.CopySlot(beams[b].Slot, slot);
                next.Add(new Beam([.. beams[b].Tokens, t], lp, slot));
            }
            half = newHalf;
            beams = next;
            bool atLimit = beams.Count > 0 && beams[0].Tokens.Count >= o.MaxNewTokens;
            if (finished.Count >= k || beams.Count == 0 || atLimit)
            {
                if (finished.Count < k || beams.Count == 0)
                    foreach (var b in beams) finished.Add((b.Tokens.ToArray(), Score(b.LogProb, b.Tokens.Count), false));
                var best = finished.OrderByDescending(f => f.Score).First();
                return new GeneratedSequence(best.Tokens, best.Stopped, best.Score);
            }
            var slots = beams.Select(b => b.Slot).ToArray();
            var toks = beams.Select(b => b.Tokens[^1]).ToArray();
            session.Decode(slots, toks, logits.AsSpan(0, beams.Count * V));
        }
    }

    static void LogSoftmax(ReadOnlySpan<float> x, Span<float> y)
    {
        float max = TensorPrimitives.Max(x);
        TensorPrimitives.Subtract(x, max, y);
        double sum = 0;
        foreach (float v in y) sum += Math.Exp(v);
        TensorPrimitives.Subtract(y, (float)Math.Log(sum), y);
    }

    /// <summary>Indices of the n largest values, largest first (ties: lower index first).</summary>
    static int[] TopIndices(ReadOnlySpan<float> x, int n)
    {
        n = Math.Min(n, x.Length);
        var idx = new int[n];
        var val = new float[n];
        int count = 0;
        for (int i = 0; i < x.Length; i++)
        {
            float v = x[i];
            if (count == n && v <= val[n - 1]) continue;
            int j = count < n ? count++ : n - 1;
            while (j > 0 && val[j - 1] < v) { val[j] = val[j - 1]; idx[j] = idx[j - 1]; j--; }
            val[j] = v; idx[j] = i;
        }
        return idx;
    }
}
