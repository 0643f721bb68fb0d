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

    /// <summary>
    /// Structure-aware tokenizer.json mutations (issue 18, class 3): any field of the file set to a value of another kind,
    /// a vocabulary id given to a second token, dropout outside [0, 1]. Every refusal must be a clear error that names a
    /// field (never .NET's dictionary or JsonElement text); duplicate ids and bad dropouts must be refused.
    /// </summary>
    [Fact]
    public void TokenizerJsonFieldsMutatedInKindFailCleanly()
    {
        var texts = ParallelCorpusSample().SelectMany(p => new[] { p.English, p.Chinese }).ToList();
        using var ms = new MemoryStream();
        BpeTrainer.Train(texts, new BpeTrainerOptions { VocabSize = 400 }, ms);
        var valid = System.Text.Json.Nodes.JsonNode.Parse(ms.ToArray())!.AsObject();
        valid["model"]!["dropout"] = null;
        var slots = new List<string>();
        void Walk(System.Text.Json.Nodes.JsonNode? n, string path)
        {
            slots.Add(path);
            if (n is System.Text.Json.Nodes.JsonObject o) foreach (var (k, v) in o) { if (path == "model.vocab" && slots.Count % 7 != 0) continue; Walk(v, path + "." + k); }
            else if (n is System.Text.Json.Nodes.JsonArray a) for (int i = 0; i < Math.Min(a.Count, 5); i++) Walk(a[i], path + "[" + i + "]");
        }
        foreach (var (k, v) in valid) Walk(v, k);
        string[] kinds = ["null", "1", "-1", "1.5", "2147483648", "\"x\"", "\"\"", "true", "[]", "[1]", "{}", "{\"type\":\"Nope\"}"];
        string[] dotnetText = ["given key", "requires an element", "invalid format", "Nullable object", "Object reference"];
        int cases = 0, refused = 0, accepted = 0;
        var rng = new Random(43);
        var vocab = valid["model"]!["vocab"]!.AsObject().Select(kv => kv.Key).ToList();
        for (int c = 0; c < 2500; c++)
        {
            var j = valid.DeepClone().AsObject();
            bool mustRefuse = false;
            switch (rng.Next(6))
            {
                case 0: // a second token takes an existing id
                {
                    string a = vocab[rng.Next(vocab.Count)], b = vocab[rng.Next(vocab.Count)];
                    if (a == b) continue;
                    j["model"]!["vocab"]![a] = j["model"]!["vocab"]![b]!.DeepClone();
                    mustRefuse = true;
                    break;
                }
                case 1: // dropout
                {
                    double[] ds = [-1, -1e-9, 0, 0.1, 1, 1.0000001, 2, 1e300];
                    double d = ds[rng.Next(ds.Length)];
                    j["model"]!["dropout"] = d;
                    mustRefuse = d is < 0 or > 1;
                    break;
                }
                default: // any field, any kind
                {
                    string path = slots[rng.Next(slots.Count)];
                    var parts = System.Text.RegularExpressions.Regex.Matches(path, @"[^.\[\]]+|\[\d+\]").Select(m => m.Value).ToList();
                    System.Text.Json.Nodes.JsonNode parent = j;
                    foreach (var part in parts.SkipLast(1))
                        parent = part.StartsWith('[') ? parent[int.Parse(part[1..^1])]! : parent[part]!;
                    var value = System.Text.Json.Nodes.JsonNode.Parse(kinds[rng.Next(kinds.Length)]);
                    string last = parts[^1];
                    if (last.StartsWith('[')) parent[int.Parse(last[1..^1])] = value; else parent[last] = value;
                    break;
                }
            }
            cases++;
            try
            {
                var tok = HfTokenizer.Create(new MemoryStream(Encoding.UTF8.GetBytes(j.ToJsonString())));
                Assert.False(mustRefuse, $"case {c}: accepted a duplicate id or a dropout outside [0, 1]");
                Exercise(tok);
                accepted++;
            }
            catch (Exception e) when (e is InvalidDataException or NotSupportedException)
            {
                Assert.Contains("tokenizer.json", e.Message);
                foreach (var t in dotnetText) Assert.False(e.Message.Contains(t, StringComparison.OrdinalIgnoreCase), $"case {c}: .NET text instead of a field: {e.Message}");
                refused++;
            }
        }
        output.WriteLine($"tokenizer.json field fuzz: {cases} cases, {refused} clear errors, {accepted} accepted (ignored or valid values), 0 crashes");
        Assert.True(refused > cases / 3, $"only {refused} refused");
    }
}
