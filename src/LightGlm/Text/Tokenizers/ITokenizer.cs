// The tokenizer contract every model and recipe uses: text <-> ids, special tokens, vocabulary size.
using LightGlm.Kernels;

namespace LightGlm.Text.Tokenizers;

public interface ITokenizer
{
    /// <summary>Number of ids (the model's vocab_size must be at least this).</summary>
    int VocabSize { get; }

    /// <summary>Special (added) tokens by content, e.g. "&lt;|eos|&gt;" -> 2.</summary>
    IReadOnlyDictionary<string, int> SpecialTokens { get; }

    /// <summary>
    /// Encodes text. With <paramref name="parseSpecialTokens"/> (the Hugging Face default) the literal text of
    /// a special token becomes its id; without, it is encoded as ordinary text (safe for untrusted input).
    /// No BOS/EOS is added: the prompt template adds them (see <c>Translation/TaskFormat</c>).
    /// </summary>
    int[] Encode(ReadOnlySpan<char> text, bool parseSpecialTokens = true);

    int[] Encode(string text, bool parseSpecialTokens = true) => Encode(text.AsSpan(), parseSpecialTokens);

    /// <summary>Decodes ids to text; special tokens appear as their content unless skipped.</summary>
    string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = false);

    /// <summary>
    /// Encodes many texts: result[i] = Encode(texts[i]). The texts are split over threads by the engine's one parallel
    /// policy (<see cref="KernelParallel"/>, degree --threads / LIGHTGLM_THREADS); tokenizers are safe to share.
    /// </summary>
    int[][] EncodeBatch(IReadOnlyList<string> texts, bool parseSpecialTokens = true)
    {
        var result = new int[texts.Count][];
        KernelParallel.For(texts.Count, BatchGrain, (a, b) => { for (int i = a; i < b; i++) result[i] = Encode(texts[i], parseSpecialTokens); });
        return result;
    }

    /// <summary>Decodes many id sequences, split over threads as <see cref="EncodeBatch"/>.</summary>
    string[] DecodeBatch(IReadOnlyList<int[]> ids, bool skipSpecialTokens = false)
    {
        var result = new string[ids.Count];
        KernelParallel.For(ids.Count, BatchGrain, (a, b) => { for (int i = a; i < b; i++) result[i] = Decode(ids[i], skipSpecialTokens); });
        return result;
    }

    /// <summary>Texts per chunk below which a batch is not split further (one text takes a few µs; a fork costs about as much as 10).</summary>
    const int BatchGrain = 64;

    /// <summary>The token string of an id (vocabulary form), or null when out of range.</summary>
    string? IdToToken(int id);

    /// <summary>The id of a token string, or null.</summary>
    int? TokenToId(string token);
}
