// Parity with sacreBLEU 2.6.0 on the committed vectors (Data/sacrebleu, see its README): corpus and
// sentence BLEU/chrF2/chrF++/TER, every tokenizer on the tricky strings, the effective zh/TER ranges.
using System.Globalization;
using System.Text.Json;
using LightGlm.Evaluation.Metrics;

namespace LightGlm.Tests.Evaluation;

public sealed class SacreBleuParityTests
{
    static readonly string Dir = Path.Combine(AppContext.BaseDirectory, "Data", "sacrebleu");
    static readonly Lazy<JsonElement> Expected = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, "expected.json"))).RootElement);

    internal static string[] Lines(string file)
    {
        var text = File.ReadAllText(Path.Combine(Dir, file));
        var lines = text.Split('\n'); // the README: split on \n only; every line ends with \n
        return lines[..^1];
    }

    static (Bleu Bleu, Ter Ter) Config(string lang) => lang == "zh"
        ? (new Bleu(new TokenizerZh()), new Ter(normalized: true, asianSupport: true))
        : (new Bleu(new Tokenizer13a()), new Ter());

    static void Close(double expected, double actual, double tol, string what) =>
        Assert.True(Math.Abs(expected - actual) <= tol, $"{what}: expected {expected:R}, got {actual:R}");

    [Theory]
    [InlineData("zh")]
    [InlineData("en")]
    public void CorpusBleuMatches(string lang)
    {
        var e = Expected.Value.GetProperty(lang).GetProperty("corpus").GetProperty("bleu");
        var (bleu, _) = Config(lang);
        var s = bleu.CorpusScore(Lines($"{lang}.hyp"), Lines($"{lang}.ref"));
        Close(e.GetProperty("score").GetDouble(), s.Score, 1e-9, "score");
        Assert.Equal(e.GetProperty("formatted").GetString(), PyText.Fixed(s.Score, 2));
        Assert.Equal(Ints(e.GetProperty("counts")), s.Stats.Correct);
        Assert.Equal(Ints(e.GetProperty("totals")), s.Stats.Total);
        Assert.Equal(e.GetProperty("sys_len").GetInt32(), s.Stats.SysLen);
        Assert.Equal(e.GetProperty("ref_len").GetInt32(), s.Stats.RefLen);
        Close(e.GetProperty("bp").GetDouble(), s.BrevityPenalty, 1e-12, "bp");
        var p = e.GetProperty("precisions").EnumerateArray().Select(x => x.GetDouble()).ToArray();
        for (int n = 0; n < 4; n++) Assert.Equal(p[n], s.Precisions[n]); // + - * / only: bit for bit
        Assert.Equal(e.GetProperty("signature").GetString(), bleu.Signature);
        Assert.Equal(e.GetProperty("signature_short").GetString(), bleu.ShortSignature);
        Assert.Equal(e.GetProperty("line").GetString(), s.Format(bleu.ShortSignature));
    }

    [Theory]
    [InlineData("zh", "chrf2", 0)]
    [InlineData("zh", "chrf++", 2)]
    [InlineData("en", "chrf2", 0)]
    [InlineData("en", "chrf++", 2)]
    public void CorpusChrfMatches(string lang, string key, int wordOrder)
    {
        var e = Expected.Value.GetProperty(lang).GetProperty("corpus").GetProperty(key);
        var chrf = new Chrf(wordOrder);
        var s = chrf.CorpusScore(Lines($"{lang}.hyp"), Lines($"{lang}.ref"));
        var stats = e.GetProperty("stats_hyp_ref_match_per_order").EnumerateArray()
            .SelectMany(o => o.EnumerateArray().Select(x => x.GetInt64())).ToArray();
        Assert.Equal(stats, s.Stats);
        Assert.Equal(e.GetProperty("score").GetDouble(), s.Score); // bit for bit
        Assert.Equal(e.GetProperty("formatted").GetString(), PyText.Fixed(s.Score, 2));
        Assert.Equal(e.GetProperty("signature").GetString(), chrf.Signature);
        Assert.Equal(e.GetProperty("signature_short").GetString(), chrf.ShortSignature);
    }

    [Theory]
    [InlineData("zh")]
    [InlineData("en")]
    public void CorpusTerMatches(string lang)
    {
        var e = Expected.Value.GetProperty(lang).GetProperty("corpus").GetProperty("ter");
        var (_, ter) = Config(lang);
        var s = ter.CorpusScore(Lines($"{lang}.hyp"), Lines($"{lang}.ref"));
        Assert.Equal(e.GetProperty("num_edits").GetInt64(), s.Edits);
        Assert.Equal(e.GetProperty("ref_length").GetDouble(), s.RefLength);
        Assert.Equal(e.GetProperty("score").GetDouble(), s.Score);
        Assert.Equal(e.GetProperty("formatted").GetString(), PyText.Fixed(s.Score, 2));
        Assert.Equal(e.GetProperty("signature").GetString(), ter.Signature);
        Assert.Equal(e.GetProperty("signature_short").GetString(), ter.ShortSignature);
    }

    [Theory]
    [InlineData("zh")]
    [InlineData("en")]
    public void TerEditsMatchOnEverySegment(string lang)
    {
        var e = Expected.Value.GetProperty(lang);
        var (_, ter) = Config(lang);
        var hyps = Lines($"{lang}.hyp"); var refs = Lines($"{lang}.ref");
        var all = e.GetProperty("ter_segment_edits_all").EnumerateArray().ToArray();
        Assert.Equal(hyps.Length, all.Length);
        var limited = e.GetProperty("ter_segments_with_candidate_limit").EnumerateArray().Select(x => x.GetInt32()).ToHashSet();
        for (int i = 0; i < hyps.Length; i++)
        {
            var ed = ter.SegmentEdits(hyps[i], refs[i]);
            Assert.True(all[i][0].GetInt32() == ed.Edits && all[i][1].GetDouble() == ed.RefLength,
                $"{lang} segment {i}: expected [{all[i][0]}, {all[i][1]}], got [{ed.Edits}, {ed.RefLength}]");
            Assert.True(limited.Contains(i) == ed.CandidateLimitHit, $"{lang} segment {i}: candidate limit flag");
        }
    }

    [Theory]
    [InlineData("zh")]
    [InlineData("en")]
    public void SentenceScoresMatch(string lang)
    {
        var (bleuCorpus, ter) = Config(lang);
        var bleu = new Bleu(bleuCorpus.Tokenizer, effectiveOrder: true);
        var chrf = new Chrf(); var chrfpp = new Chrf(wordOrder: 2);
        var sig = Expected.Value.GetProperty(lang).GetProperty("sentence_signatures");
        Assert.Equal(sig.GetProperty("bleu").GetString(), bleu.Signature);
        foreach (var s in Expected.Value.GetProperty(lang).GetProperty("sentence").EnumerateArray())
        {
            int i = s.GetProperty("index").GetInt32();
            string hyp = s.GetProperty("hyp").GetString()!, reference = s.GetProperty("ref").GetString()!;
            Assert.Equal(s.GetProperty("ref_tok").GetString(), bleu.Tokenizer.Tokenize(PyText.RStrip(reference)));
            Assert.Equal(s.GetProperty("hyp_tok").GetString(), bleu.Tokenizer.Tokenize(PyText.RStrip(hyp)));
            Assert.Equal(s.GetProperty("ref_ter_tok").GetString(), ter.Tokenizer.Tokenize(PyText.RStrip(reference)));
            Assert.Equal(s.GetProperty("hyp_ter_tok").GetString(), ter.Tokenizer.Tokenize(PyText.RStrip(hyp)));

            var b = s.GetProperty("bleu"); var bs = bleu.SentenceScore(hyp, reference);
            Assert.Equal(Ints(b.GetProperty("counts")), bs.Stats.Correct);
            Assert.Equal(Ints(b.GetProperty("totals")), bs.Stats.Total);
            Assert.Equal(b.GetProperty("sys_len").GetInt32(), bs.Stats.SysLen);
            Assert.Equal(b.GetProperty("ref_len").GetInt32(), bs.Stats.RefLen);
            Close(b.GetProperty("score").GetDouble(), bs.Score, 1e-9, $"{lang}[{i}] bleu");
            var p = b.GetProperty("precisions").EnumerateArray().Select(x => x.GetDouble()).ToArray();
            for (int n = 0; n < 4; n++) Assert.Equal(p[n], bs.Precisions[n]);

            var c = chrf.SentenceScore(hyp, reference);
            var cstats = s.GetProperty("chrf2").GetProperty("stats_hyp_ref_match_per_order").EnumerateArray()
                .SelectMany(o => o.EnumerateArray().Select(x => x.GetInt64())).ToArray();
            Assert.Equal(cstats, c.Stats);
            Assert.Equal(s.GetProperty("chrf2").GetProperty("score").GetDouble(), c.Score);
            Assert.Equal(s.GetProperty("chrf++").GetProperty("score").GetDouble(), chrfpp.SentenceScore(hyp, reference).Score);

            var t = s.GetProperty("ter"); var ts = ter.SentenceScore(hyp, reference);
            Assert.Equal(t.GetProperty("num_edits").GetInt64(), ts.Edits);
            Assert.Equal(t.GetProperty("ref_length").GetDouble(), ts.RefLength);
            Assert.Equal(t.GetProperty("score").GetDouble(), ts.Score);
            Assert.Equal(t.GetProperty("shifts").GetInt32(), ter.SegmentEdits(hyp, reference).Shifts);
        }
    }

    [Fact]
    public void TokenizersMatchOnTrickyStrings()
    {
        var zh = new TokenizerZh(); var t13a = new Tokenizer13a();
        var terAsian = new TercomTokenizer(normalized: true, asianSupport: true); var terDefault = new TercomTokenizer();
        var cases = Expected.Value.GetProperty("tokenizers").GetProperty("cases").EnumerateArray().ToArray();
        Assert.Equal(42, cases.Length);
        foreach (var c in cases)
        {
            var input = c.GetProperty("input").GetString()!;
            var id = c.GetProperty("id").GetInt32();
            Assert.True(c.GetProperty("zh").GetString() == zh.Tokenize(input), $"case {id} zh: '{zh.Tokenize(input)}'");
            Assert.True(c.GetProperty("13a").GetString() == t13a.Tokenize(input), $"case {id} 13a: '{t13a.Tokenize(input)}'");
            Assert.True(c.GetProperty("tercom_normalized_asian").GetString() == terAsian.Tokenize(input), $"case {id} tercom asian: '{terAsian.Tokenize(input)}'");
            Assert.True(c.GetProperty("tercom_default").GetString() == terDefault.Tokenize(input), $"case {id} tercom: '{terDefault.Tokenize(input)}'");
            var noWs = PyText.RemoveSpaces(input);
            Assert.Equal(c.GetProperty("chrf_no_whitespace").GetString(), noWs);
            Assert.Equal(c.GetProperty("chrf_num_codepoints").GetInt32(), PyText.CodePoints(noWs).Length);
        }
    }

    [Fact]
    public void ZhTokenizerEffectiveRangesMatchEnumeration()
    {
        var ranges = new List<string>();
        int start = -1;
        for (int cp = 0; cp <= 0x110000; cp++)
        {
            bool on = cp <= 0x10FFFF && !(cp is >= 0xD800 and <= 0xDFFF) && TokenizerZh.IsChineseChar(cp);
            if (on && start < 0) start = cp;
            if (!on && start >= 0) { ranges.Add($"U+{start:X4}-U+{cp - 1:X4}"); start = -1; }
        }
        var expected = Expected.Value.GetProperty("zh_tokenizer_effective_ranges").GetProperty("ranges")
            .EnumerateArray().Select(x => x.GetString()).ToArray();
        Assert.Equal(expected, ranges);
        // The literal table, compared the Python way, holds no supplementary code point.
        foreach (var cp in new[] { 0x20000, 0x2000B, 0x2F800, 0x2A6D6, 0x1F600 })
            Assert.False(TokenizerZh.InSourceRanges(char.ConvertFromUtf32(cp)));
        Assert.True(TokenizerZh.InSourceRanges("\u2001"));
        Assert.False(TokenizerZh.InSourceRanges("\u2000"));
    }

    [Fact]
    public void TerAsianEffectiveRangesMatchEnumeration()
    {
        var tok = new TercomTokenizer(normalized: true, asianSupport: true);
        var ranges = new List<string>();
        int start = -1;
        for (int cp = 0x80; cp <= 0x10000; cp++)
        {
            bool on = false;
            if (cp <= 0xFFFF && !(cp is >= 0xD800 and <= 0xDFFF) && !PyText.IsSpace((char)cp))
            {
                var s = char.ConvertFromUtf32(cp);
                // split from its neighbours: 'a' + c + 'a' tokenizes to three tokens (lowercase of c may differ)
                on = PyText.Split(tok.Tokenize("a" + s + "a")).Count == 3;
            }
            if (on && start < 0) start = cp;
            if (!on && start >= 0) { ranges.Add($"U+{start:X4}-U+{cp - 1:X4}"); start = -1; }
        }
        var expected = Expected.Value.GetProperty("ter_asian_effective_ranges").GetProperty("ranges")
            .EnumerateArray().Select(x => x.GetString()).ToArray();
        Assert.Equal(expected, ranges);
    }

    [Fact]
    public void PythonWhitespaceSetIsExact()
    {
        var expected = Expected.Value.GetProperty("python_whitespace").GetProperty("codepoints")
            .EnumerateArray().Select(x => int.Parse(x.GetString()![2..], NumberStyles.HexNumber)).ToArray();
        var ours = Enumerable.Range(0, 0x10000).Where(c => PyText.IsSpace((char)c)).ToArray();
        Assert.Equal(expected, ours);
    }

    [Theory]
    [InlineData(0.125, 2, "0.12")]
    [InlineData(0.375, 2, "0.38")]
    [InlineData(2.5, 0, "2")]
    [InlineData(72.22316554638782, 2, "72.22")]
    [InlineData(0.9287367392727705, 3, "0.929")]
    [InlineData(-0.0, 2, "-0.00")]
    [InlineData(100.0, 1, "100.0")]
    public void FixedFormattingIsPythons(double x, int d, string expected) => Assert.Equal(expected, PyText.Fixed(x, d));

    [Fact]
    public void PythonLowerHandlesSpecialCases()
    {
        Assert.Equal("i\u0307stanbul", PyText.Lower("İstanbul"));
        Assert.Equal("οδυσσευς", PyText.Lower("ΟΔΥΣΣΕΥΣ"));
        Assert.EndsWith("ς", PyText.Lower("ΟΔΥΣΣΕΥΣ"));
        Assert.Equal("σ", PyText.Lower("Σ"));
        Assert.Equal("ǆ", PyText.Lower("ǅ"));
        Assert.Equal("ⅳ", PyText.Lower("Ⅳ"));
    }

    static int[] Ints(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();
}
