using System.Text;
using LightGlm.Tests.Text;
using LightGlm.Text.Gettext;
using Xunit.Abstractions;

namespace LightGlm.Tests.Reliability;

/// <summary>Thousands of mutated real catalogs (a Debian .mo and a .po): clear errors, no crash or hang.</summary>
public class GettextFuzzTests(ITestOutputHelper output)
{
    [Fact]
    public void MutatedMoFilesFailCleanly()
    {
        byte[] valid = File.ReadAllBytes(TextTestData.File("real-m4.zh_CN.mo"));
        var outcome = Mutator.Run(valid, cases: 3000, seed: 21, bytes => MoReader.Parse(bytes, "fuzz.mo"),
            [typeof(InvalidDataException)]);
        output.WriteLine($".mo fuzz: {outcome.Cases} cases, {outcome.Accepted} accepted, {outcome.Rejected} rejected");
        Assert.True(outcome.Rejected > outcome.Cases / 10, $"only {outcome.Rejected} rejected");
    }

    [Fact]
    public void MutatedPoFilesFailCleanly()
    {
        byte[] valid = File.ReadAllBytes(TextTestData.File("sample.zh_CN.po"));
        var outcome = Mutator.Run(valid, cases: 3000, seed: 23, bytes => PoReader.Read(new MemoryStream(bytes), "fuzz.po"),
            [typeof(InvalidDataException), typeof(DecoderFallbackException)]);
        output.WriteLine($".po fuzz: {outcome.Cases} cases, {outcome.Accepted} accepted, {outcome.Rejected} rejected");
        Assert.True(outcome.Rejected > outcome.Cases / 10, $"only {outcome.Rejected} rejected");
    }
}
