// generate/train on models with a tokenizer.json (the recipe's and import's models), not only byte-level ones.
using LightGlm.Generation;
using LightGlm.Model;
using LightGlm.Model.Checkpoints;
using LightGlm.Tests.Model;
using LightGlm.Text.Tokenizers;

namespace LightGlm.Tests.Generation;

public class TokenizerAdapterTests
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
            var tok = TokenizerAdapter.Load(TrainTokenizer(dir));
            Assert.NotNull(tok.EosId);
            Assert.NotNull(tok.BosId);
            var ids = tok.Encode("Cannot open file 7 无法打开文件");
            Assert.Equal("Cannot open file 7 无法打开文件", tok.Decode(ids));
            // A special token's text typed by a user stays text.
            Assert.DoesNotContain(tok.EosId!.Value, tok.Encode("<|eos|>"));
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
            var tok = TokenizerAdapter.Load(tokPath);
            var model = GlmModel.Create(TinyModels.Llama(vocab: tok.VocabSize), seed: 2);
            string modelDir = Path.Combine(dir, "model");
            ModelDirectory.Save(model, modelDir, tokPath);
            var r = LightGlm.Tests.Evaluation.CliProcess.Run(null, "generate", "--model", modelDir, "--max-new", "4", "--prompt", "Cannot open");
            Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
            Assert.StartsWith("Cannot open", r.Stdout.Trim());
        }
        finally { Directory.Delete(dir, true); }
    }
}
