// Stage: a byte-level BPE tokenizer trained on both sides of the training pairs (and some monolingual
// text), written as Hugging Face tokenizer.json with the translation task's special tokens.
using System.Diagnostics;
using System.Text.Json.Nodes;
using LightGlm.IO;
using LightGlm.Text.Tokenizers;
using LightGlm.Translation;

namespace LightGlm.Experiments.Stages;

public sealed class TokenizerStage : IRecipeStage
{
    public string Name => "tokenizer";
    public string Description => "train the byte-level BPE tokenizer on the corpus";

    public JsonObject Run(StageContext c)
    {
        var pairs = RunArtifacts.Pairs(c, "train");
        var texts = pairs.SelectMany(p => new[] { p.English, p.Chinese }).ToList();
        int mono = c.Settings.Corpus.MonoLines;
        foreach (var path in RunArtifacts.Corpus(c).Monolingual)
            texts.AddRange(File.ReadLines(path).Where(l => l.Length > 0).Take(mono / 2));
        string outPath = c.Run.PathOf("tokenizer", "tokenizer.json");
        Directory.CreateDirectory(Path.GetDirectoryName(outPath)!);
        var sw = Stopwatch.StartNew();
        c.Progress.Report(0.1, $"training on {texts.Count:N0} texts");
        AtomicFile.Write(outPath, fs => BpeTrainer.Train(texts, new BpeTrainerOptions { VocabSize = c.Settings.Tokenizer.VocabSize }, fs));
        double seconds = sw.Elapsed.TotalSeconds;
        var tok = HfTokenizer.Create(outPath);
        LightGlm.Text.Tokenizers.SpecialTokens.From(tok); // every special token the task needs is there
        double tokensPerPair = pairs.Take(2000).Average(p => tok.EncodeText(p.English).Length + tok.EncodeText(p.Chinese).Length);
        c.Progress.Report(1, $"{tok.VocabSize} tokens in {seconds:F1}s");
        return StageJson.ToJson(new TokenizerResult
        {
            Path = outPath, VocabSize = tok.VocabSize, TrainSeconds = Math.Round(seconds, 2),
            Texts = texts.Count, TokensPerPair = Math.Round(tokensPerPair, 2),
        });
    }
}
