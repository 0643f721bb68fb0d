// The one byte-level tokenizer: UTF-8 bytes are ids 0..255, then the six special tokens in SpecialTokens.All order
// (<|pad|> 256, <|bos|> 257, <|eos|> 258, <|en2zh|> 259, <|zh2en|> 260, <|sep|> 261). It is the tokenizer of every model
// directory without tokenizer.json. Models `train --tokenizer byte` wrote before December have vocab_size 259: the same
// ids with only pad/bos/eos, so they load with this tokenizer unchanged (docs/TRANSLATION.md).
using System.Text;

namespace LightGlm.Text.Tokenizers;

public sealed class ByteTokenizer : ITokenizer
{
    public const int ByteCount = 256, Size = ByteCount + 6;
    /// <summary>vocab_size of the models `train --tokenizer byte` wrote before the byte tokenizers were merged (bytes, pad, bos, eos).</summary>
    public const int LegacyGenerationSize = ByteCount + 3;

    public static readonly ByteTokenizer Instance = new();
    static readonly AddedTokenSplitter Splitter = new(Text.Tokenizers.SpecialTokens.All.Select((t, i) => (t, ByteCount + i)));

    ByteTokenizer()
    {
        SpecialTokens = Text.Tokenizers.SpecialTokens.All.Select((t, i) => (t, ByteCount + i)).ToDictionary(x => x.t, x => x.Item2, StringComparer.Ordinal);
    }

    public int VocabSize => Size;
    public IReadOnlyDictionary<string, int> SpecialTokens { get; }

    /// <summary>True when a model of this vocabulary size was written with the byte tokenizer's ids (259 or 262).</summary>
    public static bool Fits(int vocabSize) => vocabSize is LegacyGenerationSize or Size;

    public int[] Encode(ReadOnlySpan<char> text, bool parseSpecialTokens = true)
    {
        var ids = new List<int>(text.Length);
        int at = 0;
        if (parseSpecialTokens)
            foreach (var (pos, len, id) in Splitter.Find(text))
            {
                AddBytes(text[at..pos], ids);
                ids.Add(id);
                at = pos + len;
            }
        AddBytes(text[at..], ids);
        return ids.ToArray();
    }

    static void AddBytes(ReadOnlySpan<char> text, List<int> ids)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(text)];
        Encoding.UTF8.GetBytes(text, bytes);
        foreach (byte b in bytes) ids.Add(b);
    }

    /// <summary>Bytes decode as UTF-8 (an invalid or cut sequence becomes U+FFFD); special tokens appear as their text unless skipped.</summary>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = false)
    {
        var sb = new StringBuilder();
        var bytes = new List<byte>(ids.Length);
        foreach (int id in ids)
        {
            if (id is >= 0 and < ByteCount) { bytes.Add((byte)id); continue; }
            if (skipSpecialTokens || id >= Size) continue;
            sb.Append(Encoding.UTF8.GetString(bytes.ToArray())).Append(Text.Tokenizers.SpecialTokens.All[id - ByteCount]);
            bytes.Clear();
        }
        return sb.Append(Encoding.UTF8.GetString(bytes.ToArray())).ToString();
    }

    /// <summary>Bytes are written "&lt;0xNN&gt;" (SentencePiece's byte-fallback form); specials by their text.</summary>
    public string? IdToToken(int id) => id switch
    {
        >= 0 and < ByteCount => $"<0x{id:X2}>",
        >= ByteCount and < Size => Text.Tokenizers.SpecialTokens.All[id - ByteCount],
        _ => null,
    };

    public int? TokenToId(string token)
    {
        if (SpecialTokens.TryGetValue(token, out int id)) return id;
        return token.Length == 6 && token.StartsWith("<0x", StringComparison.Ordinal) && token[5] == '>'
            && byte.TryParse(token.AsSpan(3, 2), System.Globalization.NumberStyles.AllowHexSpecifier, null, out byte b) ? b : null;
    }
}
