// Our SentencePiece .model loader against python3-sentencepiece 0.1.97 (and spm_encode, checked by the script) on
// ~2200 real texts, for three models trained on our corpus with spm_train (vectors: tests/reference/text/make_spm_vectors.sh).
using System.IO.Compression;
using System.Text.Json;
using LightGlm.Text.Tokenizers;
using LightGlm.Text.Tokenizers.SentencePiece;
using LightGlm.Translation;

namespace LightGlm.Tests.Text.Tokenizers;

public sealed class SentencePieceParityTests
{
    static readonly Lazy<List<JsonElement>> Rows = new(() =>
    {
        using var gz = new GZipStream(File.OpenRead(TextTestData.File("spm/spm-parity.jsonl.gz")), CompressionMode.Decompress);
        using var r = new StreamReader(gz);
        var rows = new List<JsonElement>();
        while (r.ReadLine() is { } line) if (line.Length > 0) rows.Add(JsonDocument.Parse(line).RootElement.Clone());
        return rows;
    });

    internal static SentencePieceTokenizer Load(string name) => SentencePieceTokenizer.Create(TextTestData.File($"spm/{name}.model.gz"));

    /// <summary>
    /// EncodeBatch splits the texts over threads (per-thread scratch buffers, BPE's shared word cache), twice (cold, then
    /// cached): the same ids as python, in order.
    /// </summary>
    [Theory]
    [InlineData("unigram")]
    [InlineData("bpe")]
    [InlineData("bpe-nofb")]
    public void EncodeBatch_OverThreads_EqualsPythonSentencePiece_ColdAndCached(string name)
    {
        ITokenizer tok = Load(name);
        var rows = Rows.Value;
        var texts = rows.Select(r => r.GetProperty("t").GetString()!).ToList();
        int saved = LightGlm.Kernels.KernelParallel.Degree;
        LightGlm.Kernels.KernelParallel.Degree = 4;
        try
        {
            var batch = tok.EncodeBatch(texts, parseSpecialTokens: false);
            for (int pass = 0; pass < 2; pass++)
            {
                if (pass == 1) batch = tok.EncodeBatch(texts, parseSpecialTokens: false);
                int bad = Enumerable.Range(0, rows.Count).Count(i => !batch[i].SequenceEqual(rows[i].GetProperty(name).EnumerateArray().Select(x => x.GetInt32())));
                Assert.True(bad == 0, $"pass {pass}: {bad} texts differ");
            }
            var decoded = tok.DecodeBatch(batch);
            Assert.Equal(texts.Select((_, i) => tok.Decode(batch[i])), decoded);
        }
        finally { LightGlm.Kernels.KernelParallel.Degree = saved; }
    }

    [Theory]
    [InlineData("unigram")]
    [InlineData("bpe")]
    [InlineData("identity")]
    [InlineData("bpe-nofb")]
    public void Ids_EqualPythonSentencePiece_OnEveryParityText(string name)
    {
        var tok = Load(name);
        var rows = Rows.Value;
        Assert.True(rows.Count > 2000, $"{rows.Count} rows");
        var bad = new List<string>();
        foreach (var row in rows)
        {
            string text = row.GetProperty("t").GetString()!;
            int[] expected = row.GetProperty(name).EnumerateArray().Select(x => x.GetInt32()).ToArray();
            int[] ours = tok.Encode(text, parseSpecialTokens: false);
            if (!ours.SequenceEqual(expected))
                bad.Add($"{JsonSerializer.Serialize(text)}: ours [{string.Join(",", ours.Take(24))}] spm [{string.Join(",", expected.Take(24))}]");
        }
        Assert.True(bad.Count == 0, $"{bad.Count}/{rows.Count} texts differ:\n" + string.Join("\n", bad.Take(8)));
    }

    [Theory]
    [InlineData("unigram")]
    [InlineData("bpe")]
    [InlineData("identity")]
    [InlineData("bpe-nofb")]
    public void Decode_EqualsPythonSentencePiece_OnEveryParityText(string name)
    {
        var tok = Load(name);
        var bad = new List<string>();
        foreach (var row in Rows.Value)
        {
            int[] ids = row.GetProperty(name).EnumerateArray().Select(x => x.GetInt32()).ToArray();
            string expected = row.GetProperty(name + "_dec").GetString()!;
            string ours = tok.Decode(ids);
            if (ours != expected) bad.Add($"{JsonSerializer.Serialize(row.GetProperty("t").GetString())}: ours {JsonSerializer.Serialize(ours)} spm {JsonSerializer.Serialize(expected)}");
        }
        Assert.True(bad.Count == 0, $"{bad.Count} decodes differ:\n" + string.Join("\n", bad.Take(8)));
    }

    [Fact]
    public void ControlPieces_AreSpecialTokens_AndTheTaskFormatUsesThem()
    {
        var tok = Load("unigram"); // trained with our six specials: <|pad|> <|bos|> <|eos|> as pad/bos/eos, the rest as control symbols
        foreach (var s in LightGlm.Text.Tokenizers.SpecialTokens.All) Assert.True(tok.SpecialTokens.ContainsKey(s), s);
        int sep = tok.SpecialTokens["<|sep|>"];
        Assert.Contains(sep, tok.Encode("a<|sep|>b"));
        Assert.DoesNotContain(sep, tok.Encode("a<|sep|>b", parseSpecialTokens: false));
        var ex = TaskFormat.Example(LightGlm.Text.Tokenizers.SpecialTokens.From(tok), Direction.EnToZh, tok.EncodeText("File not found"), tok.EncodeText("找不到文件"));
        int[] ids = [.. ex.Tokens, ex.Targets[^1]];
        int p = ex.PrefixLength;
        Assert.Equal(tok.SpecialTokens["<|bos|>"], ids[0]);
        Assert.Equal(tok.SpecialTokens["<|en2zh|>"], ids[1]);
        Assert.Equal(sep, ids[p - 1]);
        Assert.Equal(tok.SpecialTokens["<|eos|>"], ids[^1]);
        Assert.Equal("File not found", tok.Decode(ids.AsSpan(2, p - 3)));
        Assert.Equal("找不到文件", tok.Decode(ids.AsSpan(p, ids.Length - p - 1)));
        // Control pieces decode to nothing, as in spm; the target's dummy-prefix "▁" is a space inside the text.
        Assert.Equal("File not found 找不到文件", tok.Decode(ids));
    }

    [Fact]
    public void UserDefinedPieces_StayWhole()
    {
        var tok = Load("unigram"); // --user_defined_symbols=%s,%d,{0}
        int s = tok.TokenToId("%s")!.Value, zero = tok.TokenToId("{0}")!.Value;
        var ids = tok.Encode("cannot open %s: {0}%s", parseSpecialTokens: false);
        Assert.Equal(2, ids.Count(i => i == s));
        Assert.Contains(zero, ids);
    }

    [Fact]
    public void ChatGlm2TokenizerModel_FromTheInteropFixture_Loads()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Golden", "hf", "chatglm2", "tokenizer.model");
        var tok = SentencePieceTokenizer.Create(path);
        Assert.True(tok.VocabSize > 3);
        Assert.Equal(0, tok.TokenToId("<unk>"));
        Assert.Equal(tok.Decode(tok.Encode("..", parseSpecialTokens: false)), "..");
    }

    [Fact]
    public void TokenizerLoader_PicksTheLoaderByName()
    {
        Assert.IsType<SentencePieceTokenizer>(TokenizerLoader.Load(TextTestData.File("spm/bpe.model.gz")));
        Assert.IsType<HfTokenizer>(TokenizerLoader.Load(TextTestData.File("qwen3.tokenizer.json.gz")));
    }

    [Theory]
    [InlineData(new byte[] { 0x0A, 0xFF, 0xFF, 0xFF, 0x0F }, "runs past the end")]
    [InlineData(new byte[] { 0x0A }, "runs past the end")]
    [InlineData(new byte[] { 0x7B, 0x22 }, "wire type")]
    [InlineData(new byte[] { }, "no pieces")]
    public void CorruptModels_GiveClearErrors(byte[] bytes, string expected)
    {
        var e = Assert.Throws<InvalidDataException>(() => SentencePieceTokenizer.Create(bytes, "bad.model"));
        Assert.Contains("bad.model", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void AModelWithoutUnk_IsRejected()
    {
        // One NORMAL piece "a": field 1 { field 1 "a", field 2 float 0 }.
        byte[] bytes = [0x0A, 0x08, 0x0A, 0x01, (byte)'a', 0x15, 0, 0, 0, 0];
        var e = Assert.Throws<InvalidDataException>(() => SentencePieceTokenizer.Create(bytes, "nounk.model"));
        Assert.Contains("unknown piece", e.Message);
    }
}
