// generate on every model directory the project writes: with a tokenizer.json (the recipe's and import's models), or
// without one (the byte tokenizer: translation models' 262 ids and older `train --tokenizer byte` models' 259).
using LightGlm.Model;
using LightGlm.Model.Checkpoints;
using LightGlm.Tests.Model;
using LightGlm.Text.Tokenizers;

namespace LightGlm.Tests.Generation;

public class GenerateTokenizerTests
{
    static string TrainTokenizer(string dir)
    {
        string path = Path.Combine(dir, "tokenizer.json");
        var texts = Enumerable.Range(0, 50).SelectMany(i => new[] { $"Cannot open file number {i}", $"无法打开文件 {i}", "Permission denied", "权限不够" });
        using (var fs = File.Create(path)) BpeTrainer.Train(texts, new BpeTrainerOptions { VocabSize = 300 }, fs);
        return path;
    }

    [Fact]
    public void ATokenizerJsonRoundTripsTextAndFindsTheSpecialTokens()
    {
        string dir = Directory.CreateTempSubdirectory("lg-tok-").FullName;
        try
        {
            var tok = TokenizerLoader.Load(TrainTokenizer(dir));
            Assert.Equal(SpecialTokens.Reserved.Bos, tok.BosId);
            Assert.NotNull(tok.EosId);
            Assert.NotNull(tok.BosId);
            var ids = tok.EncodeText("Cannot open file 7 无法打开文件");
            Assert.Equal("Cannot open file 7 无法打开文件", tok.DecodeText(ids));
            // A special token's text typed by a user stays text.
            Assert.DoesNotContain(tok.EosId!.Value, tok.EncodeText("<|eos|>"));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void GenerateRunsOnAModelDirectoryWithATokenizerJson()
    {
        string dir = Directory.CreateTempSubdirectory("lg-gen-").FullName;
        try
        {
            string tokPath = TrainTokenizer(dir);
            var tok = TokenizerLoader.Load(tokPath);
            var model = GlmModel.Create(TinyModels.Llama(vocab: tok.VocabSize), seed: 2);
            string modelDir = Path.Combine(dir, "model");
            ModelDirectory.Save(model, modelDir, tokPath);
            var r = LightGlm.Tests.Evaluation.CliProcess.Run(null, "generate", "--model", modelDir, "--max-new", "4", "--prompt", "Cannot open");
            Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
            Assert.StartsWith("Cannot open", r.Stdout.Trim());
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData(ByteTokenizer.LegacyGenerationSize)] // `train --tokenizer byte` before the byte tokenizers were merged
    [InlineData(ByteTokenizer.Size)]                 // a translation model without tokenizer.json
    public void GenerateRunsOnAByteModelOfEitherSize(int vocab)
    {
        string dir = Directory.CreateTempSubdirectory("lg-gen-byte-").FullName;
        try
        {
            var c = TinyModels.Glm(vocab: vocab);
            c.BosTokenId = 257; c.EosTokenId = 258; c.PadTokenId = 256;
            ModelDirectory.Save(GlmModel.Create(c, seed: 3), dir, null);
            var r = LightGlm.Tests.Evaluation.CliProcess.Run(null, "generate", "--model", dir, "--max-new", "3", "--prompt", "ls");
            Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
            Assert.StartsWith("ls", r.Stdout.Trim());
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>
    /// A model whose embedding is padded beyond its tokenizer (ChatGLM: 64,794 pieces, 65,024 rows): generation never
    /// emits the spare ids, greedy, sampled or by beam — random weights do put the argmax there without the mask.
    /// </summary>
    [Fact]
    public void GenerationNeverEmitsIdsTheTokenizerCannotDecode()
    {
        var c = TinyModels.Llama(vocab: 400);
        c.MaxPositionEmbeddings = 64;
        var model = GlmModel.Create(c, seed: 5);
        var prompts = Enumerable.Range(0, 6).Select(i => new[] { 1 + i, 7, 30 + i }).ToList();
        var plain = new LightGlm.Generation.GenerationOptions { MaxNewTokens = 40 };
        Assert.Contains(LightGlm.Generation.Generator.Generate(model, prompts, plain).SelectMany(g => g.Tokens), t => t >= 262); // the mask is needed
        foreach (var o in new[] { plain, plain with { Greedy = false, Temperature = 1.5f }, plain with { BeamWidth = 3 } })
        {
            var limited = o with { Vocabulary = 262 };
            var generated = LightGlm.Generation.Generator.Generate(model, prompts, limited).SelectMany(g => g.Tokens).ToList();
            Assert.NotEmpty(generated);
            Assert.All(generated, t => Assert.InRange(t, 0, 261));
        }
        // GenerateText limits to the tokenizer by itself: the byte tokenizer decodes what comes out.
        var text = LightGlm.Generation.Generator.GenerateText(model, ByteTokenizer.Instance, ["ls -l", "cannot open"], plain);
        Assert.Equal(2, text.Count);
    }

    /// <summary>An imported ChatGLM2 directory carries tokenizer.model (SentencePiece), not tokenizer.json: generate reads it.</summary>
    [Fact]
    public void GenerateRunsOnAnImportedDirectoryWithASentencePieceModel()
    {
        string dir = Directory.CreateTempSubdirectory("lg-gen-sp-").FullName;
        try
        {
            var r = LightGlm.Tests.Evaluation.CliProcess.Run(null, "import", "--from", LightGlm.Tests.Interop.HfGolden.DirOf("chatglm2"), "--out", Path.Combine(dir, "m"));
            Assert.True(r.ExitCode == 0, r.Stderr);
            Assert.False(File.Exists(Path.Combine(dir, "m", "tokenizer.json")));
            r = LightGlm.Tests.Evaluation.CliProcess.Run(null, "generate", "--model", Path.Combine(dir, "m"), "--max-new", "6", "--prompt", "Cannot open");
            Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
            Assert.Contains("Cannot", r.Stdout);
            var tok = ModelTokenizer.Open(Path.Combine(dir, "m"), 128);
            Assert.IsType<LightGlm.Text.Tokenizers.SentencePiece.SentencePieceTokenizer>(tok);
        }
        finally { Directory.Delete(dir, true); }
    }
}
