// The one way LightGlm writes a file a user keeps: a unique temp file beside the target, fsync, rename over the target
// (then fsync the folder), the temp deleted on failure. Readers and a crash see the old file or the new one, never half.
using System.Diagnostics;
using System.Text;

namespace LightGlm.IO;

public static class AtomicFile
{
    static readonly UTF8Encoding Utf8 = new(false);

    /// <summary>
    /// Writes <paramref name="path"/> through <paramref name="write"/> so that readers see either the old file or the
    /// complete new one: <c>.NAME.tmp-PID-GUID</c> in the same folder, <c>Flush(flushToDisk: true)</c>, rename, fsync of
    /// the folder. The callback must not close the stream. If it throws, the target is untouched and the temp removed.
    /// </summary>
    public static void Write(string path, Action<Stream> write) => Write(path, write, bytesNeeded: null);

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        var copy = bytes.ToArray();
        Write(path, s => s.Write(copy), copy.Length);
    }

    public static void WriteAllText(string path, string text) => WriteAllBytes(path, Utf8.GetBytes(text));

    /// <summary>Text through a <see cref="TextWriter"/> (UTF-8 without BOM, "\n" line ends), for files built line by line.</summary>
    public static void WriteText(string path, Action<TextWriter> write) => Write(path, s =>
    {
        using var w = new StreamWriter(s, Utf8, 1 << 16, leaveOpen: true) { NewLine = "\n" };
        write(w);
    });

    /// <summary>Copies <paramref name="source"/> to <paramref name="destination"/> atomically.</summary>
    public static void Copy(string source, string destination)
    {
        using var src = File.OpenRead(source); // opened first: a missing source is a FileNotFoundException naming it
        Write(destination, s => src.CopyTo(s));
    }

    static void Write(string path, Action<Stream> write, long? bytesNeeded)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        var name = Path.GetFileName(full);
        Directory.CreateDirectory(dir);
        RemoveLeftovers(dir, name);
        var tmp = Path.Combine(dir, $".{name}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}");
        long written = 0;
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(fs);
                written = fs.Position;
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch (Exception e)
        {
            try { File.Delete(tmp); } catch { /* best effort: the target is untouched either way */ }
            // Disk full and the like (plain IOException; not a missing input, which the callback's reader names itself)
            if (e.GetType() == typeof(IOException))
                throw new IOException($"could not write '{full}' ({(bytesNeeded is { } n ? $"{n:N0} bytes needed" : $"{written:N0} bytes written before the failure")}): " +
                                      $"{e.Message}. The previous file, if any, is unchanged.", e);
            throw;
        }
        FsyncDirectory(dir);
    }

    /// <summary>
    /// Temp files of this target left by a writer that was killed (its process is gone): a kill -9 cannot clean up
    /// after itself, so the next write of the same file does.
    /// </summary>
    static void RemoveLeftovers(string dir, string name)
    {
        string prefix = $".{name}.tmp-";
        foreach (var f in Directory.EnumerateFiles(dir, prefix + "*"))
        {
            var rest = Path.GetFileName(f)[prefix.Length..];
            int dash = rest.IndexOf('-');
            if (dash <= 0 || !int.TryParse(rest[..dash], out int pid) || pid == Environment.ProcessId || IsRunning(pid)) continue;
            try { File.Delete(f); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    static bool IsRunning(int pid)
    {
        try { using var p = Process.GetProcessById(pid); return !p.HasExited; }
        catch (ArgumentException) { return false; } // no such process
        catch (InvalidOperationException) { return false; }
    }

    /// <summary>Makes the renames inside <paramref name="dir"/> durable (fsync of the folder; Linux/macOS, best effort).</summary>
    public static void FsyncDirectory(string dir)
    {
        if (OperatingSystem.IsWindows()) return;
        try { using var h = File.OpenHandle(dir, FileMode.Open, FileAccess.Read); RandomAccess.FlushToDisk(h); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // not every file system allows it
    }

    /// <summary>fsync of an existing file's contents (for files a callback wrote with ordinary writers, before a rename).</summary>
    public static void FsyncFile(string path)
    {
        using var h = File.OpenHandle(path, FileMode.Open, FileAccess.Read); // fsync needs no write access
        RandomAccess.FlushToDisk(h);
    }
}
