// teacher.fuzzy on the tiny preset (shrunk): the teacher stage finds its training matches once (cached in the run
// directory), trains on prompts that carry them, and its model directory says so — so translate and eval with --memory
// give it fuzzy prompts on their own (and not with --fuzzy off), counting exact and fuzzy hits.
using System.Text.Json;
using LightGlm.Experiments;
using LightGlm.Experiments.Recipes;
using LightGlm.Experiments.Stages;
using LightGlm.Model.Checkpoints;
using LightGlm.Tests.Evaluation;
using LightGlm.Text.Tokenizers;
using LightGlm.Translation;

namespace LightGlm.Tests.Experiments;

[Collection(nameof(ThreadSettingsOwners))]
public class FuzzyTeacherTests
{
    const int SeqLen = 128, MaxNew = 4;

    static Recipe TinyRecipe() => Recipe.Load("tiny")
        .With("corpus.max_train_pairs", "0").With("corpus.mono_lines", "400").With("tokenizer.vocab_size", "400")
        .With("teacher.hidden_size", "32").With("teacher.num_hidden_layers", "2").With("teacher.num_attention_heads", "2")
        .With("teacher.num_key_value_heads", "1").With("teacher.intermediate_size", "64").With("teacher.train_steps", "4")
        .With("teacher.checkpoint_every", "0").With("teacher.curve_pairs", "0").With("teacher.seq_len", SeqLen.ToString())
        .With("teacher.fuzzy", "1").With("teacher.fuzzy_threshold", "0.5");

    [Fact]
    public void AFuzzyTeacherRecordsItAndTranslateAndEvalGiveItFuzzyPrompts()
    {
        string root = Path.Combine(Path.GetTempPath(), $"fuzzy-teacher-{Guid.NewGuid():N}");
        try
        {
            var run = new RunDirectory(root);
            new RecipeRunner([new TeacherPretrainingTests.CatalogCorpusStage(mono: false), new TokenizerStage(), new TeacherStage()])
                .Run(TinyRecipe(), run, _ => NullProgress.Instance, default);
            var result = run.StageResult("teacher")!;
            string teacher = (string)result["model"]!;
            Assert.Equal(new PromptFormat(FuzzyMatches: true, FuzzyThreshold: 0.5, FuzzyFraction: 1, SeqLen: SeqLen), PromptFormat.Load(teacher));
            Assert.True(File.Exists(run.PathOf("teacher-fuzzy.tsv")));
            int withMatch = (int)result["fuzzy"]!["with_match"]!;
            Assert.InRange(withMatch, 1, (int)result["examples"]!);

            // A test set near the training pairs: two stored pairs (exact hits), six with one word or character added
            // (fuzzy candidates), one unlike anything.
            string corpus = run.PathOf("corpus");
            var train = ParallelTsv.Read(Path.Combine(corpus, "train.tsv"));
            var test = train.Take(2).Concat(train.Skip(2).Take(6).Select(p => (p.English + " again", p.Chinese + "了"))).Append(("qzx vvw", "齉齾")).ToList();
            string testFile = Path.Combine(root, "near.tsv");
            File.WriteAllLines(testFile, test.Select(p => $"{p.Item1}\t{p.Item2}"));
            string trainFile = Path.Combine(corpus, "train.tsv");

            // What the hits must be: exact lookups, then a match found and fitting the prompt (TaskFormat.MatchFits at the trained seq_len).
            var tm = new TranslationMemory(train);
            var tok = HfTokenizer.Create(Path.Combine(teacher, ModelDirectory.TokenizerFile));
            (int Exact, int Fuzzy) Expected(Direction d)
            {
                int exact = 0, fuzzy = 0;
                foreach (var (en, zh) in test)
                {
                    string src = d == Direction.EnToZh ? en : zh;
                    if (tm.Lookup(src, d) is not null) { exact++; continue; }
                    if (tm.Fuzzy(src, d, 0.5) is not { } m) continue;
                    int s = tok.EncodeText(src).Length, n = tok.EncodeText(m.Target).Length;
                    if (TaskFormat.MatchFits(s, n, n, SeqLen) && s + n + 1 <= 256 - 3 - MaxNew) fuzzy++;
                }
                return (exact, fuzzy);
            }

            string[] eval = ["eval", "--model", teacher, "--test", testFile, "--memory", trainFile, "--max-new-tokens", MaxNew.ToString(), "--batch", "4", "--json"];
            var on = CliProcess.Run(null, eval);
            Assert.True(on.ExitCode == 0, on.Stderr);
            var j = JsonDocument.Parse(on.Stdout).RootElement;
            foreach (var d in Directions.Both)
            {
                var (exact, fuzzy) = Expected(d);
                Assert.Equal(2, exact);
                Assert.True(fuzzy > 0, $"{d.Name()}: no test text has a fitting fuzzy match: the test would not test fuzzy prompts");
                Assert.Equal(exact, j.GetProperty(d.Name()).GetProperty("memory_hits").GetInt32());
                Assert.Equal(fuzzy, j.GetProperty(d.Name()).GetProperty("fuzzy_hits").GetInt32());
            }
            var off = CliProcess.Run(null, [.. eval, "--fuzzy", "off"]);
            Assert.True(off.ExitCode == 0, off.Stderr);
            var jo = JsonDocument.Parse(off.Stdout).RootElement.GetProperty("en-zh");
            Assert.Equal(2, jo.GetProperty("memory_hits").GetInt32());
            Assert.Equal(JsonValueKind.Null, jo.GetProperty("fuzzy_hits").ValueKind);

            string inputs = string.Join("\n", test.Select(p => p.Item1)) + "\n";
            var tr = CliProcess.Run(inputs, "translate", "--model", teacher, "--to", "zh", "--memory", trainFile, "--max-new-tokens", MaxNew.ToString());
            Assert.True(tr.ExitCode == 0, tr.Stderr);
            Assert.Contains($"2 of {test.Count} text(s) from the translation memory", tr.Stderr);
            Assert.Contains($", {Expected(Direction.EnToZh).Fuzzy} translated with a fuzzy match", tr.Stderr);
            Assert.Equal(tm.Lookup(test[0].Item1, Direction.EnToZh)!.Target, tr.Stdout.Split('\n')[0]); // an exact hit prints the stored translation

            // --fuzzy on needs a memory; a bad prompt_format.json is a usage error naming the file.
            var noMemory = CliProcess.Run(null, "translate", "--model", teacher, "--fuzzy", "on", "x");
            Assert.Equal(2, noMemory.ExitCode);
            Assert.Contains("--memory", noMemory.Stderr);
            File.WriteAllText(Path.Combine(teacher, ModelDirectory.PromptFormatFile), "{");
            var bad = CliProcess.Run(null, "translate", "--model", teacher, "--memory", trainFile, "x");
            Assert.Equal(2, bad.ExitCode);
            Assert.Contains(ModelDirectory.PromptFormatFile, bad.Stderr);
        }
        finally { if (Directory.Exists(root)) Directory.Delete(root, true); }
    }
}
