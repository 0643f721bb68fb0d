// Our tokenizers as Microsoft.ML.Tokenizers' Tokenizer and back: ids unchanged through the adapters, exact round trips,
// offsets that cover the text; and Ml's own BPE / SentencePiece loaders against ours on the same files.
using System.IO.Compression;
using System.Text.Json;
using LightGlm.Text.Tokenizers;
using Ml = Microsoft.ML.Tokenizers;

namespace LightGlm.Tests.Text.Tokenizers;

public sealed class MlTokenizersTests
{
    /// <summary>UI strings as the corpus has them: placeholders, accelerators, CJK, emoji (a surrogate pair and a flag), spaces.</summary>
    public static readonly string[] Texts =
    [
        "Open %s in ~File", "文件“%s”已保存。", "Save &As…", "Hello 👋 world 🇨🇳!", "删除 %1$d 个项目？",
        "  two  spaces\tand a tab ", "C:\\Users\\%USERNAME%\\.config", "<b>粗体</b> and <i>italic</i>", "x", "",
    ];

    static readonly Lazy<ITokenizer> Qwen = new(() => TokenizerLoader.Load(TextTestData.File("qwen3.tokenizer.json.gz")));

    /// <summary>The Ml side of .NET code that takes any Tokenizer.</summary>
    static (IReadOnlyList<int> Ids, string Decoded, int Count) UseAsMl(Ml.Tokenizer t, string text)
    {
        var ids = t.EncodeToIds(text);
        return (ids, t.Decode(ids), t.CountTokens(text));
    }

    [Fact]
    public void LightGlmMlTokenizer_GivesOurIds_AndRoundTripsExactly()
    {
        var ours = Qwen.Value;
        Ml.Tokenizer ml = new LightGlmMlTokenizer(ours);
        foreach (var text in Texts)
        {
            var (ids, decoded, count) = UseAsMl(ml, text);
            Assert.Equal(ours.Encode(text), ids);
            Assert.Equal(text, decoded); // byte-level BPE with NFC input: decode(encode(x)) == x
            Assert.Equal(ids.Count, count);
        }
    }

    [Fact]
    public void LightGlmMlTokenizer_Offsets_CoverTheTextInOrder_AndValuesAreOurPieces()
    {
        var ours = Qwen.Value;
        var ml = new LightGlmMlTokenizer(ours);
        foreach (var text in Texts)
        {
            var tokens = ml.EncodeToTokens(text, out string? normalized);
            Assert.Null(normalized);
            Assert.Equal(ours.Encode(text), tokens.Select(t => t.Id));
            Assert.Equal(tokens.Select(t => ours.IdToToken(t.Id)), tokens.Select(t => t.Value));
            Assert.Equal(text, string.Concat(tokens.Select(t => text[t.Offset])));
            for (int i = 1; i < tokens.Count; i++) Assert.Equal(tokens[i - 1].Offset.End.Value, tokens[i].Offset.Start.Value);
        }
        // "Open" and " %s": whole pieces, offsets on the chars.
        var open = ml.EncodeToTokens("Open %s", out _);
        Assert.Equal("Open", "Open %s"[open[0].Offset]);
    }

    [Fact]
    public void LightGlmMlTokenizer_MaxTokenCount_AndDecodeIntoSpan()
    {
        var ml = new LightGlmMlTokenizer(Qwen.Value);
        string text = "Hello 👋 world 🇨🇳!";
        var all = ml.EncodeToIds(text);
        var head = ml.EncodeToIds(text, 2, out _, out int consumed);
        Assert.Equal(all.Take(2), head);
        // The second token is the first bytes of 👋: the chars consumed stop before it, its decode ends in U+FFFD.
        Assert.Equal("Hello ", text[..consumed]);
        Assert.Equal("Hello \uFFFD", ml.Decode(head));
        Span<char> small = stackalloc char[5];
        Assert.Equal(System.Buffers.OperationStatus.DestinationTooSmall, ml.Decode(all, small, out int used, out int written));
        Assert.Equal(ml.Decode(all.Take(used)), small[..written].ToString());
        Span<char> big = stackalloc char[64];
        Assert.Equal(System.Buffers.OperationStatus.Done, ml.Decode(all, big, out used, out written));
        Assert.Equal(text, big[..written].ToString());
    }

    /// <summary>Ids no real vocabulary would give (0, repeats, a huge id, out of order): the adapter must pass them through as they are.</summary>
    sealed class FixedIds(int[] ids) : ITokenizer
    {
        public int VocabSize => int.MaxValue;
        public IReadOnlyDictionary<string, int> SpecialTokens => new Dictionary<string, int>();
        public int[] Encode(ReadOnlySpan<char> text, bool parseSpecialTokens = true) => (int[])ids.Clone();
        public string Decode(ReadOnlySpan<int> x, bool skipSpecialTokens = false) => string.Join(',', x.ToArray());
        public string? IdToToken(int id) => $"<{id}>";
        public int? TokenToId(string token) => null;
    }

    [Fact]
    public void LightGlmMlTokenizer_NeitherDropsNorChangesIds()
    {
        int[] ids = [0, 7, 7, 2_000_000_000, 3, 0];
        var ml = new LightGlmMlTokenizer(new FixedIds(ids));
        Assert.Equal(ids, ml.EncodeToIds("anything"));
        Assert.Equal(ids, ml.EncodeToTokens("anything", out _).Select(t => t.Id));
        Assert.Equal("0,7,7,2000000000,3,0", ml.Decode(ids));
        Assert.Equal(ids.Length, ml.CountTokens("anything"));
    }

    [Fact]
    public void MlBpeTokenizer_FromOurTokenizerJson_GivesOurIds_ThroughTheAdapter()
    {
        var ours = Qwen.Value;
        ITokenizer theirs = new MlTokenizerAdapter(MlTokenizerLoader.TokenizerJson(TextTestData.File("qwen3.tokenizer.json.gz")));
        Assert.Equal(ours.VocabSize, theirs.VocabSize);
        Assert.Equal(ours.TokenToId("Ġworld"), theirs.TokenToId("Ġworld"));
        Assert.Equal("<|im_start|>", theirs.IdToToken(ours.SpecialTokens["<|im_start|>"]));
        foreach (var text in Texts.Append("<|im_start|>user\n你好<|im_end|>"))
        {
            var ids = theirs.Encode(text);
            Assert.Equal(ours.Encode(text), ids);
            Assert.Equal(text, theirs.Decode(ids));
        }
        Assert.Throws<NotSupportedException>(() => theirs.Encode("<|im_end|>", parseSpecialTokens: false));
    }

    /// <summary>
    /// Against python3-sentencepiece's ids (the parity rows): ours equal on every text, Ml's on all but a few (measured on
    /// the first 500: one each; bpe "…" is left un-normalized by Ml and falls back to bytes, unigram orders a tie
    /// differently). The bound fails if Ml's loader or our adapter loses more.
    /// </summary>
    [Theory]
    [InlineData("unigram")]
    [InlineData("bpe")]
    public void MlSentencePiece_AgainstPython_AlmostAlwaysEqual_OursAlways(string name)
    {
        ITokenizer ours = SentencePieceParityTests.Load(name);
        var theirs = new MlTokenizerAdapter(MlTokenizerLoader.SentencePiece(TextTestData.File($"spm/{name}.model.gz")));
        using var gz = new GZipStream(File.OpenRead(TextTestData.File("spm/spm-parity.jsonl.gz")), CompressionMode.Decompress);
        using var r = new StreamReader(gz);
        int n = 0, oursEqual = 0, mlEqual = 0;
        string? first = null;
        while (r.ReadLine() is { } line && n < 500)
        {
            if (line.Length == 0) continue;
            var row = JsonDocument.Parse(line).RootElement;
            string text = row.GetProperty("t").GetString()!;
            int[] python = row.GetProperty(name).EnumerateArray().Select(x => x.GetInt32()).ToArray();
            var b = theirs.Encode(text);
            n++;
            if (ours.Encode(text, parseSpecialTokens: false).AsSpan().SequenceEqual(python)) oursEqual++;
            if (b.AsSpan().SequenceEqual(python)) mlEqual++;
            else first ??= $"'{text}': python [{string.Join(' ', python)}] vs Ml [{string.Join(' ', b)}]";
        }
        Assert.Equal(n, oursEqual);
        Assert.True(mlEqual >= n - 2, $"Ml equal to python on {mlEqual}/{n}; first difference {first}");
    }

    [Fact]
    public void MlTokenizerLoader_RefusesWhatItCannotCarryOver()
    {
        string dir = TextTestData.TempDir("mltok");
        try
        {
            string path = Path.Combine(dir, "wordpiece.json");
            File.WriteAllText(path, """{"model":{"type":"WordPiece","vocab":{}}}""");
            var e = Assert.Throws<NotSupportedException>(() => MlTokenizerLoader.TokenizerJson(path));
            Assert.Contains("WordPiece", e.Message);
            Assert.Throws<FileNotFoundException>(() => MlTokenizerLoader.SentencePiece(Path.Combine(dir, "none.model")));
        }
        finally { Directory.Delete(dir, true); }
    }
}
