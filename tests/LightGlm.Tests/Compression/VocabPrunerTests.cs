// Vocabulary pruning: the pruned model's logits over kept tokens equal the original's on domain text; ids remap consistently.
using System.Text.Json.Nodes;
using LightGlm.Compression;
using LightGlm.Compression.Importance;
using LightGlm.Compression.Pruning;
using LightGlm.Model.Checkpoints;
using LightGlm.Text.Tokenizers;

namespace LightGlm.Tests.Compression;

public class VocabPrunerTests
{
    static readonly string[] Training =
    [
        "The quick brown fox jumps over the lazy dog.", "Print the version number and exit.",
        "显示版本信息并退出。", "Display this help and exit.", "output version information and exit",
        "Usage: ls [OPTION]... [FILE]...", "List information about the FILEs (the current directory by default).",
        "Sort entries alphabetically if none of -cftuvSUX nor --sort is specified.", "不要列出隐含的条目。",
        "Mandatory arguments to long options are mandatory for short options too.", "the the the then there their",
    ];
    static readonly string[] Domain = ["Print the version number and exit.", "显示版本信息并退出。", "Display this help and exit."];

    [Fact]
    public void LogitsOverKeptTokensEqualTheOriginalsOnDomainText()
    {
        var dir = TinyTeacher.TempDir();
        try
        {
            string src = Path.Combine(dir, "m"), dst = Path.Combine(dir, "p"), tokDir = Path.Combine(dir, "tok");
            Directory.CreateDirectory(tokDir);
            using (var fs = File.Create(Path.Combine(tokDir, "tokenizer.json")))
                BpeTrainer.Train(Training, new BpeTrainerOptions { VocabSize = 420, MinFrequency = 1 }, fs);
            var tok = HfTokenizer.Create(Path.Combine(tokDir, "tokenizer.json"));
            var teacher = TinyTeacher.Create(glm: true, seed: 7, V: tok.VocabSize + 3); // padded vocab: 3 ids no text produces
            teacher.Config.EosTokenId = 2;
            teacher.Save(src, tokDir); // (a model directory is written whole: its tokenizer comes with it)

            var plan = VocabPruner.Run(src, Domain, dst);
            var pruned = ModelFiles.Load(dst);
            var ptok = HfTokenizer.Create(Path.Combine(dst, "tokenizer.json"));
            Assert.Equal(plan.Kept.Length, pruned.Config.V);
            Assert.Equal(plan.Kept.Length, ptok.VocabSize);
            Assert.True(plan.Kept.Length < teacher.Config.V - 50, $"kept {plan.Kept.Length} of {teacher.Config.V}");
            Assert.Equal(2, pruned.Config.EosTokenId); // specials keep their (low) ids
            Assert.DoesNotContain(tok.VocabSize, plan.Kept); // padding rows are dropped

            var map = plan.NewIds();
            foreach (var text in Domain)
            {
                var oldIds = tok.Encode(text);
                var newIds = ptok.Encode(text);
                Assert.Equal(oldIds.Select(i => map[i]), newIds); // same segmentation, renumbered
                Assert.Equal(text, ptok.Decode(newIds));
                var a = TinyTeacher.Logits(teacher, oldIds);
                var b = TinyTeacher.Logits(pruned, newIds);
                for (int t = 0; t < oldIds.Length; t++)
                    for (int j = 0; j < plan.Kept.Length; j++)
                        Assert.Equal(a[t * teacher.Config.V + plan.Kept[j]], b[t * pruned.Config.V + j]);
            }
            // Text outside the domain still encodes (byte tokens are kept) and decodes back.
            const string other = "Sort entries alphabetically — 不要列出";
            Assert.Equal(other, ptok.Decode(ptok.Encode(other)));
            ModelDirectory.Load(dst); // a normal model for the engine
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void TokenizerThatDoesNotFitTheModelIsRefused()
    {
        var tok = JsonNode.Parse("""{"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":5},"merges":["a b"]},"added_tokens":[]}""")!.AsObject();
        var e = Assert.Throws<InvalidDataException>(() => VocabPruner.Plan(tok, new long[6], 4, []));
        Assert.Contains("vocab_size is 4", e.Message);
        var plan = VocabPruner.Plan(tok, [0, 0, 0, 0, 0, 3], 6, []);
        Assert.Equal([0, 1, 5], plan.Kept); // "ab" used: its parts a, b kept with it
        var remapped = VocabPruner.RemapTokenizer(tok, plan);
        Assert.Equal(2, remapped["model"]!["vocab"]!["ab"]!.GetValue<int>());
        Assert.Single(remapped["model"]!["merges"]!.AsArray());
    }
}

[Collection(nameof(LightGlm.Tests.Reliability.ConsoleOwners))]
public class VocabPruneBenchTests
{
    [Fact]
    public void TheBenchPrunesQwen3sVocabularyToTheDomainAndChecksTheLogits()
    {
        var dir = TinyTeacher.TempDir();
        var (stdout, stderr) = (Console.Out, Console.Error);
        try
        {
            string tsv = Path.Combine(dir, "domain.tsv");
            File.WriteAllLines(tsv, ["Print the version number and exit.\t显示版本信息并退出。", "cannot open file %s\t无法打开文件 %s"]);
            var outW = new StringWriter();
            Console.SetOut(outW);
            Console.SetError(new StringWriter());
            int rc = LightGlm.Cli.CliHost.Run(["bench", "vocab-prune", "--tokenizer", Text.TextTestData.File("qwen3.tokenizer.json.gz"), "--corpus", tsv,
                "--hidden", "16", "--layers", "1", "--heads", "2", "--kv-heads", "1", "--head-dim", "8", "--ffn", "24", "--tokens", "3", "--reps", "1"]);
            string text = outW.ToString();
            Assert.True(rc == 0, text);
            // 4 texts use a few dozen of Qwen3's 151,669 tokens; bytes, specials and merge ancestors are kept besides.
            var m = System.Text.RegularExpressions.Regex.Match(text, @"vocabulary 151,669 -> ([\d,]+) \(([\d,]+) used");
            Assert.True(m.Success, text);
            int kept = int.Parse(m.Groups[1].Value.Replace(",", "")), used = int.Parse(m.Groups[2].Value.Replace(",", ""));
            Assert.InRange(used, 10, 60);
            Assert.InRange(kept, 257, 5000);
            // The same rows of the same head, multiplied by BLAS in blocks of another size: equal to rounding.
            var diff = System.Text.RegularExpressions.Regex.Match(text, @"max \|difference\| ([0-9.E+-]+)");
            Assert.True(diff.Success, text);
            Assert.InRange(double.Parse(diff.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 0, 1e-5);
            Assert.Contains("| vocabulary pruned | " + kept.ToString("N0"), text);
        }
        finally
        {
            Console.SetOut(stdout);
            Console.SetError(stderr);
            Directory.Delete(dir, true);
        }
    }
}
