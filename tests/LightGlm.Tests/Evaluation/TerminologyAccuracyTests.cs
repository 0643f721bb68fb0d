// Terminology accuracy: counts only terms present in source and reference; English on word boundaries.
using LightGlm.Evaluation.Metrics;

namespace LightGlm.Tests.Evaluation;

public sealed class TerminologyAccuracyTests
{
    static readonly Glossary G = new([new("file", "文件"), new("directory", "目录"), new("permission", "权限")]);

    [Fact]
    public void EnToZhCountsTermsInSourceAndReference()
    {
        string[] src = ["Cannot open file: permission denied", "Directory not found", "Profile saved"];
        string[] refs = ["无法打开文件：权限不足", "找不到目录", "配置已保存"];
        string[] hyps = ["无法打开文件：拒绝访问", "目录未找到", "文件已保存"];
        var r = TerminologyAccuracy.Compute(G, englishToChinese: true, src, hyps, refs);
        // file ✓, permission ✗, directory ✓ ("Profile" must not match "file").
        Assert.Equal(new TermAccuracyResult(2, 3), r);
        Assert.Equal(2.0 / 3, r.Accuracy, 12);
    }

    [Fact]
    public void ZhToEnMatchesEnglishCaseInsensitively()
    {
        var r = TerminologyAccuracy.Compute(G, englishToChinese: false, ["无法打开文件"], ["Cannot open FILE"], ["Cannot open file"]);
        Assert.Equal(new TermAccuracyResult(1, 1), r);
        var miss = TerminologyAccuracy.Compute(G, false, ["无法打开文件"], ["Cannot open files"], ["Cannot open file"]);
        Assert.Equal(new TermAccuracyResult(0, 1), miss);
    }

    [Fact]
    public void NoTermsGivesNaN() =>
        Assert.True(double.IsNaN(TerminologyAccuracy.Compute(G, true, ["hello"], ["你好"], ["你好"]).Accuracy));

    [Fact]
    public void BadGlossaryLineIsNamed()
    {
        var f = Path.GetTempFileName();
        try
        {
            File.WriteAllText(f, "# terms\nfile\t文件\nbroken line\n");
            var e = Assert.Throws<InvalidDataException>(() => Glossary.Load(f));
            Assert.Contains(":3:", e.Message);
        }
        finally { File.Delete(f); }
    }

    [Fact]
    public void TheCorpusGlossaryHeaderIsNotATerm()
    {
        var f = Path.GetTempFileName();
        try
        {
            File.WriteAllText(f, "english\tchinese\tpackages\tagreement\nError\t错误\t8\t1\n");
            Assert.Equal([new GlossaryTerm("Error", "错误")], Glossary.Load(f).Terms);
        }
        finally { File.Delete(f); }
    }
}
