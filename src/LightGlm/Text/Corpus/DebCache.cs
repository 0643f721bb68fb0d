// Fetches pinned Debian packages into the cache (`apt-get download`, sha256 check, `apt-get update` + retry
// when the version is unknown) and pulls the files we need out of them with `dpkg-deb --fsys-tarfile`.
using System.Diagnostics;
using System.Formats.Tar;
using System.Security.Cryptography;

namespace LightGlm.Text.Corpus;

public sealed class DebCache(string cacheDir, Action<string>? log = null)
{
    readonly Action<string> _log = log ?? (_ => { });
    bool _updated;

    public string DebDir => Path.Combine(cacheDir, "debs");

    /// <summary>
    /// Returns the .deb for <paramref name="spec"/> and the spec actually used (differs only with
    /// <paramref name="allowNewer"/> when the pinned version has left the archive).
    /// </summary>
    public (string Path, PackageSpec Used) Fetch(PackageSpec spec, bool allowNewer)
    {
        Directory.CreateDirectory(DebDir);
        string path = Path.Combine(DebDir, spec.DebFileName);
        // An empty pin (a package outside the list, e.g. manpages-zh) accepts the file and records its hash.
        if (File.Exists(path) && spec.Sha256.Length == 0) return (path, spec with { Sha256 = Sha256(path) });
        if (File.Exists(path) && Sha256(path) == spec.Sha256) return (path, spec);
        if (File.Exists(path)) File.Delete(path); // a partial or different file: fetch again

        if (!TryDownload($"{spec.Name}={spec.Version}", out string err))
        {
            if (!_updated)
            {
                _log("apt-get update (package index missing or stale)...");
                RunApt(["update", "-qq"], out _);
                _updated = true;
            }
            if (!TryDownload($"{spec.Name}={spec.Version}", out err))
            {
                if (!allowNewer)
                    throw new InvalidDataException($"{spec}: apt-get cannot download this pinned version ({err.Trim()}). It may have left the archive; rerun with --allow-newer to take the current version (recorded in stats.json).");
                string before = string.Join("\n", Directory.GetFiles(DebDir, spec.Name + "_*.deb"));
                if (!TryDownload(spec.Name, out err))
                    throw new InvalidDataException($"{spec.Name}: apt-get cannot download any version: {err.Trim()}");
                var got = Directory.GetFiles(DebDir, spec.Name + "_*.deb").Where(f => !before.Contains(f)).ToList();
                if (got.Count == 0) got = Directory.GetFiles(DebDir, spec.Name + "_*.deb").ToList();
                var file = got.OrderByDescending(File.GetLastWriteTimeUtc).First();
                var parts = Path.GetFileNameWithoutExtension(file).Split('_');
                var used = spec with { Version = Uri.UnescapeDataString(parts[1]), Architecture = parts[2], Sha256 = Sha256(file) };
                _log($"{spec.Name}: pinned {spec.Version} unavailable, took {used.Version} (--allow-newer)");
                return (file, used);
            }
        }
        if (!File.Exists(path))
            throw new InvalidDataException($"{spec}: apt-get download succeeded but {path} is missing.");
        string sha = Sha256(path);
        if (spec.Sha256.Length == 0) return (path, spec with { Sha256 = sha });
        if (sha != spec.Sha256)
            throw new InvalidDataException($"{spec}: sha256 of {path} is {sha}, the list pins {spec.Sha256}. The archive changed or the list is wrong; delete the file and check the list.");
        return (path, spec);
    }

    /// <summary>
    /// Downloads every .deb of <paramref name="specs"/> not yet in the cache with one `apt-get download` (one process and one
    /// package-index load instead of one per package: 5 packages took 7.3 s one by one and 1.7 s in one call here). Best effort: <see cref="Fetch"/>
    /// still checks every file's sha256 and fetches one by one what this call could not (an unknown pin fails the batch).
    /// </summary>
    public void Prefetch(IEnumerable<PackageSpec> specs)
    {
        var missing = specs.Where(s => !File.Exists(Path.Combine(DebDir, s.DebFileName))).Select(s => $"{s.Name}={s.Version}").ToList();
        if (missing.Count < 2) return;
        Directory.CreateDirectory(DebDir);
        _log($"downloading {missing.Count} packages with apt-get...");
        if (RunApt(["download", "-q", .. missing], out _) != 0) _log("apt-get could not fetch them all in one call; fetching one by one");
    }

    bool TryDownload(string what, out string error) => RunApt(["download", "-q", what], out error) == 0;

    int RunApt(string[] args, out string error)
    {
        var psi = new ProcessStartInfo("apt-get") { WorkingDirectory = DebDir, RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (args[0] == "update" && Environment.UserName != "root" && File.Exists("/usr/bin/sudo"))
        {
            psi.FileName = "sudo";
            psi.ArgumentList.Insert(0, "apt-get");
        }
        try
        {
            using var p = Process.Start(psi)!;
            var o = p.StandardOutput.ReadToEndAsync();
            error = p.StandardError.ReadToEnd();
            o.Wait();
            p.WaitForExit();
            return p.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"cannot run apt-get ({e.Message}); the corpus builder needs Debian's apt (or use --from-dir).");
        }
    }

    public static string Sha256(string path)
    {
        using var fs = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(fs));
    }

    /// <summary>
    /// Streams the package's file system (`dpkg-deb --fsys-tarfile`) and copies the regular files whose
    /// path (like "./usr/share/locale/zh_CN/LC_MESSAGES/x.mo") satisfies <paramref name="want"/> into
    /// <paramref name="dest"/>, keeping relative paths. Symlinks are skipped (they duplicate real files).
    /// </summary>
    public static List<string> Extract(string debPath, string dest, Func<string, bool> want)
    {
        var psi = new ProcessStartInfo("dpkg-deb") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("--fsys-tarfile");
        psi.ArgumentList.Add(debPath);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start dpkg-deb");
        var err = p.StandardError.ReadToEndAsync();
        var written = new List<string>();
        using (var tar = new TarReader(p.StandardOutput.BaseStream))
        {
            while (tar.GetNextEntry() is { } e)
            {
                if (e.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || !want(e.Name)) continue;
                string rel = e.Name.TrimStart('.', '/');
                string target = Path.GetFullPath(Path.Combine(dest, rel));
                if (!target.StartsWith(Path.GetFullPath(dest), StringComparison.Ordinal)) continue; // no escaping paths
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                using (var fs = File.Create(target)) e.DataStream?.CopyTo(fs);
                written.Add(rel);
            }
            // Drain so dpkg-deb does not block on a full pipe.
            p.StandardOutput.BaseStream.CopyTo(Stream.Null);
        }
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidDataException($"dpkg-deb --fsys-tarfile {debPath} failed: {err.Result.Trim()}");
        written.Sort(StringComparer.Ordinal);
        return written;
    }
}
