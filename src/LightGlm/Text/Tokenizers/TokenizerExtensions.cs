// What the translation, training and generation code asks of any ITokenizer: user text in and out (special-token
// strings inside it stay text), and the BOS/EOS/PAD ids found by their usual names (ours, Llama's, GPT's, Qwen's).
namespace LightGlm.Text.Tokenizers;

public static class TokenizerExtensions
{
    static readonly string[] BosNames = [SpecialTokens.BosText, "<s>", "<bos>", "<|begin_of_text|>", "<|startoftext|>"];
    static readonly string[] EosNames = [SpecialTokens.EosText, "</s>", "<eos>", "<|end_of_text|>", "<|endoftext|>", "<|im_end|>", "<|eot_id|>"];
    static readonly string[] PadNames = [SpecialTokens.PadText, "<pad>", "[PAD]", "<|endoftext|>"];

    extension(ITokenizer tok)
    {
        /// <summary>Ids of plain text: a special token's string typed by a user is encoded as text (safe for untrusted input).</summary>
        public int[] EncodeText(string text) => tok.Encode(text, parseSpecialTokens: false);

        /// <summary>Text of generated ids with special tokens left out.</summary>
        public string DecodeText(ReadOnlySpan<int> ids) => tok.Decode(ids, skipSpecialTokens: true);

        /// <summary>Id of a special token such as "&lt;|eos|&gt;", or null.</summary>
        public int? SpecialTokenId(string token) => tok.SpecialTokens.TryGetValue(token, out int id) ? id : null;

        public int? BosId => First(tok, BosNames);
        public int? EosId => First(tok, EosNames);
        public int? PadId => First(tok, PadNames);
    }

    static int? First(ITokenizer t, string[] names)
    {
        foreach (var n in names) if (t.SpecialTokens.TryGetValue(n, out int id)) return id;
        return null;
    }
}
