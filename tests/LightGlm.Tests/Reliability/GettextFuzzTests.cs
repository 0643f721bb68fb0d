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

    /// <summary>
    /// Duplicates made from a real catalog (issue 18, class 3): a random message repeated (with or without its
    /// msgctxt, translated or not) must be refused by translate --po naming the line, before any translation; the same
    /// message under another msgctxt or obsolete is not a duplicate.
    /// </summary>
    [Fact]
    public void PoFilesWithDuplicatedMessagesAreRefusedByTheFiller()
    {
        string po = TextTestData.File("sample.zh_CN.po");
        var catalog = PoReader.Read(new MemoryStream(File.ReadAllBytes(po)), po);
        var messages = catalog.Messages.ToList();
        string dir = Directory.CreateTempSubdirectory("lightglm-podupfuzz-").FullName;
        int refused = 0, accepted = 0;
        try
        {
            var rng = new Random(47);
            for (int c = 0; c < 300; c++)
            {
                var m = messages[rng.Next(messages.Count)];
                int kind = rng.Next(3);
                string ctx = kind == 1 ? "msgctxt \"other-context\"\n" : m.Context is null ? "" : $"msgctxt {Quote(m.Context)}\n";
                string entry = kind == 2 ? $"#~ msgid {Quote(m.Id)}\n#~ msgstr \"x\"\n" : $"{ctx}msgid {Quote(m.Id)}\nmsgstr \"\"\n";
                if (m.IsPlural && kind != 2) entry = $"{ctx}msgid {Quote(m.Id)}\nmsgid_plural {Quote(m.IdPlural!)}\nmsgstr[0] \"\"\n";
                string path = Path.Combine(dir, $"c{c}.po");
                File.WriteAllText(path, File.ReadAllText(po).TrimEnd() + "\n\n" + entry);
                bool duplicate = kind == 0 || kind == 1 && m.Context == "other-context";
                try
                {
                    LightGlm.Translation.PoFiller.Fill(path, path, xs => xs);
                    Assert.False(duplicate, $"case {c}: a duplicate of {m.Id} was accepted");
                    accepted++;
                }
                catch (InvalidDataException e)
                {
                    Assert.True(duplicate, $"case {c}: refused: {e.Message}");
                    Assert.Contains("duplicate message definition", e.Message);
                    refused++;
                }
            }
            output.WriteLine($".po duplicate fuzz: 300 cases, {refused} duplicates refused, {accepted} accepted (other context or obsolete), 0 silently accepted");
            Assert.True(refused > 50 && accepted > 50, $"{refused} refused, {accepted} accepted");
        }
        finally { Directory.Delete(dir, true); }
    }

    static string Quote(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n").Replace("\t", "\\t") + "\"";
}
