// Our tokenizers and .NET's Microsoft.ML.Tokenizers, both ways: LightGlmMlTokenizer is an Ml.Tokenizer over any ITokenizer
// (so .NET code that takes a Tokenizer takes ours), MlTokenizerAdapter an ITokenizer over any Ml.Tokenizer.
using System.Buffers;
using Ml = Microsoft.ML.Tokenizers;

namespace LightGlm.Text.Tokenizers;

/// <summary>
/// One of our tokenizers as a <see cref="Ml.Tokenizer"/>. Ids are ours unchanged. Offsets are char ranges found by
/// decoding growing prefixes of the ids (our tokenizers keep no offsets); they index <c>NormalizedText</c> when decoding
/// does not give the input back (a normalizing SentencePiece model), else the input. A token that ends inside a
/// character (byte-level pieces of one CJK char or emoji) gets an empty range, and the token that completes it the char.
/// </summary>
public sealed class LightGlmMlTokenizer : Ml.Tokenizer
{
    public ITokenizer Inner { get; }
    /// <summary>Whether the literal text of a special token becomes its id (see <see cref="ITokenizer.Encode(ReadOnlySpan{char}, bool)"/>).</summary>
    public bool ParseSpecialTokens { get; }

    public LightGlmMlTokenizer(ITokenizer inner, bool parseSpecialTokens = true)
    {
        Inner = inner ?? throw new ArgumentNullException(nameof(inner));
        ParseSpecialTokens = parseSpecialTokens;
    }

    protected override Ml.EncodeResults<int> EncodeToIds(string? text, ReadOnlySpan<char> textSpan, Ml.EncodeSettings settings)
    {
        var span = text is null ? textSpan : text.AsSpan();
        int[] ids = Inner.Encode(span, ParseSpecialTokens);
        int max = MaxTokens(settings);
        if (ids.Length <= max) return new Ml.EncodeResults<int> { Tokens = ids, CharsConsumed = span.Length };
        var (offsets, normalized) = Offsets(ids, span);
        return new Ml.EncodeResults<int> { Tokens = ids[..max], NormalizedText = normalized, CharsConsumed = offsets[max - 1].End.Value };
    }

    protected override Ml.EncodeResults<Ml.EncodedToken> EncodeToTokens(string? text, ReadOnlySpan<char> textSpan, Ml.EncodeSettings settings)
    {
        var span = text is null ? textSpan : text.AsSpan();
        int[] ids = Inner.Encode(span, ParseSpecialTokens);
        var (offsets, normalized) = Offsets(ids, span);
        int n = Math.Min(ids.Length, MaxTokens(settings));
        var tokens = new Ml.EncodedToken[n];
        for (int i = 0; i < n; i++) tokens[i] = new Ml.EncodedToken(ids[i], Inner.IdToToken(ids[i]) ?? "", offsets[i]);
        return new Ml.EncodeResults<Ml.EncodedToken>
        {
            Tokens = tokens, NormalizedText = normalized,
            CharsConsumed = n == ids.Length ? (normalized?.Length ?? span.Length) : n == 0 ? 0 : offsets[n - 1].End.Value,
        };
    }

    protected override int CountTokens(string? text, ReadOnlySpan<char> textSpan, Ml.EncodeSettings settings) =>
        Math.Min(Inner.Encode(text is null ? textSpan : text.AsSpan(), ParseSpecialTokens).Length, MaxTokens(settings));

    public override string Decode(IEnumerable<int> ids) => Inner.Decode(ids as int[] ?? ids.ToArray());

    /// <summary>Writes the longest prefix of the ids whose text fits <paramref name="destination"/>.</summary>
    public override OperationStatus Decode(IEnumerable<int> ids, Span<char> destination, out int idsConsumed, out int charsWritten)
    {
        int[] all = ids as int[] ?? ids.ToArray();
        string text = Inner.Decode(all);
        if (text.Length <= destination.Length)
        {
            text.CopyTo(destination);
            (idsConsumed, charsWritten) = (all.Length, text.Length);
            return OperationStatus.Done;
        }
        idsConsumed = charsWritten = 0;
        for (int k = 1; k <= all.Length; k++)
        {
            string prefix = Inner.Decode(all.AsSpan(0, k));
            if (prefix.Length > destination.Length) break;
            prefix.CopyTo(destination);
            (idsConsumed, charsWritten) = (k, prefix.Length);
        }
        return OperationStatus.DestinationTooSmall;
    }

    static int MaxTokens(Ml.EncodeSettings s) => s.MaxTokenCount > 0 ? s.MaxTokenCount : int.MaxValue;

    /// <summary>
    /// Token i covers [len(decode(ids[..i])), len(decode(ids[..i+1]))), O(n²) in the tokens of one text. A prefix that ends
    /// inside a character decodes to U+FFFD there; that char is not counted until the token that completes it.
    /// </summary>
    (Range[] Offsets, string? Normalized) Offsets(int[] ids, ReadOnlySpan<char> input)
    {
        string full = Inner.Decode(ids);
        string? normalized = input.SequenceEqual(full) ? null : full;
        var offsets = new Range[ids.Length];
        int prev = 0;
        for (int i = 0; i < ids.Length; i++)
        {
            string prefix = i == ids.Length - 1 ? full : Inner.Decode(ids.AsSpan(0, i + 1));
            int end = Math.Min(prefix.Length, full.Length);
            while (end > prev && prefix[end - 1] == '\uFFFD' && full[end - 1] != '\uFFFD') end--;
            if (end < prev) end = prev;
            offsets[i] = new Range(prev, end);
            prev = end;
        }
        return (offsets, normalized);
    }
}

/// <summary>
/// Any <see cref="Ml.Tokenizer"/> as our <see cref="ITokenizer"/> (training, translate). No BOS/EOS is added (the
/// SentencePiece and LLaMA tokenizers add them by default; here they are asked not to). The library parses special tokens
/// it was given whenever it encodes, so <c>parseSpecialTokens: false</c> on a text that contains one is refused rather
/// than silently tokenized the other way.
/// </summary>
public sealed class MlTokenizerAdapter : ITokenizer
{
    public Ml.Tokenizer Inner { get; }
    readonly Dictionary<string, int> _vocab;
    readonly Dictionary<int, string> _reverse;
    readonly Dictionary<string, int> _special;

    /// <param name="vocabulary">The token → id map, for a tokenizer that does not expose one (TiktokenTokenizer keeps
    /// its vocabulary internal; pass the byte-level strings of the same ranks, e.g. of a TiktokenConverter file).</param>
    public MlTokenizerAdapter(Ml.Tokenizer inner, IReadOnlyDictionary<string, int>? vocabulary = null)
    {
        Inner = inner ?? throw new ArgumentNullException(nameof(inner));
        (IReadOnlyDictionary<string, int> vocab, IReadOnlyDictionary<string, int>? special) = inner switch
        {
            Ml.BpeTokenizer b => (vocabulary ?? b.Vocabulary, b.SpecialTokens),
            Ml.SentencePieceTokenizer s => (vocabulary ?? s.Vocabulary, s.SpecialTokens),
            Ml.TiktokenTokenizer t when vocabulary is not null => (vocabulary, t.SpecialTokens),
            _ => throw new NotSupportedException($"{inner.GetType().Name}: the adapter reads the vocabulary of BpeTokenizer and SentencePieceTokenizer (LlamaTokenizer); TiktokenTokenizer keeps its vocabulary internal, so pass it"),
        };
        _special = special is null ? [] : new Dictionary<string, int>(special);
        _vocab = new Dictionary<string, int>(vocab);
        foreach (var (k, v) in _special) _vocab.TryAdd(k, v);
        _reverse = [];
        foreach (var (k, v) in _vocab) _reverse.TryAdd(v, k);
        VocabSize = _reverse.Count == 0 ? 0 : _reverse.Keys.Max() + 1;
    }

    public int VocabSize { get; }
    public IReadOnlyDictionary<string, int> SpecialTokens => _special;

    public int[] Encode(ReadOnlySpan<char> text, bool parseSpecialTokens = true)
    {
        if (!parseSpecialTokens)
            foreach (var s in _special.Keys)
                if (text.Contains(s, StringComparison.Ordinal))
                    throw new NotSupportedException($"{Inner.GetType().Name} always parses its special tokens; the text contains '{s}' and parseSpecialTokens is false");
        var ids = Inner is Ml.SentencePieceTokenizer sp
            ? sp.EncodeToIds(text, addBeginningOfSentence: false, addEndOfSentence: false)
            : Inner.EncodeToIds(text);
        return ids as int[] ?? [.. ids];
    }

    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = false)
    {
        var list = new List<int>(ids.Length);
        foreach (int id in ids)
            if (!skipSpecialTokens || !_reverse.TryGetValue(id, out var t) || !_special.ContainsKey(t)) list.Add(id);
        return Inner.Decode(list);
    }

    public string? IdToToken(int id) => _reverse.GetValueOrDefault(id);

    public int? TokenToId(string token) => _vocab.TryGetValue(token, out int id) ? id : null;
}
