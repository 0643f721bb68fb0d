using System.Diagnostics;
using LightGlm.Experiments.Reporting;
using LightGlm.IO;

namespace LightGlm.Tests.Reliability;

/// <summary>A real full disk: a 256 KiB tmpfs mounted for the test (CI runs as root on Linux).</summary>
public sealed class TinyDisk : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"tinydisk-{Guid.NewGuid():N}");

    public TinyDisk(int kib = 256)
    {
        Directory.CreateDirectory(Path);
        Run("mount", $"-t tmpfs -o size={kib}k tmpfs {Path}");
    }

    public void Dispose()
    {
        Run("umount", Path);
        Directory.Delete(Path, true);
    }

    static void Run(string cmd, string args)
    {
        using var p = Process.Start(new ProcessStartInfo(cmd, args) { RedirectStandardError = true })!;
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"'{cmd} {args}' failed ({err.Trim()}): the disk-full tests need root to mount a tmpfs");
    }
}

public class DiskFullTests
{
    [Fact]
    public void AtomicWriteOnAFullDiskKeepsTheOldFileAndSaysHowMuchWasNeeded()
    {
        using var disk = new TinyDisk();
        string target = Path.Combine(disk.Path, "checkpoint.json");
        AtomicFile.WriteAllText(target, "old content");
        var big = new byte[1 << 20];
        var e = Assert.Throws<IOException>(() => AtomicFile.WriteAllBytes(target, big));
        Assert.Contains("1,048,576 bytes needed", e.Message);
        Assert.Contains(target, e.Message);
        Assert.Equal("old content", File.ReadAllText(target));
        Assert.Equal([target], Directory.GetFiles(disk.Path)); // no temporary file left behind
    }

    [Fact]
    public void ReportSaveOnAFullDiskFailsCleanly()
    {
        using var disk = new TinyDisk(64);
        var r = new Report("big");
        var s = r.Section("x");
        var rows = Enumerable.Range(0, 5000).Select(i => (IReadOnlyList<string>)[$"row {i}", new string('x', 40)]).ToArray();
        s.Table(new ReportTable("t", ["a", "b"], rows));
        var e = Assert.Throws<IOException>(() => r.Save(disk.Path));
        Assert.Contains("bytes needed", e.Message);
        Assert.Empty(Directory.GetFiles(disk.Path, "*.tmp", SearchOption.AllDirectories));
    }
}
