// Any tokenizer.json (ours or Hugging Face's, via Text.Tokenizers) as the generator's and trainer's tokenizer, so that
// `generate` and `train` work on the models the recipe and `import` make, not only on byte-level ones.
namespace LightGlm.Generation;

public sealed class TokenizerAdapter(Text.Tokenizers.ITokenizer inner) : ITokenizer
{
    static readonly string[] BosNames = ["<|bos|>", "<s>", "<bos>", "<|begin_of_text|>", "<|startoftext|>"];
    static readonly string[] EosNames = ["<|eos|>", "</s>", "<eos>", "<|end_of_text|>", "<|endoftext|>", "<|im_end|>", "<|eot_id|>"];
    static readonly string[] PadNames = ["<|pad|>", "<pad>", "[PAD]", "<|endoftext|>"];

    public Text.Tokenizers.ITokenizer Inner { get; } = inner;
    public int VocabSize => Inner.VocabSize;
    public int? BosId { get; } = First(inner, BosNames);
    public int? EosId { get; } = First(inner, EosNames);
    public int? PadId { get; } = First(inner, PadNames);

    /// <summary>Loads a tokenizer.json (a model directory's or a path); the loader names the file and field when it is wrong.</summary>
    public static TokenizerAdapter Load(string path) => new(Text.Tokenizers.TokenizerLoader.Load(path));

    /// <summary>Plain text: special-token strings inside user text stay text (safe for untrusted prompts).</summary>
    public int[] Encode(string text) => Inner.Encode(text, parseSpecialTokens: false);

    public string Decode(ReadOnlySpan<int> ids) => Inner.Decode(ids, skipSpecialTokens: true);

    static int? First(Text.Tokenizers.ITokenizer t, string[] names)
    {
        foreach (var n in names) if (t.SpecialTokens.TryGetValue(n, out int id)) return id;
        return null;
    }
}
