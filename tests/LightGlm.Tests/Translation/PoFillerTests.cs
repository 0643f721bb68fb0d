// The .po round trip on a real catalog (GNU m4's Chinese messages, via msgunfmt) with every third entry
// blanked: filled back, valid for `msgfmt -c`, placeholders intact, nothing else in the file changed.
using System.Diagnostics;
using LightGlm.Text.Gettext;
using LightGlm.Text.Markup;
using LightGlm.Translation;

namespace LightGlm.Tests.Translation;

public sealed class PoFillerTests
{
    static string Run(string exe, params string[] args)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        string err = p.StandardError.ReadToEnd(); p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new Xunit.Sdk.XunitException($"{exe} {string.Join(' ', args)} failed ({p.ExitCode}): {err}");
        return err;
    }

    /// <summary>A real catalog with every third message blanked, and the blanked entries' original translations.</summary>
    internal static (string Dir, string Blanked, Dictionary<string, string[]> Originals) MakeBlankedCatalog()
    {
        var dir = Directory.CreateTempSubdirectory("lightglm-po-").FullName;
        var real = Path.Combine(dir, "m4.po");
        Run("msgunfmt", Path.Combine(AppContext.BaseDirectory, "Data", "text", "real-m4.zh_CN.mo"), "-o", real);
        var doc = PoDocument.Load(real);
        var originals = new Dictionary<string, string[]>();
        var reps = new List<(LineSpan, IReadOnlyList<string>)>();
        int i = 0;
        foreach (var e in doc.Catalog.Messages)
        {
            if (i++ % 3 != 0 || e.IsUntranslated) continue;
            originals[e.Key] = e.Translations;
            reps.Add((e.MsgStrLines, PoString.FormatMsgStr(e.Translations.Select(_ => "").ToList(), e.IsPlural)));
        }
        var blanked = Path.Combine(dir, "blanked.po");
        doc.Save(blanked, reps);
        return (dir, blanked, originals);
    }

    [Fact]
    public void OracleFillRestoresTranslationsAndChangesNothingElse()
    {
        var (dir, blanked, originals) = MakeBlankedCatalog();
        try
        {
            Assert.True(originals.Count > 20);
            var before = PoDocument.Load(blanked);
            // The "model": the original human translation of each English core (accelerator/whitespace removed).
            var byCore = new Dictionary<string, string>();
            foreach (var e in before.Catalog.Messages.Where(m => originals.ContainsKey(m.Key)))
            {
                var src = (e.IdPlural ?? e.Id).Trim();
                byCore[src] = originals[e.Key][^1].Trim();
            }
            var outPath = Path.Combine(dir, "filled.po");
            var report = PoFiller.Fill(blanked, outPath, texts => texts.Select(t => byCore.GetValueOrDefault(t, "")).ToList());
            Assert.Equal(originals.Count, report.Untranslated);
            Assert.True(report.Filled >= originals.Count * 3 / 4, $"filled only {report.Filled} of {originals.Count}: {report}");
            Run("msgfmt", "-c", "-o", "/dev/null", outPath);

            var after = PoDocument.Load(outPath);
            var afterByKey = after.Catalog.Messages.ToDictionary(m => m.Key);
            foreach (var e in before.Catalog.Messages)
            {
                var a = afterByKey[e.Key];
                if (!originals.ContainsKey(e.Key)) { Assert.Equal(e.Translations, a.Translations); Assert.Equal(e.Flags, a.Flags); continue; }
                if (a.IsUntranslated) continue; // left out (placeholders / empty answer), counted in the report
                Assert.True(a.IsFuzzy);
                Assert.True(Placeholders.Preserved(e.IdPlural ?? e.Id, a.Translations[0]), $"{e.Id} → {a.Translations[0]}");
            }
            // Diff: removing the filled msgstr blocks and the fuzzy marks leaves exactly the blanked file minus its blanked msgstrs.
            Assert.Equal(Skeleton(before, originals.Keys.ToHashSet()), Skeleton(after, originals.Keys.ToHashSet()));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void DroppedPlaceholdersLeaveEntriesUntranslated()
    {
        var (dir, blanked, originals) = MakeBlankedCatalog();
        try
        {
            var outPath = Path.Combine(dir, "filled.po");
            var report = PoFiller.Fill(blanked, outPath, texts => texts.Select(_ => "无占位符的译文").ToList());
            var withPh = PoDocument.Load(blanked).Catalog.Messages.Count(m => originals.ContainsKey(m.Key) && Placeholders.Extract(m.IdPlural ?? m.Id).Count > 0);
            Assert.True(withPh > 0);
            Assert.Equal(withPh, report.LeftPlaceholders);
            Assert.Equal(report.Untranslated - withPh, report.Filled);
            Run("msgfmt", "-c", "-o", "/dev/null", outPath);
        }
        finally { Directory.Delete(dir, true); }
    }

    static List<string> Skeleton(PoDocument doc, HashSet<string> blankedKeys)
    {
        var drop = new HashSet<int>();
        foreach (var e in doc.Catalog.Messages.Where(m => blankedKeys.Contains(m.Key)))
            for (int i = e.MsgStrLines.Start; i < e.MsgStrLines.End; i++) drop.Add(i);
        return doc.Lines.Where((l, i) => !drop.Contains(i) && l != "#, fuzzy").Select(l => l.Replace("#, fuzzy, ", "#, ")).ToList();
    }
}

public sealed class TranslatePoCommandTests
{
    [Fact]
    public void TranslatePoWithARealModelWritesAValidCatalog()
    {
        var (dir, blanked, _) = PoFillerTests.MakeBlankedCatalog();
        var model = TranslatorTests.SaveTinyModel();
        try
        {
            var outPath = Path.Combine(dir, "out.po");
            var r = LightGlm.Tests.Evaluation.CliProcess.Run(null, "translate", "--model", model, "--po", blanked, "--out", outPath, "--max-new-tokens", "6");
            Assert.True(r.ExitCode == 0, r.Stderr);
            Assert.Contains("filled (fuzzy)", r.Stderr);
            var psi = new System.Diagnostics.ProcessStartInfo("msgfmt") { RedirectStandardError = true };
            foreach (var a in new[] { "-c", "-o", "/dev/null", outPath }) psi.ArgumentList.Add(a);
            using var p = System.Diagnostics.Process.Start(psi)!;
            var err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, err);
        }
        finally { Directory.Delete(dir, true); Directory.Delete(model, true); }
    }
}

/// <summary>A catalog that defines a message twice is refused before translating, as msgfmt refuses it (issue 18, class 3).</summary>
public sealed class PoFillerDuplicateTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("lightglm-podup-").FullName;
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    const string Header = "msgid \"\"\nmsgstr \"\"\n\"Content-Type: text/plain; charset=UTF-8\\n\"\n\n";

    [Theory]
    [InlineData("msgid \"Open\"\nmsgstr \"\"\n\nmsgid \"Open\"\nmsgstr \"\"\n", ".po:8: duplicate message definition of msgid \"Open\"; the first is at line 5")]
    [InlineData("msgctxt \"menu\"\nmsgid \"Open\"\nmsgstr \"\"\n\nmsgctxt \"menu\"\nmsgid \"Open\"\nmsgstr \"x\"\n", "duplicate message definition of msgid \"Open\" (msgctxt \"menu\")")]
    public void DuplicateMsgidsAreRefusedNamingBothLines(string body, string expected)
    {
        var po = Path.Combine(_dir, "a.po");
        File.WriteAllText(po, Header + body);
        byte[] before = File.ReadAllBytes(po);
        bool called = false;
        var e = Assert.Throws<InvalidDataException>(() => PoFiller.Fill(po, po, xs => { called = true; return xs; }));
        Assert.Contains(po, e.Message);
        Assert.Contains(expected, e.Message);
        Assert.False(called);
        Assert.Equal(before, File.ReadAllBytes(po));
    }

    [Fact]
    public void TheSameMsgidInAnotherContextOrObsoleteIsNotADuplicate()
    {
        var po = Path.Combine(_dir, "b.po");
        File.WriteAllText(po, Header + "msgid \"Open\"\nmsgstr \"\"\n\nmsgctxt \"menu\"\nmsgid \"Open\"\nmsgstr \"\"\n\n#~ msgid \"Open\"\n#~ msgstr \"x\"\n");
        var r = PoFiller.Fill(po, po, xs => xs.Select(x => "打开").ToList());
        Assert.Equal(2, r.Filled);
    }
}
