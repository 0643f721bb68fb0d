// The translator on a random-weight model (garbage text, real plumbing): batching does not change outputs,
// and teacher forcing on the model's own greedy output scores 100% — the prefix mask of training and the
// bidirectional prefill of inference agree.
using LightGlm.Generation;
using LightGlm.Model;
using LightGlm.Model.Checkpoints;
using LightGlm.Model.Inference;
using LightGlm.Text.Tokenizers;
using LightGlm.Translation;

namespace LightGlm.Tests.Translation;

public sealed class TranslatorTests
{
    internal static GlmModel TinyModel(ulong seed = 3)
    {
        var c = new ModelConfig
        {
            VocabSize = ByteTokenizer.Instance.VocabSize, HiddenSize = 32, NumHiddenLayers = 2, NumAttentionHeads = 4,
            NumKeyValueHeads = 2, IntermediateSize = 64, PrefixLm = true, MaxPositionEmbeddings = 256,
        };
        return GlmModel.Create(c, seed, std: 0.5); // large init: peaked, input-dependent outputs
    }

    internal static string SaveTinyModel()
    {
        var dir = Directory.CreateTempSubdirectory("lightglm-tr-").FullName;
        ModelDirectory.Save(TinyModel(), dir);
        return dir;
    }

    static readonly string[] Inputs = ["Cannot open file '%s'", "Permission denied", "Save _As…", "x"];

    [Fact]
    public void BatchedEqualsOneAtATime()
    {
        var tr = new GlmTranslator(TinyModel(), ByteTokenizer.Instance, maxBatch: 4);
        var batched = tr.Translate(Inputs, Direction.EnToZh, maxNewTokens: 12);
        for (int i = 0; i < Inputs.Length; i++)
            Assert.Equal(tr.Translate([Inputs[i]], Direction.EnToZh, 12)[0].Ids, batched[i].Ids);
        Assert.All(batched, b => Assert.True(b.Ids.Length <= 12));
        // Different inputs give different outputs with a random model (the prompt matters).
        Assert.True(batched.Select(b => string.Join(',', b.Ids)).Distinct().Count() > 1);
    }

    [Fact]
    public void TeacherForcingOnOwnGreedyOutputIsPerfect()
    {
        var model = TinyModel();
        var tok = ByteTokenizer.Instance;
        var tr = new GlmTranslator(model, tok, maxBatch: 4);
        foreach (var d in Directions.Both)
        {
            var outs = tr.Translate(Inputs, d, maxNewTokens: 40);
            for (int i = 0; i < Inputs.Length; i++)
            {
                if (!outs[i].Stopped) continue; // eos must be produced for the comparison to cover it
                // Reference = exactly the greedy ids: decode→encode may not round-trip bytes, so compare on ids.
                var r = TeacherForcedOnIds(model, tok, d, Inputs[i], outs[i].Ids);
                Assert.Equal(r.Tokens, r.Correct);
                Assert.True(r.MeanProbability > 0 && r.MeanProbability <= 1);
            }
        }
    }

    static TeacherForcedResult TeacherForcedOnIds(GlmModel m, ITokenizer tok, Direction d, string src, int[] ids) =>
        TeacherForcedAccuracy.Compute(m, new FixedIds(tok, ids), d, [(src, "\u0000ids")]);

    /// <summary>Encodes the marker reference to the given ids, everything else as the inner tokenizer does.</summary>
    sealed class FixedIds(ITokenizer inner, int[] ids) : ITokenizer
    {
        public int VocabSize => inner.VocabSize;
        public IReadOnlyDictionary<string, int> SpecialTokens => inner.SpecialTokens;
        public int[] Encode(ReadOnlySpan<char> text, bool parseSpecialTokens = true) => text.SequenceEqual("\u0000ids") ? ids : inner.Encode(text, parseSpecialTokens);
        public string Decode(ReadOnlySpan<int> x, bool skipSpecialTokens = false) => inner.Decode(x, skipSpecialTokens);
        public string? IdToToken(int id) => inner.IdToToken(id);
        public int? TokenToId(string token) => inner.TokenToId(token);
    }

    [Fact]
    public void VocabularyMismatchIsRefused()
    {
        var c = new ModelConfig { VocabSize = 100, HiddenSize = 16, NumHiddenLayers = 1, NumAttentionHeads = 2, IntermediateSize = 32, MaxPositionEmbeddings = 64 };
        var e = Assert.Throws<InvalidDataException>(() => new GlmTranslator(GlmModel.Create(c), ByteTokenizer.Instance));
        Assert.Contains("vocab_size", e.Message);
    }

    [Theory]
    [InlineData(2, 1f)]
    [InlineData(3, 0.6f)]
    public void BatchedBeamEqualsSinglePromptBeamSearch(int k, float penalty)
    {
        var model = TinyModel();
        var tok = ByteTokenizer.Instance;
        var sp = SpecialTokens.From(tok);
        var tr = new GlmTranslator(model, tok, new TranslatorOptions { MaxBatch = 4, MaxBeam = 4, Beam = k, LengthPenalty = penalty, MaxLength = 64 });
        var batched = tr.Translate(Inputs, Direction.EnToZh, maxNewTokens: 10);
        var o = new GenerationOptions { MaxNewTokens = 10, BeamWidth = k, LengthPenalty = penalty, StopTokens = [sp.Eos], BidirectionalPrompt = true };
        for (int i = 0; i < Inputs.Length; i++)
        {
            var prompt = TaskFormat.Prompt(sp, Direction.EnToZh, tok.EncodeText(Inputs[i]));
            var single = BeamSearch.Run(model, prompt, o);
            Assert.Equal(single.Tokens, batched[i].Ids);
            Assert.Equal(single.Stopped, batched[i].Stopped);
            Assert.Equal(tr.Translate([Inputs[i]], Direction.EnToZh, 10)[0].Ids, batched[i].Ids); // alone = in a batch
        }
        // A wider beam is a different search: on a random model at least one output differs from greedy.
        var greedy = tr.Translate(Inputs, Direction.EnToZh, 10, beam: 1);
        Assert.Contains(Enumerable.Range(0, Inputs.Length), i => !greedy[i].Ids.SequenceEqual(batched[i].Ids) || k == 1);
    }

    [Fact]
    public void BeamWiderThanTheTranslatorAllowsIsRefused()
    {
        var tr = new GlmTranslator(TinyModel(), ByteTokenizer.Instance, new TranslatorOptions { MaxBeam = 2 });
        Assert.Throws<ArgumentOutOfRangeException>(() => tr.Translate(["x"], Direction.EnToZh, 4, beam: 3));
        Assert.Throws<ArgumentException>(() => new GlmTranslator(TinyModel(), ByteTokenizer.Instance, new TranslatorOptions { Beam = 2, MaxBeam = 1 }));
    }

    [Theory]
    [InlineData(WeightFormat.Int8, 1)]
    [InlineData(WeightFormat.Int4, 2)]
    public void QuantizedTranslatorRunsTheQuantizedWeights(WeightFormat f, int beam)
    {
        var model = TinyModel();
        var tok = ByteTokenizer.Instance;
        var q = new GlmTranslator(model, tok, new TranslatorOptions { Weights = f, MaxBeam = 2, Beam = beam });
        Assert.Equal(f, q.Weights.Format);
        Assert.True(q.Weights.ProjectionBytes < InferenceWeights.Fp32(model).ProjectionBytes / 3);
        var outs = q.Translate(Inputs, Direction.ZhToEn, 12);
        Assert.Equal(Inputs.Length, outs.Count);
        Assert.All(outs, o => Assert.True(o.Ids.Length is > 0 and <= 12));
    }
}
