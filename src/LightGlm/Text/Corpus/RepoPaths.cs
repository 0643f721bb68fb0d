// Where things live by default: the repository root, the pinned package list inside it, and the cache.
namespace LightGlm.Text.Corpus;

public static class RepoPaths
{
    /// <summary>The folder holding LightGlm.slnx, searched upward from the working directory, then from the binaries.</summary>
    public static string? FindRepoRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "LightGlm.slnx"))) return d.FullName;
        }
        return null;
    }

    /// <summary>`$LIGHTGLM_CACHE`, else `.cache/lightglm` at the repository root, else (an installed tool run outside a
    /// checkout) the user's cache, `$XDG_CACHE_HOME/lightglm` or `~/.cache/lightglm` — never the working directory.</summary>
    public static string CacheDir =>
        Environment.GetEnvironmentVariable("LIGHTGLM_CACHE") is { Length: > 0 } env ? env
        : FindRepoRoot() is { } root ? Path.Combine(root, ".cache", "lightglm")
        : Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "lightglm");

    /// <summary>`data/debian-catalogs.txt` at the repository root: the pinned list ships with the code.</summary>
    public static string DefaultPackageList => Path.Combine(FindRepoRoot() ?? Directory.GetCurrentDirectory(), "data", "debian-catalogs.txt");

    /// <summary>The default corpus folder: `{cache}/corpus`.</summary>
    public static string DefaultCorpusDir => Path.Combine(CacheDir, "corpus");
}
