// The small tokenizer interface training and generation need, and a byte-level fallback (256 bytes + 3 specials).
using System.Text;

namespace LightGlm.Generation;

/// <summary>What the trainer and generator need from a tokenizer. Adapters wrap richer tokenizers (src/LightGlm/Text).</summary>
public interface ITokenizer
{
    int VocabSize { get; }
    int? BosId { get; }
    int? EosId { get; }
    int? PadId { get; }
    int[] Encode(string text);
    string Decode(ReadOnlySpan<int> ids);
}

/// <summary>
/// UTF-8 bytes as ids 0..255, then &lt;pad&gt; = 256, &lt;bos&gt; = 257, &lt;eos&gt; = 258. Works for any text with no training;
/// decoding drops specials and replaces invalid UTF-8 (a sampled byte sequence may be cut mid-character).
/// </summary>
public sealed class ByteTokenizer : ITokenizer
{
    public const int Pad = 256, Bos = 257, Eos = 258, Size = 259;
    public static readonly ByteTokenizer Instance = new();

    public int VocabSize => Size;
    public int? BosId => Bos;
    public int? EosId => Eos;
    public int? PadId => Pad;

    public int[] Encode(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var ids = new int[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) ids[i] = bytes[i];
        return ids;
    }

    public string Decode(ReadOnlySpan<int> ids)
    {
        var bytes = new List<byte>(ids.Length);
        foreach (int id in ids) if (id is >= 0 and < 256) bytes.Add((byte)id);
        return Encoding.UTF8.GetString(bytes.ToArray());
    }
}
