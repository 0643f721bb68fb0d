// `lightglm tokenizer train` end to end: by default it writes into the cache, never into the working directory.
using LightGlm.Tests.Evaluation;

namespace LightGlm.Tests.Text.Tokenizers;

public sealed class TokenizerTrainCommandTests
{
    [Fact]
    public void DefaultOutputIsTheCacheNotTheWorkingDirectory()
    {
        var root = Directory.CreateTempSubdirectory("lightglm-toktrain-").FullName;
        try
        {
            string corpus = Directory.CreateDirectory(Path.Combine(root, "corpus")).FullName;
            string cwd = Directory.CreateDirectory(Path.Combine(root, "cwd")).FullName, cache = Path.Combine(root, "cache");
            File.WriteAllLines(Path.Combine(corpus, "train.tsv"), Enumerable.Range(0, 50).Select(i => $"Cannot open file {i}\t无法打开文件 {i}"));
            var env = new Dictionary<string, string> { ["LIGHTGLM_CACHE"] = cache };
            var r = CliProcess.Run(TimeSpan.FromMinutes(3), null, cwd, env, "tokenizer", "train", "--corpus", corpus, "--vocab-size", "300");
            Assert.True(r.ExitCode == 0, r.Stderr);
            Assert.Empty(Directory.EnumerateFileSystemEntries(cwd));
            string expected = Path.Combine(cache, "tokenizer", "tokenizer.json");
            Assert.True(File.Exists(expected), r.Stdout);
            Assert.Contains(expected, r.Stdout); // the user is told where it went

            // --output still goes where it is told, creating the folder.
            string chosen = Path.Combine(root, "out", "mine.json");
            Assert.Equal(0, CliProcess.Run(TimeSpan.FromMinutes(3), null, cwd, env, "tokenizer", "train", "--corpus", corpus, "--vocab-size", "300", "-o", chosen).ExitCode);
            Assert.True(File.Exists(chosen));
            Assert.Empty(Directory.EnumerateFileSystemEntries(cwd));
        }
        finally { Directory.Delete(root, true); }
    }
}
