// The one atomic-write helper: a writer that fails half-way leaves the old file and no temp file; kill -9 leftovers
// of a dead writer are cleaned by the next write. (Kill -9 of real CLI processes: Reliability/AtomicWriteKillTests.)
using System.Diagnostics;
using System.Text;
using LightGlm.IO;

namespace LightGlm.Tests.IO;

public sealed class AtomicFileTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("lg-atomicfile-").FullName;
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    string[] Entries() => Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;

    [Fact]
    public void AWriterThatThrowsMidwayLeavesTheOldFileAndNoTemp()
    {
        string target = Path.Combine(_dir, "model.safetensors");
        File.WriteAllText(target, "old content");
        var e = Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(target, s =>
        {
            s.Write(new byte[300_000]); // flushed below: the bytes are really in the temp file when the writer fails
            s.Flush();
            throw new InvalidOperationException("tensor 7 has NaN");
        }));
        Assert.Equal("tensor 7 has NaN", e.Message);
        Assert.Equal("old content", File.ReadAllText(target));
        Assert.Equal(["model.safetensors"], Entries());
    }

    [Fact]
    public void AFailedFirstWriteLeavesNothing()
    {
        string target = Path.Combine(_dir, "sub", "report.json");
        Assert.Throws<IOException>(() => AtomicFile.WriteText(target, w => { w.Write("{\"half\":"); w.Flush(); throw new IOException("disk gone"); }));
        Assert.False(File.Exists(target));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(_dir, "sub")));
    }

    [Fact]
    public void EachOverloadReplacesTheFileWhole()
    {
        string target = Path.Combine(_dir, "out.txt");
        File.WriteAllText(target, new string('x', 10_000)); // longer than every new content: nothing of it may remain
        AtomicFile.WriteAllText(target, "héllo");
        Assert.Equal("héllo"u8.ToArray(), File.ReadAllBytes(target)); // UTF-8, no BOM
        AtomicFile.WriteAllBytes(target, [1, 2, 3]);
        Assert.Equal([1, 2, 3], File.ReadAllBytes(target));
        AtomicFile.WriteText(target, w => { w.WriteLine("a"); w.WriteLine("b"); });
        Assert.Equal("a\nb\n", File.ReadAllText(target));
        string src = Path.Combine(_dir, "src.bin");
        File.WriteAllBytes(src, Encoding.UTF8.GetBytes("copied"));
        AtomicFile.Copy(src, target);
        Assert.Equal("copied", File.ReadAllText(target));
        Assert.Throws<FileNotFoundException>(() => AtomicFile.Copy(Path.Combine(_dir, "missing"), target));
        Assert.Equal("copied", File.ReadAllText(target));
        Assert.Equal(["out.txt", "src.bin"], Entries());
    }

    [Fact]
    public void TheTempOfAKilledWriterIsRemovedByTheNextWriteButALiveWritersIsKept()
    {
        string target = Path.Combine(_dir, "tokenizer.json");
        int dead;
        using (var p = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!) { p.WaitForExit(); dead = p.Id; }
        string deadTemp = Path.Combine(_dir, $".tokenizer.json.tmp-{dead}-{Guid.NewGuid():N}");
        string liveTemp = Path.Combine(_dir, $".tokenizer.json.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}"); // a write in progress here
        string otherTemp = Path.Combine(_dir, $".config.json.tmp-{dead}-{Guid.NewGuid():N}"); // another target's: not ours to judge now
        foreach (var f in new[] { deadTemp, liveTemp, otherTemp }) File.WriteAllText(f, "half");
        AtomicFile.WriteAllText(target, "{}");
        Assert.False(File.Exists(deadTemp));
        Assert.True(File.Exists(liveTemp));
        Assert.True(File.Exists(otherTemp));
    }

    [Fact]
    public void AFailedDirectoryWriteRemovesItsPartialAndKeepsTheOldDirectory()
    {
        string dir = Path.Combine(_dir, "model");
        AtomicDirectory.Write(dir, p => File.WriteAllText(Path.Combine(p, "config.json"), "old"));
        Assert.Throws<InvalidDataException>(() => AtomicDirectory.Write(dir, p =>
        {
            File.WriteAllText(Path.Combine(p, "config.json"), "new");
            throw new InvalidDataException("bad tensor");
        }));
        Assert.Equal("old", File.ReadAllText(Path.Combine(dir, "config.json")));
        Assert.Equal(["model"], Entries());
    }
}
