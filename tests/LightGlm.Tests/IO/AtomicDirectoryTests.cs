// A directory written whole or not at all, also when the process dies between the two renames of the swap.
using LightGlm.IO;

namespace LightGlm.Tests.IO;

public class AtomicDirectoryTests
{
    [Fact]
    public void ACrashBetweenTheRenamesLosesNeitherStateAndAFailedWriteKeepsTheLastComplete()
    {
        string root = Directory.CreateTempSubdirectory("lg-atomic-").FullName;
        try
        {
            string dir = Path.Combine(root, "out");
            // The state a kill between Move(dir, old) and Move(partial, dir) leaves: old state in out.old, the complete
            // new one in out.partial, no out.
            Directory.CreateDirectory(dir + ".old");
            File.WriteAllText(Path.Combine(dir + ".old", "v.txt"), "old");
            Directory.CreateDirectory(dir + ".partial");
            File.WriteAllText(Path.Combine(dir + ".partial", "v.txt"), "new");
            // The next write fails half-way: the new state from before must be in place, not deleted.
            Assert.Throws<IOException>(() => AtomicDirectory.Write(dir, p => { File.WriteAllText(Path.Combine(p, "v.txt"), "half"); throw new IOException("disk full"); }));
            Assert.Equal("new", File.ReadAllText(Path.Combine(dir, "v.txt")));
            Assert.False(Directory.Exists(dir + ".old"));
            // And a write that completes replaces it whole.
            AtomicDirectory.Write(dir, p => File.WriteAllText(Path.Combine(p, "v.txt"), "newer"));
            Assert.Equal("newer", File.ReadAllText(Path.Combine(dir, "v.txt")));
            Assert.False(Directory.Exists(dir + ".partial"));
        }
        finally { Directory.Delete(root, true); }
    }

    static bool Owned(string name) => name is "config.json" or "model.safetensors" or "model.safetensors.index.json" || name.StartsWith("model-", StringComparison.Ordinal);

    static Dictionary<string, string> Tree(string dir) => Directory.GetFiles(dir, "*", SearchOption.AllDirectories)
        .ToDictionary(f => Path.GetRelativePath(dir, f), File.ReadAllText);

    [Fact]
    public void ReplaceSwapsTheOwnedFilesWholeAndKeepsEverythingElse()
    {
        string root = Directory.CreateTempSubdirectory("lg-atomic-").FullName;
        try
        {
            string dir = Path.Combine(root, "out");
            Directory.CreateDirectory(Path.Combine(dir, "ck", "step-000003"));
            File.WriteAllText(Path.Combine(dir, "ck", "step-000003", "state.json"), "ck");
            File.WriteAllText(Path.Combine(dir, "plan.json"), "plan");
            File.WriteAllText(Path.Combine(dir, "config.json"), "old config");
            File.WriteAllText(Path.Combine(dir, "model-00001-of-00002.safetensors"), "old shard"); // owned, not rewritten: dropped
            File.WriteAllText(Path.Combine(dir, "model.safetensors.index.json"), "old index");
            AtomicDirectory.Replace(dir, p =>
            {
                File.WriteAllText(Path.Combine(p, "config.json"), "new config");
                File.WriteAllText(Path.Combine(p, "model.safetensors"), "new weights");
            }, Owned);
            Assert.Equal(new Dictionary<string, string>
            {
                ["config.json"] = "new config", ["model.safetensors"] = "new weights", ["plan.json"] = "plan",
                [Path.Combine("ck", "step-000003", "state.json")] = "ck",
            }, Tree(dir));
            Assert.Equal(["out"], Directory.GetFileSystemEntries(root).Select(Path.GetFileName)); // no .partial, .old, marker

            // A writer that throws leaves the directory as it was, kept entries included.
            var before = Tree(dir);
            Assert.Throws<IOException>(() => AtomicDirectory.Replace(dir, p => throw new IOException("disk full"), Owned));
            Assert.Equal(before, Tree(dir));
            Assert.Equal(["out"], Directory.GetFileSystemEntries(root).Select(Path.GetFileName));
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void OnLinuxTheTwoNamesAreExchangedInOneStep()
    {
        if (!OperatingSystem.IsLinux()) return;
        string root = Directory.CreateTempSubdirectory("lg-atomic-").FullName;
        try
        {
            string a = Path.Combine(root, "a"), b = Path.Combine(root, "b");
            Directory.CreateDirectory(a);
            Directory.CreateDirectory(b);
            File.WriteAllText(Path.Combine(a, "x"), "a");
            File.WriteAllText(Path.Combine(b, "x"), "b");
            Assert.True(AtomicDirectory.Exchange(a, b), "renameat2(RENAME_EXCHANGE) is not available here: swaps fall back to two renames");
            Assert.Equal("b", File.ReadAllText(Path.Combine(a, "x")));
            Assert.Equal("a", File.ReadAllText(Path.Combine(b, "x")));
            Assert.False(AtomicDirectory.Exchange(a, Path.Combine(root, "missing"))); // not a rename: both must exist
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void WhatAKillLeavesBesideTheDirectoryIsClearedAndTheDirectoryIsOldOrNew()
    {
        string root = Directory.CreateTempSubdirectory("lg-atomic-").FullName;
        try
        {
            string dir = Path.Combine(root, "out");
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "config.json"), "old");
            File.WriteAllText(Path.Combine(dir, "log.txt"), "log");
            // Killed before the swap: out is the old directory; out.partial (complete or not, kept entries linked) goes.
            Directory.CreateDirectory(Path.Combine(dir + ".partial", "ck"));
            File.WriteAllText(Path.Combine(dir + ".partial", "config.json"), "new");
            File.WriteAllText(Path.Combine(dir + ".partial", "log.txt"), "log");
            AtomicDirectory.Recover(dir);
            Assert.Equal(new Dictionary<string, string> { ["config.json"] = "old", ["log.txt"] = "log" }, Tree(dir));
            Assert.Equal(["out"], Directory.GetFileSystemEntries(root).Select(Path.GetFileName));

            // Killed right after the exchange: out is the new directory, out.partial the old one, which goes.
            Directory.CreateDirectory(dir + ".partial");
            File.WriteAllText(Path.Combine(dir + ".partial", "config.json"), "older");
            AtomicDirectory.Replace(dir, p => File.WriteAllText(Path.Combine(p, "config.json"), "newer"), Owned);
            Assert.Equal(new Dictionary<string, string> { ["config.json"] = "newer", ["log.txt"] = "log" }, Tree(dir));
            Assert.Equal(["out"], Directory.GetFileSystemEntries(root).Select(Path.GetFileName));

            // Killed between the two renames of the swap (file systems without an exchange): no out, out.old, and the
            // complete out.partial holding the kept entries, which becomes out.
            Directory.Move(dir, dir + ".partial");
            Directory.CreateDirectory(dir + ".old");
            File.WriteAllText(Path.Combine(dir + ".old", "config.json"), "newer-old");
            File.WriteAllText(Path.Combine(dir + ".old", "log.txt"), "log");
            AtomicDirectory.Recover(dir);
            Assert.Equal(new Dictionary<string, string> { ["config.json"] = "newer", ["log.txt"] = "log" }, Tree(dir));
            Assert.Equal(["out"], Directory.GetFileSystemEntries(root).Select(Path.GetFileName));
        }
        finally { Directory.Delete(root, true); }
    }
}
