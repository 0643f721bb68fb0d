// The default package list ships inside the repository, nothing reads a folder beside it (the engineers' shared one), LibreOffice
// is never in the training list, and every preset's package choices name packages of the list.
using LightGlm.Experiments.Recipes;
using LightGlm.Text.Corpus;

namespace LightGlm.Tests.Text.Corpus;

public sealed class PackageListTests
{
    static string Root => RepoPaths.FindRepoRoot() ?? throw new InvalidOperationException("tests run inside the repository");

    [Fact]
    public void DefaultList_IsInsideTheRepository()
    {
        string list = Path.GetFullPath(RepoPaths.DefaultPackageList);
        Assert.StartsWith(Path.GetFullPath(Root) + Path.DirectorySeparatorChar, list);
        Assert.True(File.Exists(list), list);
        var specs = PackageList.Read(list);
        Assert.True(specs.Count >= 98, $"{specs.Count} packages");
        Assert.Equal(specs.Count, specs.Select(p => p.Name).Distinct().Count());
        Assert.DoesNotContain(specs, p => PackageList.IsReservedForEvaluation(p.Name));
    }

    [Fact]
    public void NoFileOfTheRepository_ReadsTheSharedFolder()
    {
        // Built from parts so this file does not match itself.
        string[] needles = [".." + "/shared", "shared" + "/data", ".." + "\\shared"];
        string[] kinds = [".cs", ".json", ".sh", ".md", ".csproj", ".props", ".slnx", ".yaml", ".yml", ".py", ".mjs"];
        var offenders = new List<string>();
        foreach (var f in Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories))
        {
            string rel = Path.GetRelativePath(Root, f);
            if (rel.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj" or ".git" or ".cache" or "runs" or "node_modules")) continue;
            if (!kinds.Contains(Path.GetExtension(f)) && Path.GetFileName(f) != "lightglm") continue;
            string text = File.ReadAllText(f);
            foreach (var n in needles)
                if (text.Contains(n, StringComparison.Ordinal)) offenders.Add($"{rel}: {n}");
        }
        Assert.True(offenders.Count == 0, "files that depend on the shared folder outside the repository:\n" + string.Join("\n", offenders));
    }

    [Theory]
    [InlineData("quick")]
    [InlineData("tiny")]
    [InlineData("paper")]
    public void Presets_NamePackagesOfTheList(string preset)
    {
        var r = Recipe.Load(preset);
        string file = r.Get<string>("corpus.packages_file");
        Assert.False(Path.IsPathRooted(file), file);
        var specs = PackageList.Read(Path.Combine(Root, file));
        var holdout = r.Get<string[]>("corpus.holdout_packages");
        Assert.True(holdout.Length >= 1, $"{preset} has no unseen-package set");
        // Throws (all problems listed) when a name is not in the list or a held-out package is not read.
        var chosen = PackageList.Select(specs, file, r.Get<string[]>("corpus.packages"), holdout);
        Assert.All(holdout, h => Assert.Contains(chosen, p => p.Name == h));
    }
}
