// D_s / D_d from one corpus share no string; `lightglm finetune --hybrid` trains a real model directory end to end.
using LightGlm.Cli;
using LightGlm.Model.Checkpoints;
using LightGlm.Text.Tokenizers;
using LightGlm.Training.Hybrid;
using LightGlm.Translation;

namespace LightGlm.Tests.Training.Hybrid;

public class HybridDataAndFinetuneTests
{
    static readonly string[] Words = ["file", "directory", "permission", "denied", "cannot", "open", "create", "remove", "disk", "full", "error", "warning", "option", "invalid"];
    static readonly string[] Zh = ["文件", "目录", "权限", "拒绝", "无法", "打开", "创建", "删除", "磁盘", "已满", "错误", "警告", "选项", "无效"];

    /// <summary>Synthetic word-by-word "translations": enough structure for a loss to fall, fast to tokenize.</summary>
    internal static List<(string English, string Chinese)> Pairs(int n, int seed)
    {
        var rng = new Random(seed);
        var list = new List<(string, string)>();
        for (int i = 0; i < n; i++)
        {
            var idx = Enumerable.Range(0, 2 + rng.Next(3)).Select(_ => rng.Next(Words.Length)).ToArray();
            list.Add((string.Join(' ', idx.Select(j => Words[j])) + $" {i}", string.Concat(idx.Select(j => Zh[j])) + $" {i}"));
        }
        return list;
    }

    static ITokenizer Tokenizer(string path, IEnumerable<(string English, string Chinese)> pairs)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using (var fs = File.Create(path))
            BpeTrainer.Train(pairs.SelectMany(p => new[] { p.English, p.Chinese }), new BpeTrainerOptions { VocabSize = 320 }, fs);
        return HfTokenizer.Create(path);
    }

    [Fact]
    public void SplitKeepsTheSetsDisjointAndTheTargetSideSmall()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"hybrid-split-{Guid.NewGuid():N}");
        try
        {
            var pairs = Pairs(420, 1);
            var tok = Tokenizer(Path.Combine(dir, "tokenizer.json"), pairs);
            var sets = HybridData.Split(pairs, tok, 48, Direction.EnToZh, Direction.ZhToEn, 0.05);
            Assert.Equal(20, sets.TargetPairs.Count); // round(420 · 0.05 / 1.05)
            Assert.Equal(400, sets.SourcePairs.Count);
            Assert.Empty(sets.SourcePairs.Select(p => p.English).Intersect(sets.TargetPairs.Select(p => p.English)));
            Assert.All(sets.Source, e => Assert.Equal(Direction.EnToZh, e.Direction));
            Assert.All(sets.Target, e => Assert.Equal(Direction.ZhToEn, e.Direction));
            var again = HybridData.Split(pairs.AsEnumerable().Reverse().ToList(), tok, 48, Direction.EnToZh, Direction.ZhToEn, 0.05);
            Assert.Equal(sets.TargetPairs.OrderBy(p => p.English), again.TargetPairs.OrderBy(p => p.English)); // not the file order
            Assert.Throws<ArgumentException>(() => HybridData.Split(pairs, tok, 48, Direction.EnToZh, Direction.EnToZh, 0.05));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void FinetuneHybridCommandTrainsAndSavesAModel()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"hybrid-ft-{Guid.NewGuid():N}");
        try
        {
            var pairs = Pairs(300, 2);
            var tok = Tokenizer(Path.Combine(dir, "tok", "tokenizer.json"), pairs);
            var sp = LightGlm.Text.Tokenizers.SpecialTokens.From(tok);
            var model = LightGlm.Model.GlmModel.Create(new LightGlm.Model.ModelConfig
            {
                ModelType = "chatglm", VocabSize = tok.VocabSize, HiddenSize = 32, NumHiddenLayers = 1, NumAttentionHeads = 4, NumKeyValueHeads = 2,
                IntermediateSize = 64, PartialRotaryFactor = 0.5, RopeInterleaved = true, AttentionBias = true, PrefixLm = true,
                MaxPositionEmbeddings = 64, BosTokenId = sp.Bos, EosTokenId = sp.Eos, PadTokenId = sp.Pad,
            }, seed: 5);
            ModelDirectory.Save(model, Path.Combine(dir, "base"), Path.Combine(dir, "tok", "tokenizer.json"));
            File.WriteAllLines(Path.Combine(dir, "train.tsv"), pairs.Select(p => $"{p.English}\t{p.Chinese}"));
            File.WriteAllLines(Path.Combine(dir, "dev.tsv"), Pairs(40, 3).Select(p => $"{p.English}\t{p.Chinese}"));
            string[] args = ["finetune", "--model", Path.Combine(dir, "base"), "--data", Path.Combine(dir, "train.tsv"), "--out", Path.Combine(dir, "ft"),
                "--hybrid", "--alpha", "0.65", "--weighting", "loss_share", "--dev", Path.Combine(dir, "dev.tsv"), "--steps", "30", "--batch", "8",
                "--seq-len", "48", "--lr", "3e-3", "--valid-every", "15", "--log", Path.Combine(dir, "log.jsonl")];
            Assert.Equal(0, CliHost.Run(args));
            var tuned = ModelDirectory.Load(Path.Combine(dir, "ft"));
            Assert.NotEqual(model.Weights, tuned.Weights);
            Assert.True(File.Exists(Path.Combine(dir, "ft", "tokenizer.json")));
            var dev = File.ReadAllLines(Path.Combine(dir, "log.jsonl")).Select(l => System.Text.Json.Nodes.JsonNode.Parse(l)!)
                .Where(n => n["dev_loss"] is not null).Select(n => (double)n["dev_loss"]!).ToList();
            Assert.Equal(2, dev.Count); // steps 15 and 30
            // The log goes through the one metrics writer: its loss chart is drawn beside it (at the end at the latest).
            Assert.True(File.Exists(Path.Combine(dir, "loss.svg")) && File.Exists(Path.Combine(dir, "loss.png")), "no loss chart beside the log");
            // Bad input: exit 2 with a message.
            Assert.Equal(2, CliHost.Run([.. args.Take(7), "--hybrid", "--weighting", "both"]));
            Assert.Equal(2, CliHost.Run([.. args.Take(7), "--hybrid", "--target-fraction", "0"]));
            Assert.Equal(2, CliHost.Run([.. args.Take(2), Path.Combine(dir, "nothing"), .. args.Skip(3).Take(4)])); // no model there
        }
        finally { Directory.Delete(dir, true); }
    }
}
