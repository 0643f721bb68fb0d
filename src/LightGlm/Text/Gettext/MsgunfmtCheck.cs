// Cross-checks our readers against GNU gettext: `msgunfmt x.mo` (Debian `gettext`) must give, through our
// .po reader, exactly the messages our .mo reader finds. Used by tests and `lightglm corpus verify`.
using System.Diagnostics;

namespace LightGlm.Text.Gettext;

public static class MsgunfmtCheck
{
    /// <summary>True when the msgunfmt program is on PATH.</summary>
    public static bool Available => FindOnPath("msgunfmt") is not null;

    /// <summary>Returns the differences (empty list = agreement) between MoReader and msgunfmt+PoReader.</summary>
    public static IReadOnlyList<string> Compare(string moPath, int maxDifferences = 10)
    {
        var ours = MoReader.Read(moPath);
        using var po = new MemoryStream(RunMsgunfmt(moPath));
        var theirs = PoReader.Read(po, moPath + " (msgunfmt)");
        var diffs = new List<string>();
        if (ours.Entries.Count != theirs.Entries.Count)
            diffs.Add($"{moPath}: {ours.Entries.Count} messages in our reading, {theirs.Entries.Count} from msgunfmt");
        var byKey = new Dictionary<string, GettextEntry>();
        foreach (var e in theirs.Entries) byKey[e.Key] = e;
        foreach (var e in ours.Entries)
        {
            if (diffs.Count >= maxDifferences) break;
            if (!byKey.TryGetValue(e.Key, out var t)) { diffs.Add($"{moPath}: msgunfmt lacks [{Show(e.Key)}]"); continue; }
            if (t.IdPlural != e.IdPlural) diffs.Add($"{moPath}: [{Show(e.Key)}] plural id '{Show(e.IdPlural)}' vs '{Show(t.IdPlural)}'");
            if (!t.Translations.SequenceEqual(e.Translations))
                diffs.Add($"{moPath}: [{Show(e.Key)}] translations '{Show(string.Join("|", e.Translations))}' vs '{Show(string.Join("|", t.Translations))}'");
        }
        return diffs;
    }

    static string Show(string? s) => s is null ? "<null>" : s.Length > 60 ? s[..60].Replace("\n", "\\n") + "..." : s.Replace("\n", "\\n");

    static byte[] RunMsgunfmt(string moPath)
    {
        var psi = new ProcessStartInfo("msgunfmt")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        // No line wrapping; the output keeps the catalog's charset, which the .po reader takes from the header.
        psi.ArgumentList.Add("--no-wrap");
        psi.ArgumentList.Add(moPath);
        psi.Environment["LC_ALL"] = "C.UTF-8";
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start msgunfmt");
        var err = p.StandardError.ReadToEndAsync();
        using var output = new MemoryStream();
        p.StandardOutput.BaseStream.CopyTo(output);
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidDataException($"msgunfmt {moPath} failed ({p.ExitCode}): {err.Result.Trim()}");
        return output.ToArray();
    }

    internal static string? FindOnPath(string exe)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string p = System.IO.Path.Combine(dir, exe);
            if (File.Exists(p)) return p;
        }
        return null;
    }
}
