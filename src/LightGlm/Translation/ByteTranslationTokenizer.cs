// Fallback tokenizer for model directories without tokenizer.json: UTF-8 bytes 0..255, then the six specials.
using System.Text;

namespace LightGlm.Translation;

public sealed class ByteTranslationTokenizer : ITranslationTokenizer
{
    public static readonly ByteTranslationTokenizer Instance = new();
    public int VocabSize => 256 + SpecialTokens.All.Length;

    public int[] Encode(string text) => Encoding.UTF8.GetBytes(text).Select(b => (int)b).ToArray();

    public string Decode(ReadOnlySpan<int> ids)
    {
        var bytes = new List<byte>(ids.Length);
        foreach (var id in ids) if (id is >= 0 and < 256) bytes.Add((byte)id);
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    public int? SpecialTokenId(string token) { int i = Array.IndexOf(SpecialTokens.All, token); return i < 0 ? null : 256 + i; }
}
