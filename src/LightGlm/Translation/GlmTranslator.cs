// Translates with a GLM prefix-LM checkpoint: the prompts <|bos|> <|tag|> source <|sep|> (TaskFormat; with a fuzzy match's
// translation after the source for a model trained on them) of a batch are prefilled
// bidirectionally into a KV cache in one pass, then decoded together, greedily or by beam search (each sentence its own
// beams and cache slots), with fp32 or int8/int4 weights.
using System.Diagnostics;
using LightGlm.Generation;
using LightGlm.Model;
using LightGlm.Model.Inference;
using LightGlm.Text.Tokenizers;

namespace LightGlm.Translation;

/// <summary>A translation and what it cost (ms from the start of its batch to its last token); WithMatch = its prompt carried a fuzzy match.</summary>
public sealed record TranslationResult(string Text, int[] Ids, bool Stopped, double Milliseconds, bool WithMatch = false);

/// <summary>How a translator decodes: batch size, cache length, beam width and length penalty, weight format.</summary>
public sealed record TranslatorOptions
{
    public int MaxBatch { get; init; } = 8;
    public int MaxLength { get; init; } = 256;
    /// <summary>Default beam width (1 = greedy); a call may ask for up to <see cref="MaxBeam"/>.</summary>
    public int Beam { get; init; } = 1;
    /// <summary>Widest beam a call may use (sizes the cache: MaxBatch · 2·MaxBeam slots).</summary>
    public int MaxBeam { get; init; } = 1;
    /// <summary>Beam score = Σ log p / length^LengthPenalty (Hugging Face's length_penalty).</summary>
    public float LengthPenalty { get; init; } = 1f;
    public WeightFormat Weights { get; init; } = WeightFormat.Fp32;
    public int GroupSize { get; init; } = 32;
    /// <summary>Glossary terms as a soft decoding constraint (greedy only; <see cref="TermConstraints"/>); null = none.</summary>
    public LightGlm.Evaluation.Metrics.Glossary? Terms { get; init; }
    /// <summary>Logit bonus of a token that writes a pending term's translation.</summary>
    public float TermBias { get; init; } = 3f;
    /// <summary>
    /// The seq_len a model was trained on fuzzy prompts at (<see cref="PromptFormat"/>): a match joins a prompt only when
    /// source + match + an answer as long as the match fit it (<see cref="TaskFormat.MatchFits"/>), as in training; 0 = the window alone decides.
    /// </summary>
    public int MatchSeqLen { get; init; }

    public void Validate()
    {
        var p = new List<string>();
        if (MaxBatch < 1) p.Add($"max batch {MaxBatch} must be >= 1");
        if (MaxLength < 8) p.Add($"max length {MaxLength} must be >= 8");
        if (Beam < 1 || Beam > MaxBeam) p.Add($"beam {Beam} must be in [1, max beam {MaxBeam}]");
        if (MaxBeam > Generation.BeamHypotheses.MaxWidth) p.Add($"max beam {MaxBeam} must be <= {Generation.BeamHypotheses.MaxWidth}");
        if (!(LengthPenalty >= 0 && LengthPenalty <= 5)) p.Add($"length penalty {LengthPenalty} must be in [0, 5]");
        if (!(TermBias >= 0 && TermBias <= 50)) p.Add($"term bias {TermBias} must be in [0, 50]");
        if (Terms is not null && MaxBeam > 1) p.Add("glossary terms constrain greedy decoding only: use beam 1 with terms");
        if (MatchSeqLen < 0) p.Add($"match seq len {MatchSeqLen} must be >= 0");
        if (p.Count > 0) throw new ArgumentException("invalid translator options: " + string.Join("; ", p));
    }
}

/// <summary>One model's translator; one instance per thread (the session's buffers are reused).</summary>
public sealed class GlmTranslator
{
    readonly ITokenizer _tok;
    readonly SpecialTokens _sp;
    readonly InferenceSession _session;
    readonly float[] _logits;
    readonly int[] _rowSlots, _rowTokens, _stop;
    readonly TermConstraints? _terms;

    public TranslatorOptions Options { get; }
    public int MaxBatch => Options.MaxBatch;
    public int MaxLength { get; }
    public ModelConfig Config => _session.Config;
    public ITokenizer Tokenizer => _tok;
    public InferenceWeights Weights => _session.Weights;

    public GlmTranslator(GlmModel model, ITokenizer tokenizer, int maxBatch = 8, int maxLength = 256)
        : this(model, tokenizer, new TranslatorOptions { MaxBatch = maxBatch, MaxLength = maxLength }) { }

    /// <summary>A translator over a model's own weights, or <paramref name="weights"/> made from it.</summary>
    public GlmTranslator(GlmModel model, ITokenizer tokenizer, TranslatorOptions options, InferenceWeights? weights = null)
        : this(weights ?? InferenceWeights.Fp32(model), tokenizer, options) { }

    /// <summary>
    /// A translator over any weight source (the fp32 arena, a memory-mapped checkpoint, …); fp32 weights are quantized
    /// here when the options ask for int8/int4.
    /// </summary>
    public GlmTranslator(InferenceWeights weights, ITokenizer tokenizer, TranslatorOptions options)
    {
        options.Validate();
        var c = weights.Config;
        if (tokenizer.VocabSize > c.VocabSize)
            throw new InvalidDataException($"tokenizer has {tokenizer.VocabSize} ids but the model's vocab_size is {c.VocabSize}: they do not belong together");
        _tok = tokenizer; _sp = SpecialTokens.From(tokenizer);
        Options = options;
        MaxLength = Math.Min(options.MaxLength, c.MaxPositionEmbeddings);
        if (weights.Format == WeightFormat.Fp32) weights = InferenceWeights.Quantize(weights, options.Weights, options.GroupSize);
        int slotsPerText = options.MaxBeam == 1 ? 1 : 2 * options.MaxBeam;
        int rows = Math.Max(MaxLength, options.MaxBatch * slotsPerText);
        _session = new InferenceSession(weights, options.MaxBatch * slotsPerText, MaxLength, rows);
        _logits = new float[Math.Max(options.MaxBatch * options.MaxBeam, options.MaxBatch) * c.VocabSize];
        _rowSlots = new int[options.MaxBatch * Math.Max(1, options.MaxBeam)];
        _rowTokens = new int[_rowSlots.Length];
        _stop = [_sp.Eos];
        if (options.Terms is { } g) _terms = new TermConstraints(g, tokenizer, options.TermBias);
    }

    /// <summary>
    /// Translates the texts, <see cref="MaxBatch"/> at a time; beam 0 = the options' default. <paramref name="matches"/>
    /// (one per text, null = none): the stored translation of each text's fuzzy match, put in its prompt when it fits.
    /// </summary>
    public IReadOnlyList<TranslationResult> Translate(IReadOnlyList<string> texts, Direction direction, int maxNewTokens = 128, int beam = 0,
        IReadOnlyList<string?>? matches = null)
    {
        if (matches is not null && matches.Count != texts.Count) throw new ArgumentException($"{matches.Count} matches for {texts.Count} texts: give one (or null) per text", nameof(matches));
        if (beam == 0) beam = Options.Beam;
        if (beam < 1 || beam > Options.MaxBeam) throw new ArgumentOutOfRangeException(nameof(beam), beam, $"beam must be in [1, {Options.MaxBeam}] for this translator");
        if (maxNewTokens < 1) throw new ArgumentOutOfRangeException(nameof(maxNewTokens), maxNewTokens, "max new tokens must be >= 1");
        var results = new List<TranslationResult>(texts.Count);
        for (int i = 0; i < texts.Count; i += MaxBatch)
        {
            var chunk = texts.Skip(i).Take(MaxBatch).ToList();
            var prompts = chunk.Select((t, j) => Prompt(t, direction, maxNewTokens, matches?[i + j])).ToList();
            var batch = beam == 1 ? Greedy(chunk, prompts.Select(p => p.Ids).ToList(), direction, maxNewTokens)
                : Beam(prompts.Select(p => p.Ids).ToList(), maxNewTokens, beam);
            results.AddRange(batch.Select((r, j) => prompts[j].WithMatch ? r with { WithMatch = true } : r));
        }
        return results;
    }

    /// <summary>Source tokens of <paramref name="text"/> and how many of them the prompt keeps (fewer when the text is longer than the window allows).</summary>
    public (int Tokens, int Kept) SourceFit(string text, int maxNewTokens)
    {
        int n = _tok.EncodeText(text).Length;
        return (n, Math.Min(n, SourceRoom(maxNewTokens)));
    }

    int SourceRoom(int maxNewTokens) => Math.Max(1, MaxLength - 3 - Math.Min(maxNewTokens, MaxLength / 2));

    /// <summary>
    /// Prompt of one text; an over-long source is cut at the end so that a short answer still fits (docs/TRANSLATION.md).
    /// A match joins it when source and match fit the same room, and the trained sequence (<see cref="TranslatorOptions.MatchSeqLen"/>).
    /// </summary>
    (int[] Ids, bool WithMatch) Prompt(string text, Direction d, int maxNewTokens, string? match)
    {
        var src = _tok.EncodeText(text);
        int room = SourceRoom(maxNewTokens);
        if (src.Length > room) src = src[..room];
        if (match is not null)
        {
            var m = _tok.EncodeText(match);
            bool fits = m.Length > 0 && src.Length + m.Length + 1 <= room
                        && (Options.MatchSeqLen == 0 || TaskFormat.MatchFits(src.Length, m.Length, answer: m.Length, Options.MatchSeqLen));
            if (fits) return (TaskFormat.Prompt(_sp, d, src, m), true);
        }
        return (TaskFormat.Prompt(_sp, d, src), false);
    }

    /// <summary>Longest answer that fits the cache: the last generated token is never fed back.</summary>
    int AnswerRoom(int[] prompt, int maxNewTokens) => Math.Max(1, Math.Min(maxNewTokens, MaxLength - prompt.Length + 1));

    List<TranslationResult> Greedy(List<string> texts, List<int[]> prompts, Direction d, int maxNewTokens)
    {
        int n = texts.Count, V = Config.VocabSize;
        var sw = Stopwatch.StartNew();
        _session.Cache.ResetAll();
        var outIds = new List<int>[n];
        var next = new int[n];
        var limit = new int[n];
        var done = new bool[n];
        var stopped = new bool[n];
        var ms = new double[n];
        var slots = Enumerable.Range(0, n).ToArray();
        _session.Prefill(slots, prompts, _logits.AsSpan(0, n * V), bidirectional: true);
        var terms = _terms is null ? null : texts.Select(t => _terms.TermsFor(t, d)).ToArray();
        int Pick(int s, Span<float> row)
        {
            if (terms is not null && terms[s].Count > 0) _terms!.Apply(row, terms[s], _tok.DecodeText(outIds[s].ToArray()), d == Direction.EnToZh);
            return Sampler.ArgMax(row);
        }
        for (int s = 0; s < n; s++)
        {
            outIds[s] = [];
            limit[s] = AnswerRoom(prompts[s], maxNewTokens);
            next[s] = Pick(s, _logits.AsSpan(s * V, V));
        }
        while (true)
        {
            int rows = 0;
            for (int s = 0; s < n; s++)
            {
                if (done[s]) continue;
                if (next[s] == _sp.Eos) { done[s] = stopped[s] = true; ms[s] = sw.Elapsed.TotalMilliseconds; continue; }
                outIds[s].Add(next[s]);
                if (outIds[s].Count >= limit[s]) { done[s] = true; ms[s] = sw.Elapsed.TotalMilliseconds; continue; }
                _rowSlots[rows] = s; _rowTokens[rows] = next[s]; rows++;
            }
            if (rows == 0) break;
            _session.Decode(_rowSlots.AsSpan(0, rows), _rowTokens.AsSpan(0, rows), _logits.AsSpan(0, rows * V));
            for (int r = 0; r < rows; r++) next[_rowSlots[r]] = Pick(_rowSlots[r], _logits.AsSpan(r * V, V));
        }
        return Enumerable.Range(0, n).Select(s => Result(outIds[s].ToArray(), stopped[s], ms[s])).ToList();
    }

    /// <summary>Beam search for every text of the batch at once: text i owns slots [2k·i, 2k·(i+1)); all live beams decode together.</summary>
    List<TranslationResult> Beam(List<int[]> prompts, int maxNewTokens, int k)
    {
        int n = prompts.Count, V = Config.VocabSize, per = 2 * Options.MaxBeam;
        var sw = Stopwatch.StartNew();
        _session.Cache.ResetAll();
        var searches = new BeamHypotheses[n];
        var ms = new double[n];
        var first = Enumerable.Range(0, n).Select(i => i * per).ToArray();
        _session.Prefill(first, prompts, _logits.AsSpan(0, n * V), bidirectional: true);
        for (int i = 0; i < n; i++)
        {
            searches[i] = new BeamHypotheses(k, Options.LengthPenalty, AnswerRoom(prompts[i], maxNewTokens), _stop, first[i], V);
            searches[i].Step(_logits.AsSpan(i * V, V), _session.Cache);
            if (searches[i].Done) ms[i] = sw.Elapsed.TotalMilliseconds;
        }
        var counts = new int[n];
        while (true)
        {
            int rows = 0;
            for (int i = 0; i < n; i++)
            {
                counts[i] = searches[i].NextRows(_rowSlots.AsSpan(rows), _rowTokens.AsSpan(rows));
                rows += counts[i];
            }
            if (rows == 0) break;
            _session.Decode(_rowSlots.AsSpan(0, rows), _rowTokens.AsSpan(0, rows), _logits.AsSpan(0, rows * V));
            int at = 0;
            for (int i = 0; i < n; i++)
            {
                if (counts[i] == 0) continue;
                searches[i].Step(_logits.AsSpan(at * V, counts[i] * V), _session.Cache);
                at += counts[i];
                if (searches[i].Done) ms[i] = sw.Elapsed.TotalMilliseconds;
            }
        }
        return Enumerable.Range(0, n).Select(i => { var b = searches[i].Best(); return Result(b.Tokens, b.Stopped, ms[i]); }).ToList();
    }

    TranslationResult Result(int[] ids, bool stopped, double ms) => new(_tok.DecodeText(ids).Trim(), ids, stopped, ms);
}
