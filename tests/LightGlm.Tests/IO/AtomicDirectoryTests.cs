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
}
