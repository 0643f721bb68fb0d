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
}
