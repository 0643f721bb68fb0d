// The paper's "translation accuracy", defined: teacher-forced target-token accuracy (argmax = reference token)
// and the mean probability the model gives the reference token (Eq. 14's mean probability, per token).
using LightGlm.Model;
using LightGlm.Model.Inference;
using LightGlm.Text.Tokenizers;

namespace LightGlm.Translation;

/// <summary>Over all target tokens (target words + eos): share predicted exactly, and mean p(reference token).</summary>
public readonly record struct TeacherForcedResult(long Correct, long Tokens, double ProbabilitySum)
{
    public double Accuracy => Tokens == 0 ? double.NaN : (double)Correct / Tokens;
    public double MeanProbability => Tokens == 0 ? double.NaN : ProbabilitySum / Tokens;
}

public static class TeacherForcedAccuracy
{
    /// <summary>The measure for any weight source: the training engine's forward for a loaded model's fp32 arena, the
    /// inference session for anything else (quantized, memory-mapped).</summary>
    public static TeacherForcedResult Compute(InferenceWeights weights, ITokenizer tok, Direction d,
        IReadOnlyList<(string Source, string Reference)> pairs, int maxLength = 256) =>
        weights is ArenaWeights a ? Compute(a.Model, tok, d, pairs, maxLength) : ComputeWithSession(weights, tok, d, pairs, maxLength);

    /// <summary>Runs each pair through the model with the task's prefix mask (no generation) and compares the
    /// next-token distribution at every target position with the reference token.</summary>
    public static TeacherForcedResult Compute(GlmModel model, ITokenizer tok, Direction d,
        IReadOnlyList<(string Source, string Reference)> pairs, int maxLength = 256, InferenceWeights? weights = null)
    {
        if (weights is not null && weights is not ArenaWeights) return ComputeWithSession(weights, tok, d, pairs, maxLength);
        var sp = SpecialTokens.From(tok);
        var caches = new Dictionary<int, ActivationCache>();
        int V = model.Config.VocabSize;
        long correct = 0, count = 0; double psum = 0;
        foreach (var (src, reference) in pairs)
        {
            var s = tok.EncodeText(src); var t = tok.EncodeText(reference);
            int limit = Math.Min(maxLength, model.Config.MaxPositionEmbeddings);
            if (s.Length + t.Length + 2 > limit) { s = s[..Math.Min(s.Length, limit / 2)]; t = t[..Math.Min(t.Length, limit - s.Length - 3)]; }
            var ex = TaskFormat.Example(sp, d, s, t);
            int T = (ex.Length + 15) / 16 * 16;
            T = Math.Min(T, limit);
            var tokens = new int[T]; Array.Fill(tokens, sp.Pad); ex.Tokens.CopyTo(tokens, 0);
            var targets = new int[T]; Array.Fill(targets, -1); ex.Targets.CopyTo(targets, 0);
            var batch = Batch.From(1, T, tokens, targets);
            batch.PrefixLengths = [ex.PrefixLength];
            if (!caches.TryGetValue(T, out var cache)) caches[T] = cache = model.CreateCache(1, T, dropout: false);
            model.Forward(cache, batch);
            var logits = cache.Logits.Span;
            for (int p = 0; p < ex.Length; p++)
            {
                int y = ex.Targets[p];
                if (y < 0) continue;
                var row = logits.Slice(p * V, V);
                int arg = 0; float max = row[0];
                for (int v = 1; v < V; v++) if (row[v] > max) { max = row[v]; arg = v; }
                double z = 0;
                for (int v = 0; v < V; v++) z += Math.Exp(row[v] - max);
                psum += Math.Exp(row[y] - max) / z;
                if (arg == y) correct++;
                count++;
            }
        }
        return new TeacherForcedResult(correct, count, psum);
    }

    /// <summary>
    /// The same measure through an inference session (for int8/int4 weights, which only the session runs): the prompt is
    /// prefilled bidirectionally, then each reference token is fed (teacher forcing) and the next logits scored.
    /// </summary>
    static TeacherForcedResult ComputeWithSession(InferenceWeights weights, ITokenizer tok, Direction d,
        IReadOnlyList<(string Source, string Reference)> pairs, int maxLength)
    {
        var sp = SpecialTokens.From(tok);
        int V = weights.Config.VocabSize, limit = Math.Min(maxLength, weights.Config.MaxPositionEmbeddings);
        var session = new InferenceSession(weights, 1, limit);
        var logits = new float[V];
        long correct = 0, count = 0; double psum = 0;
        foreach (var (src, reference) in pairs)
        {
            var s = tok.EncodeText(src); var t = tok.EncodeText(reference);
            if (s.Length + t.Length + 2 > limit) { s = s[..Math.Min(s.Length, limit / 2)]; t = t[..Math.Min(t.Length, limit - s.Length - 3)]; }
            var ex = TaskFormat.Example(sp, d, s, t);
            session.Cache.ResetAll();
            session.Prefill(0, ex.Tokens.AsSpan(0, ex.PrefixLength), logits, bidirectional: true);
            for (int p = ex.PrefixLength - 1; p < ex.Length; p++)
            {
                if (p >= ex.PrefixLength) session.Decode([0], [ex.Tokens[p]], logits);
                int y = ex.Targets[p];
                float max = System.Numerics.Tensors.TensorPrimitives.Max(logits);
                int arg = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(logits);
                double z = 0;
                for (int v = 0; v < V; v++) z += Math.Exp(logits[v] - max);
                psum += Math.Exp(logits[y] - max) / z;
                if (arg == y) correct++;
                count++;
            }
        }
        return new TeacherForcedResult(correct, count, psum);
    }
}
