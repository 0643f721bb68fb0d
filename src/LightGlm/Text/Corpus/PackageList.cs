// The pinned package list (`package<TAB>version<TAB>arch<TAB>sha256`, '#' comments) that defines the default corpus.
namespace LightGlm.Text.Corpus;

public sealed record PackageSpec(string Name, string Version, string Architecture, string Sha256)
{
    /// <summary>The file name `apt-get download` gives this version (':' of an epoch becomes "%3a").</summary>
    public string DebFileName => $"{Name}_{Version.Replace(":", "%3a")}_{Architecture}.deb";
    public override string ToString() => $"{Name}={Version}";
}

public static class PackageList
{
    public static List<PackageSpec> Read(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"package list not found: {path}. The default list is data/debian-catalogs.txt in the repository; pass --packages FILE to use another list, or --from-dir DIR to read installed catalogs.");
        var list = new List<PackageSpec>();
        int n = 0;
        foreach (var raw in File.ReadLines(path))
        {
            n++;
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            var f = line.Split('\t', StringSplitOptions.TrimEntries);
            if (f.Length != 4 || f[3].Length != 64 || !f[3].All(Uri.IsHexDigit))
                throw new InvalidDataException($"{path}:{n}: expected package<TAB>version<TAB>arch<TAB>sha256 (64 hex digits), got '{raw}'.");
            list.Add(new PackageSpec(f[0], f[1], f[2], f[3].ToLowerInvariant()));
        }
        if (list.Count == 0) throw new InvalidDataException($"{path}: no packages listed.");
        return list;
    }
}
