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

    /// <summary>True for LibreOffice's packages: reserved for judging generalisation, never trained on.</summary>
    public static bool IsReservedForEvaluation(string package) => package.StartsWith("libreoffice", StringComparison.Ordinal);

    /// <summary>
    /// The packages a build reads: <paramref name="only"/> of the list (null or empty = all), with the holdout checked.
    /// Every problem is reported at once: a name the list lacks, a held-out package not among those read, and a
    /// libreoffice-* package that would be trained on (allowed only when held out, i.e. used for evaluation alone).
    /// </summary>
    public static List<PackageSpec> Select(List<PackageSpec> list, string path, IReadOnlyList<string>? only, IReadOnlyList<string> holdout)
    {
        var errors = new List<string>();
        var byName = list.GroupBy(p => p.Name).ToDictionary(g => g.Key, g => g.First());
        var chosen = only is { Count: > 0 } ? list.Where(p => only.Contains(p.Name)).ToList() : list;
        foreach (var name in only ?? [])
            if (!byName.ContainsKey(name)) errors.Add($"package '{name}' (corpus.packages / --only) is not in {path}");
        foreach (var name in holdout)
            if (!chosen.Any(p => p.Name == name))
                errors.Add($"held-out package '{name}' is not among the packages read from {path}" +
                           (byName.ContainsKey(name) ? " (corpus.packages / --only leaves it out)" : "") + "; add it or drop it from the holdout");
        foreach (var p in chosen)
            if (IsReservedForEvaluation(p.Name) && !holdout.Contains(p.Name))
                errors.Add($"{path} lists {p.Name}: LibreOffice is reserved for judging generalisation and must never be trained on; " +
                           $"remove it, or hold it out for evaluation only (--holdout {p.Name} / corpus.holdout_packages)");
        if (errors.Count > 0) throw new InvalidDataException(string.Join("\n", errors));
        return chosen;
    }
}
