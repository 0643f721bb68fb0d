// Translation memory: exact (whitespace/case-normalised) lookups, the established translation wins, misses go to the model.
using LightGlm.Model;
using LightGlm.Tests.Model;
using LightGlm.Text.Tokenizers;
using LightGlm.Translation;

namespace LightGlm.Tests.Translation;

public class TranslationMemoryTests
{
    static readonly (string, string)[] Pairs =
    [
        ("Cancel", "取消"), ("Open File", "打开文件"), ("cancel", "撤销"), ("Cancel", "取消"), ("Permission denied", "权限不够"),
    ];

    [Fact]
    public void ExactLookupIgnoresWhitespaceAndEnglishCaseAndKeepsTheMostFrequentTranslation()
    {
        var tm = new TranslationMemory(Pairs);
        Assert.Equal(5, tm.Count);
        Assert.Equal("取消", tm.Lookup("  CANCEL ", Direction.EnToZh)!.Target); // 2 × 取消 beat 1 × 撤销
        Assert.Equal("打开文件", tm.Lookup("Open   File", Direction.EnToZh)!.Target);
        Assert.Equal("Open File", tm.Lookup("打开文件", Direction.ZhToEn)!.Target);
        Assert.Null(tm.Lookup("Open Files", Direction.EnToZh));
        Assert.Null(tm.Lookup("取消", Direction.EnToZh)); // directions are separate
    }

    [Fact]
    public void HitsComeFromTheMemoryAndMissesFromTheModelInInputOrder()
    {
        var c = TinyModels.Glm(vocab: ByteTokenizer.Instance.VocabSize);
        var model = GlmModel.Create(c, seed: 3);
        var translator = new GlmTranslator(model, ByteTokenizer.Instance, maxBatch: 4, maxLength: 64);
        var tm = new TranslationMemory(Pairs);
        var texts = new[] { "Disk full", "Cancel", "permission denied" };
        var answer = tm.Translate(translator, texts, Direction.EnToZh, maxNewTokens: 4);
        var results = answer.Results;
        Assert.Equal(2, answer.ExactHits);
        Assert.Equal([MemoryUse.Model, MemoryUse.Exact, MemoryUse.Exact], answer.Uses);
        Assert.Equal("取消", results[1].Text);
        Assert.Equal("权限不够", results[2].Text);
        var alone = translator.Translate(["Disk full"], Direction.EnToZh, 4)[0];
        Assert.Equal(alone.Ids, results[0].Ids); // the miss is the model's own answer
    }

    [Fact]
    public void AMissingOrEmptyMemoryFileIsNamed()
    {
        var e = Assert.Throws<FileNotFoundException>(() => TranslationMemory.Load("/nonexistent/tm.tsv"));
        Assert.Contains("/nonexistent/tm.tsv", e.Message);
        string f = Path.GetTempFileName();
        try
        {
            File.WriteAllText(f, "");
            var e2 = Assert.Throws<InvalidDataException>(() => TranslationMemory.Load(f));
            Assert.Contains(f, e2.Message);
        }
        finally { File.Delete(f); }
    }
}
