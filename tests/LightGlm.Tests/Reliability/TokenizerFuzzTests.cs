// Thousands of mutated tokenizer files (SentencePiece .model trained by spm_train, tokenizer.json written by our
// BPE trainer) and corpus files (TSV, JSONL, UM-Corpus, WMT sgm): a clear error or a working reader, never a crash or hang.
using System.IO.Compression;
using System.Text;
using LightGlm.Tests.Text;
using LightGlm.Text.Corpus;
using LightGlm.Text.Tokenizers;
using LightGlm.Text.Tokenizers.SentencePiece;
using Xunit.Abstractions;

namespace LightGlm.Tests.Reliability;

public class TokenizerFuzzTests(ITestOutputHelper output)
{
    static readonly string[] Probe = ["Permission denied", "无法打开 %s：没有那个文件", "emoji 🙂 ＡＢｃ\t\n  x", ""];

    static byte[] Gunzip(string path)
    {
        using var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var ms = new MemoryStream();
        gz.CopyTo(ms);
        return ms.ToArray();
    }

    /// <summary>A loaded tokenizer must also encode and decode without crashing (a corrupt table may only surface then).</summary>
    static void Exercise(ITokenizer tok)
    {
        foreach (var t in Probe)
        {
            var ids = tok.Encode(t);
            try { tok.Decode(ids); }
            catch (ArgumentOutOfRangeException) { } // ids outside a corrupt vocabulary: a clear, documented error
        }
    }

    [Theory]
    [InlineData("bpe-nofb", 1500, 31)]   // BPE with the nmt_nfkc charsmap (Darts trie)
    [InlineData("identity", 1500, 37)]   // unigram, byte fallback, no charsmap
    public void MutatedSentencePieceModelsFailCleanly(string name, int cases, int seed)
    {
        byte[] valid = Gunzip(TextTestData.File($"spm/{name}.model.gz"));
        var outcome = Mutator.Run(valid, cases, seed, bytes => Exercise(SentencePieceTokenizer.Create(bytes, "fuzz.model")),
            [typeof(InvalidDataException), typeof(NotSupportedException)]);
        output.WriteLine($"{name}.model fuzz: {outcome.Cases} cases, {outcome.Accepted} accepted, {outcome.Rejected} rejected ({string.Join(", ", outcome.ByException.Select(kv => $"{kv.Key} {kv.Value}"))})");
        Assert.True(outcome.Rejected > outcome.Cases / 20, $"only {outcome.Rejected} rejected");
    }

    [Fact]
    public void MutatedTokenizerJsonFailsCleanly()
    {
        var texts = ParallelCorpusSample().SelectMany(p => new[] { p.English, p.Chinese }).ToList();
        using var ms = new MemoryStream();
        BpeTrainer.Train(texts, new BpeTrainerOptions { VocabSize = 400 }, ms);
        byte[] valid = ms.ToArray();
        var outcome = Mutator.Run(valid, 1500, 41, bytes => Exercise(HfTokenizer.Create(new MemoryStream(bytes))),
            [typeof(InvalidDataException), typeof(NotSupportedException)]);
        output.WriteLine($"tokenizer.json fuzz: {outcome.Cases} cases on a {valid.Length}-byte file, {outcome.Accepted} accepted, {outcome.Rejected} rejected");
        Assert.True(outcome.Rejected > outcome.Cases / 10, $"only {outcome.Rejected} rejected");
    }

    // The input class behind the once-seen ArgumentOutOfRangeException (a chunk deleted between two quotes leaves a merge
    // ""; string.IndexOf(' ', 1) throws on it), and its neighbours: malformed merges, JSON null where a string belongs.
    [Theory]
    [InlineData("\"\"", null, null)]
    [InlineData("\" \"", null, null)]
    [InlineData("\"ab\"", null, null)]
    [InlineData("[\"a\"]", null, null)]
    [InlineData("[\"a\", \"b\", \"c\"]", null, null)]
    [InlineData("null", null, null)]
    [InlineData("[null, \"b\"]", null, null)]
    [InlineData("\"a b\"", "{\"content\": null, \"id\": 3}", null)]
    [InlineData("\"a b\"", null, "{\"type\": \"Strip\", \"content\": \"\", \"start\": 1, \"stop\": 0}")]
    [InlineData("\"a b\"", null, "{\"type\": null}")]
    public void MalformedMergesAndNullStringsAreRejectedCleanly(string merge, string? addedToken, string? decoder)
    {
        static string Json(string merge, string? added, string? decoder) =>
            "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1, \"ab\": 2}, \"merges\": [" + merge + "]}" +
            (added is null ? "" : ", \"added_tokens\": [" + added + "]") + (decoder is null ? "" : ", \"decoder\": " + decoder) + "}";
        var ok = HfTokenizer.Create(new MemoryStream(Encoding.UTF8.GetBytes(Json("\"a b\"", null, null))));
        Assert.Equal([2], ok.Encode("ab"));
        var ex = Assert.Throws<InvalidDataException>(() => HfTokenizer.Create(new MemoryStream(Encoding.UTF8.GetBytes(Json(merge, addedToken, decoder)))));
        Assert.StartsWith("tokenizer.json", ex.Message);
    }

    /// <summary>Real pairs: the single-line corpus texts of the tokenizer parity set, paired two by two.</summary>
    static List<TranslationPair> ParallelCorpusSample()
    {
        using var gz = new GZipStream(File.OpenRead(TextTestData.File("spm/spm-parity.jsonl.gz")), CompressionMode.Decompress);
        using var r = new StreamReader(gz);
        var texts = new List<string>();
        while (r.ReadLine() is { } line && texts.Count < 120)
        {
            string t = System.Text.Json.JsonDocument.Parse(line).RootElement.GetProperty("t").GetString()!;
            if (t.Length > 0 && t.AsSpan().IndexOfAny('\t', '\n', '\r') < 0) texts.Add(t);
        }
        return Enumerable.Range(0, texts.Count / 2).Select(i => new TranslationPair(texts[2 * i], texts[2 * i + 1])).ToList();
    }

    [Theory]
    [InlineData(ParallelFormat.Tsv, 43)]
    [InlineData(ParallelFormat.WmtTsv, 47)]
    [InlineData(ParallelFormat.Jsonl, 53)]
    [InlineData(ParallelFormat.UmCorpus, 59)]
    public void MutatedCorpusFilesFailCleanly(ParallelFormat format, int seed)
    {
        var pairs = ParallelCorpusSample();
        string text = format switch
        {
            ParallelFormat.Jsonl => string.Concat(pairs.Select(p => System.Text.Json.JsonSerializer.Serialize(new { en = p.English, zh = p.Chinese }) + "\n")),
            ParallelFormat.UmCorpus => string.Concat(pairs.Select(p => $"{p.English}\n{p.Chinese}\n")),
            _ => string.Concat(pairs.Select(p => $"{p.English}\t{p.Chinese}\n")),
        };
        byte[] valid = Encoding.UTF8.GetBytes(text);
        string dir = TextTestData.TempDir("corpusfuzz");
        try
        {
            string path = Path.Combine(dir, "in.txt");
            var outcome = Mutator.Run(valid, 600, seed, bytes =>
            {
                File.WriteAllBytes(path, bytes);
                ParallelFormats.Read(new ParallelSource(format, path), out _);
            }, [typeof(InvalidDataException)]);
            output.WriteLine($"{format} fuzz: {outcome.Cases} cases, {outcome.Accepted} accepted, {outcome.Rejected} rejected");
            Assert.True(outcome.Rejected > 0 || format == ParallelFormat.WmtTsv, "no mutation was rejected");
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void MutatedWmtSgmFailsCleanly()
    {
        var pairs = ParallelCorpusSample();
        string Sgm(bool zh) => "<srcset setid=\"t\">\n<doc docid=\"d\">\n" + string.Concat(pairs.Select((p, i) =>
            $"<seg id=\"{i + 1}\">{System.Net.WebUtility.HtmlEncode(zh ? p.Chinese : p.English)}</seg>\n")) + "</doc>\n</srcset>\n";
        string dir = TextTestData.TempDir("sgmfuzz");
        try
        {
            string en = Path.Combine(dir, "src.en.sgm"), zh = Path.Combine(dir, "ref.zh.sgm");
            File.WriteAllText(en, Sgm(false));
            var outcome = Mutator.Run(Encoding.UTF8.GetBytes(Sgm(true)), 600, 61, bytes =>
            {
                File.WriteAllBytes(zh, bytes);
                ParallelFormats.Read(new ParallelSource(ParallelFormat.WmtSgm, en, zh), out _);
            }, [typeof(InvalidDataException)]);
            output.WriteLine($"WMT sgm fuzz: {outcome.Cases} cases, {outcome.Accepted} accepted, {outcome.Rejected} rejected");
            Assert.True(outcome.Rejected > outcome.Cases / 10, $"only {outcome.Rejected} rejected");
        }
        finally { Directory.Delete(dir, true); }
    }
}
