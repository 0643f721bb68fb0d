// Translates with a GLM prefix-LM checkpoint: the prompt <|bos|> <|tag|> source <|sep|> is prefilled
// bidirectionally into a KV cache, then each sentence of a batch is decoded greedily in its own slot.
using System.Diagnostics;
using LightGlm.Model;
using LightGlm.Model.Inference;

namespace LightGlm.Translation;

/// <summary>A translation and what it cost.</summary>
public sealed record TranslationResult(string Text, int[] Ids, bool Stopped, double Milliseconds);

/// <summary>Greedy translator over one model; one instance per thread (the session's buffers are reused).</summary>
public sealed class GlmTranslator
{
    readonly GlmModel _model;
    readonly ITranslationTokenizer _tok;
    readonly SpecialTokens _sp;
    readonly InferenceSession _session;
    readonly float[] _logits;

    public int MaxBatch { get; }
    public int MaxLength { get; }
    public GlmModel Model => _model;
    public ITranslationTokenizer Tokenizer => _tok;

    public GlmTranslator(GlmModel model, ITranslationTokenizer tokenizer, int maxBatch = 8, int maxLength = 256)
    {
        if (tokenizer.VocabSize > model.Config.VocabSize)
            throw new InvalidDataException($"tokenizer has {tokenizer.VocabSize} ids but the model's vocab_size is {model.Config.VocabSize}: they do not belong together");
        _model = model; _tok = tokenizer; _sp = SpecialTokens.From(tokenizer);
        MaxBatch = maxBatch;
        MaxLength = Math.Min(maxLength, model.Config.MaxPositionEmbeddings);
        _session = new InferenceSession(model, maxBatch, MaxLength);
        _logits = new float[maxBatch * model.Config.VocabSize];
    }

    /// <summary>Translates up to <see cref="MaxBatch"/> texts at once (more are split into chunks).</summary>
    public IReadOnlyList<TranslationResult> Translate(IReadOnlyList<string> texts, Direction direction, int maxNewTokens = 128)
    {
        var results = new List<TranslationResult>(texts.Count);
        for (int i = 0; i < texts.Count; i += MaxBatch)
            results.AddRange(TranslateChunk(texts.Skip(i).Take(MaxBatch).ToList(), direction, maxNewTokens));
        return results;
    }

    List<TranslationResult> TranslateChunk(List<string> texts, Direction d, int maxNewTokens)
    {
        int n = texts.Count, V = _model.Config.VocabSize;
        var sw = Stopwatch.StartNew();
        _session.Cache.ResetAll();
        var outIds = new List<int>[n];
        var next = new int[n];
        var done = new bool[n];
        var stopped = new bool[n];
        var ms = new double[n];
        for (int s = 0; s < n; s++)
        {
            outIds[s] = [];
            var src = _tok.Encode(texts[s]);
            // Leave room for at least a short answer; over-long sources are cut at the end (said in the docs).
            int room = Math.Max(1, MaxLength - 3 - Math.Min(maxNewTokens, MaxLength / 2));
            if (src.Length > room) src = src[..room];
            var prompt = TaskFormat.Prompt(_sp, d, src);
            _session.Prefill(s, prompt, _logits.AsSpan(s * V, V), bidirectional: true);
            next[s] = ArgMax(_logits.AsSpan(s * V, V));
        }
        var active = new List<int>(n);
        for (int step = 0; step < maxNewTokens; step++)
        {
            active.Clear();
            for (int s = 0; s < n; s++)
            {
                if (done[s]) continue;
                if (next[s] == _sp.Eos) { done[s] = stopped[s] = true; ms[s] = sw.Elapsed.TotalMilliseconds; continue; }
                outIds[s].Add(next[s]);
                if (_session.Cache.Length[s] >= MaxLength || step == maxNewTokens - 1) { done[s] = true; ms[s] = sw.Elapsed.TotalMilliseconds; continue; }
                active.Add(s);
            }
            if (active.Count == 0) break;
            var slots = active.ToArray();
            var toks = slots.Select(s => next[s]).ToArray();
            _session.Decode(slots, toks, _logits.AsSpan(0, slots.Length * V));
            for (int r = 0; r < slots.Length; r++) next[slots[r]] = ArgMax(_logits.AsSpan(r * V, V));
        }
        for (int s = 0; s < n; s++) if (!done[s]) ms[s] = sw.Elapsed.TotalMilliseconds;
        return Enumerable.Range(0, n).Select(s => new TranslationResult(_tok.Decode(outIds[s].ToArray()).Trim(), outIds[s].ToArray(), stopped[s], ms[s])).ToList();
    }

    static int ArgMax(ReadOnlySpan<float> v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
