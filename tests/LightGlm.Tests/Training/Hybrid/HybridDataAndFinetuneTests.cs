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

    /// <summary>A tiny GLM with its BPE tokenizer in DIR/base, train.tsv (300 pairs) and dev.tsv (40) beside it.</summary>
    static LightGlm.Model.GlmModel BaseModel(string dir)
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
        return model;
    }

    [Fact]
    public void FinetuneHybridCommandTrainsAndSavesAModel()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"hybrid-ft-{Guid.NewGuid():N}");
        try
        {
            var model = BaseModel(dir);
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

    /// <summary>`finetune --lora-rank` on attention only: the output is an ordinary model directory that differs from the base
    /// exactly in the adapted maps (q|k|v and o_proj: merged W + (α/r)·B·A) and nowhere else; the adapters alone are written
    /// as a PEFT adapter directory.</summary>
    [Fact]
    public void FinetuneLoraCommandWritesTheMergedModelAndTheAdapters()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"lora-ft-{Guid.NewGuid():N}");
        try
        {
            var model = BaseModel(dir);
            string[] args = ["finetune", "--model", Path.Combine(dir, "base"), "--data", Path.Combine(dir, "train.tsv"), "--out", Path.Combine(dir, "ft"),
                "--hybrid", "--steps", "12", "--batch", "8", "--seq-len", "48", "--lr", "1e-2", "--warmup", "0",
                "--lora-rank", "4", "--lora-targets", "attention", "--lora-save-adapters", Path.Combine(dir, "adapters")];
            Assert.Equal(0, CliHost.Run(args));
            var tuned = ModelDirectory.Load(Path.Combine(dir, "ft"));
            Assert.Null(tuned.Lora);
            foreach (var t in model.Layout.Tensors)
            {
                bool adapted = t.Name.Contains("self_attn.", StringComparison.Ordinal) && t.Name.EndsWith("_proj.weight", StringComparison.Ordinal);
                var before = model.Weights.AsSpan(t.Offset, t.Length).ToArray();
                var after = tuned.Weights.AsSpan(t.Offset, t.Length).ToArray();
                if (adapted) Assert.True(!before.SequenceEqual(after), $"{t.Name}: the merged adapter did not change it");
                else Assert.True(before.SequenceEqual(after), $"{t.Name}: changed, but LoRA on attention must leave it frozen");
            }
            var cfg = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "adapters", "adapter_config.json")))!;
            Assert.Equal(4, (int)cfg["r"]!);
            Assert.Equal(4.0, (double)cfg["lora_alpha"]!);
            Assert.Equal(["qkv_proj", "o_proj"], cfg["target_modules"]!.AsArray().Select(n => (string)n!).ToArray());
            using (var f = new SafeTensorsFile(Path.Combine(dir, "adapters", "adapter_model.safetensors")))
            {
                Assert.Equal(2 * 2, f.Tensors.Count); // A and B of qkv and of o, one layer
                Assert.Equal([4L, 32L], f.Tensors["base_model.model.model.layers.0.self_attn.qkv_proj.lora_A.weight"].Shape);
                Assert.Equal([32L, 4L], f.Tensors["base_model.model.model.layers.0.self_attn.o_proj.lora_B.weight"].Shape);
            }
            // Bad LoRA options: exit 2 with a message, before anything is trained.
            Assert.Equal(2, CliHost.Run([.. args.Take(7), "--lora-rank", "-1"]));
            Assert.Equal(2, CliHost.Run([.. args.Take(7), "--lora-rank", "2", "--lora-targets", "embeddings"]));
            Assert.Equal(2, CliHost.Run([.. args.Take(7), "--lora-alpha", "8"])); // α without a rank
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>`finetune --dry-run` on a ChatGLM2-6B config.json alone (no weights, no tokenizer, no data): full and LoRA
    /// side by side, with the base as stored (bf16) in a third column.</summary>
    [Fact]
    public void FinetuneDryRunPrintsFullAndLoraMemoryOfA6BConfig()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"lora-dry-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(dir);
            var (c, hf) = LightGlm.Interop.SyntheticCheckpoint.Shape("chatglm2-6b");
            File.WriteAllText(Path.Combine(dir, "config.json"), LightGlm.Interop.ConfigTranslation.ToHf(hf, c, TensorDType.BF16).ToJsonString());
            var r = LightGlm.Tests.Evaluation.CliProcess.Run(null, "finetune", "--model", dir, "--dry-run", "--lora-rank", "8", "--batch", "1", "--seq-len", "512");
            Assert.True(r.ExitCode == 0, r.Stderr);
            foreach (var part in new[] { "full fine-tune", "LoRA r=8", "LoRA r=8, bfloat16 base", "14,823,424 trained parameters", "6,243,584,000 parameters",
                                         "adapter weights", "AdamW moments m, v", "activations", "fits in 24 GiB", "cannot run this fine-tune itself" })
                Assert.Contains(part, r.Stdout);
            var noRank = LightGlm.Tests.Evaluation.CliProcess.Run(null, "finetune", "--model", dir, "--dry-run");
            Assert.True(noRank.ExitCode == 0, noRank.Stderr);
            Assert.Contains("the usual 8", noRank.Stdout);
            Assert.Equal(2, LightGlm.Tests.Evaluation.CliProcess.Run(null, "finetune", "--model", Path.Combine(dir, "none"), "--dry-run").ExitCode);
        }
        finally { Directory.Delete(dir, true); }
    }
}
