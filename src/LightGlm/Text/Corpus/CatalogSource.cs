// Where catalogs come from: pinned .debs (fetched, verified, extracted once into the cache) or an installed tree.
using System.Text.RegularExpressions;
using LightGlm.IO;

namespace LightGlm.Text.Corpus;

/// <summary>A package's extracted files: its zh catalogs and English manual pages.</summary>
public sealed record PackageFiles(PackageSpec Spec, List<string> Catalogs, List<string> Manpages);

public static partial class CatalogSource
{
    // ".../zh_CN/LC_MESSAGES/x.mo", also zh_CN.UTF-8 (vim) and zh_Hans (Django, Qt).
    [GeneratedRegex(@"/zh_(?:CN|Hans)(?:\.[A-Za-z0-9-]+)?/LC_MESSAGES/[^/]+\.mo$")]
    private static partial Regex ZhCatalog();

    public static bool IsChineseCatalog(string path) => ZhCatalog().IsMatch(path.Replace('\\', '/'));

    static string Marker(PackageSpec s, string cacheDir) => Path.Combine(cacheDir, "extract", $"{s.Name}_{s.Version.Replace(':', '%')}", ".done");

    /// <summary>True when the package is extracted in the cache already (with its manual pages if asked): nothing to fetch.</summary>
    public static bool IsExtracted(PackageSpec spec, string cacheDir, bool manpages)
    {
        string doneFile = Marker(spec, cacheDir);
        return File.Exists(doneFile) && File.ReadAllText(doneFile).Trim() == spec.Sha256 + (manpages ? "+man" : "");
    }

    /// <summary>Fetches and extracts one package (cached: a second call only re-reads the folder).</summary>
    public static PackageFiles Extract(DebCache cache, PackageSpec spec, string cacheDir, bool allowNewer, bool manpages)
    {
        string marker(PackageSpec s) => Marker(s, cacheDir);
        PackageSpec used = spec;
        string doneFile = marker(spec);
        if (!IsExtracted(spec, cacheDir, manpages))
        {
            var (deb, u) = cache.Fetch(spec, allowNewer);
            used = u;
            doneFile = marker(used);
            string dir = Path.GetDirectoryName(doneFile)!;
            if (!File.Exists(doneFile) || File.ReadAllText(doneFile).Trim() != used.Sha256 + (manpages ? "+man" : ""))
            {
                if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
                DebCache.Extract(deb, dir, p => IsChineseCatalog(p) || manpages && Manpages.ManpageRenderer.IsEnglishPage(p));
                AtomicFile.WriteAllText(doneFile, used.Sha256 + (manpages ? "+man" : ""));
            }
        }
        string root = Path.GetDirectoryName(doneFile)!;
        var files = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => "./" + Path.GetRelativePath(root, f).Replace('\\', '/')).Order(StringComparer.Ordinal).ToList();
        return new PackageFiles(used,
            files.Where(IsChineseCatalog).Select(f => Path.Combine(root, f[2..])).ToList(),
            files.Where(Manpages.ManpageRenderer.IsEnglishPage).Select(f => Path.Combine(root, f[2..])).ToList());
    }

    /// <summary>All zh catalogs under an installed tree, grouped by catalog name (the "package" in stats).</summary>
    public static List<PackageFiles> FromDirectory(string dir)
    {
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"--from-dir {dir}: no such folder.");
        return Directory.EnumerateFiles(dir, "*.mo", SearchOption.AllDirectories)
            .Where(IsChineseCatalog).Order(StringComparer.Ordinal)
            .GroupBy(f => Path.GetFileNameWithoutExtension(f))
            .Select(g => new PackageFiles(new PackageSpec(g.Key, "installed", "-", ""), g.ToList(), []))
            .OrderBy(p => p.Spec.Name, StringComparer.Ordinal).ToList();
    }
}
