// A directory written whole or not at all, on AtomicFile's conventions: the files go to DIR.partial beside it, are
// fsynced, and DIR.partial then takes DIR's place — in one step where the file system can (Linux renameat2
// RENAME_EXCHANGE: DIR never disappears; the old directory, now under DIR.partial's name, is deleted after), else by two
// renames (DIR → DIR.old, DIR.partial → DIR). A crash leaves DIR as it was, or DIR complete and new; with two renames
// it may leave no DIR but DIR.old (the old state) beside a complete DIR.partial (the new one): the next write (or
// Recover) first puts the new one in place, so nothing is lost. A failed write removes DIR.partial; one a kill left is
// removed by the next write (while DIR exists, DIR.partial is never needed: before the swap it is an unfinished new
// directory, after an exchange the old one). A stage marks itself done only after, so a crash means the stage runs again.
//
// Replace is the same swap for a directory that also holds things the writer does not own (a model directory with a
// user's plan, log or training checkpoints beside the weights): those entries are hard-linked into the complete
// DIR.partial before the swap (folders recreated, files linked: no bytes copied, and nothing leaves DIR), so both the
// old directory and the new one hold them at every instant.
using System.Runtime.InteropServices;

namespace LightGlm.IO;

public static class AtomicDirectory
{
    /// <summary>Calls <paramref name="write"/> with a fresh empty directory, then puts it in place of <paramref name="dir"/> (replaced whole).</summary>
    public static void Write(string dir, Action<string> write) => Swap(dir, write, owned: null);

    /// <summary>
    /// Calls <paramref name="write"/> with a fresh empty directory, then puts it in place of <paramref name="dir"/>: the
    /// entries of the old <paramref name="dir"/> that <paramref name="owned"/> claims (by file name) are replaced or
    /// dropped, every other entry is kept (linked into the new directory). A kill leaves the old directory or the new
    /// one, with the other entries in either.
    /// </summary>
    public static void Replace(string dir, Action<string> write, Func<string, bool> owned) => Swap(dir, write, owned);

    static void Swap(string dir, Action<string> write, Func<string, bool>? owned)
    {
        dir = Full(dir);
        string partial = dir + ".partial", old = dir + ".old", parent = Path.GetDirectoryName(dir)!;
        if (File.Exists(dir)) throw new IOException($"{dir} is a file; the output is a directory: choose a directory (new, or one written before)");
        Directory.CreateDirectory(parent);
        Recover(dir);
        try { Directory.CreateDirectory(partial); }
        catch (UnauthorizedAccessException e)
        {
            throw new UnauthorizedAccessException($"{dir}: cannot create {Path.GetFileName(partial)} beside it ({e.Message}); the folder holding " +
                                                  $"{Path.GetFileName(dir)} must be writable, since the output is written whole and then swapped in", e);
        }
        try
        {
            write(partial);
            if (owned is not null && Directory.Exists(dir))
                foreach (var entry in new DirectoryInfo(dir).EnumerateFileSystemInfos())
                    if (!owned(entry.Name) && !Path.Exists(Path.Combine(partial, entry.Name))) LinkTree(entry, Path.Combine(partial, entry.Name));
            FsyncTree(partial);
        }
        catch
        {
            try { Directory.Delete(partial, true); } catch { /* best effort: DIR is untouched either way */ }
            throw;
        }
        if (Directory.Exists(dir) && Exchange(partial, dir))
        {
            AtomicFile.FsyncDirectory(parent);
            Directory.Delete(partial, true); // the old directory, under the partial's name since the exchange
            return;
        }
        if (Directory.Exists(old)) Directory.Delete(old, true);
        if (Directory.Exists(dir)) Directory.Move(dir, old);
        Directory.Move(partial, dir);
        AtomicFile.FsyncDirectory(parent);
        if (Directory.Exists(old)) Directory.Delete(old, true);
    }

    /// <summary>
    /// Finishes a swap a crash interrupted: with no DIR but DIR.old, the crash came between the two renames, when
    /// DIR.partial was already complete — it becomes DIR (else DIR.old goes back). Then DIR.old is removed, and with DIR
    /// in place, any DIR.partial (an unfinished new directory, or the old one after an exchange).
    /// </summary>
    public static void Recover(string dir)
    {
        dir = Full(dir);
        string partial = dir + ".partial", old = dir + ".old";
        if (!Directory.Exists(dir) && Directory.Exists(old))
            Directory.Move(Directory.Exists(partial) ? partial : old, dir);
        if (Directory.Exists(dir) && Directory.Exists(old)) Directory.Delete(old, true);
        if (Directory.Exists(dir) && Directory.Exists(partial)) Directory.Delete(partial, true);
    }

    /// <summary>Re-creates <paramref name="entry"/> at <paramref name="to"/>: folders anew, files as hard links (a copy where links are refused), symbolic links as links.</summary>
    static void LinkTree(FileSystemInfo entry, string to)
    {
        if (entry.LinkTarget is { } target) { File.CreateSymbolicLink(to, target); return; }
        if (entry is DirectoryInfo d)
        {
            Directory.CreateDirectory(to);
            foreach (var e in d.EnumerateFileSystemInfos()) LinkTree(e, Path.Combine(to, e.Name));
            return;
        }
        if (!OperatingSystem.IsWindows() && HardLink(entry.FullName, to) == 0) return;
        File.Copy(entry.FullName, to); // a file system without hard links (or another OS)
    }

    const int AtFdCwd = -100, RenameExchange = 2;

    // DllImport: this assembly is not compiled unsafe (LibraryImport needs it).
    [DllImport("libc", EntryPoint = "renameat2", SetLastError = true)]
    static extern int RenameAt2(int oldDirFd, string oldPath, int newDirFd, string newPath, uint flags);

    [DllImport("libc", EntryPoint = "link", SetLastError = true)]
    static extern int HardLink(string existing, string link);

    /// <summary>Swaps two existing paths in one step (Linux renameat2); false where that is not available (other OS, old kernel, file system).</summary>
    internal static bool Exchange(string a, string b)
    {
        if (!OperatingSystem.IsLinux()) return false;
        try { return RenameAt2(AtFdCwd, a, AtFdCwd, b, RenameExchange) == 0; }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException) { return false; }
    }

    /// <summary>The absolute path; a symbolic link to a directory is followed, so the swap replaces its target, not the link.</summary>
    static string Full(string dir)
    {
        dir = Path.GetFullPath(dir.TrimEnd(Path.DirectorySeparatorChar));
        return Directory.Exists(dir) && new DirectoryInfo(dir).ResolveLinkTarget(returnFinalTarget: true) is { } target ? target.FullName : dir;
    }

    /// <summary>Every file and folder under <paramref name="dir"/> on disk before the rename that publishes it.</summary>
    static void FsyncTree(string dir)
    {
        foreach (var f in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)) AtomicFile.FsyncFile(f);
        foreach (var d in Directory.EnumerateDirectories(dir, "*", SearchOption.AllDirectories)) AtomicFile.FsyncDirectory(d);
        AtomicFile.FsyncDirectory(dir);
    }
}
