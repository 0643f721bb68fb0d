// A directory written whole or not at all, on AtomicFile's conventions: the files go to DIR.partial beside it, are
// fsynced, and DIR.partial then takes DIR's place by renames; a failed write removes DIR.partial. A crash leaves DIR as
// it was, or — between the two renames — no DIR but DIR.old (the old state) beside a complete DIR.partial (the new
// one): the next write (or Recover) first puts the new one in place, so nothing is lost. A stage marks itself done
// only after, so a crash means the stage runs again.
//
// Where the file system can (Linux renameat2), the two names are exchanged in one step, so DIR never disappears.
//
// Replace is the same swap for a directory that also holds things the writer does not own (a model directory with a
// user's plan, log or training checkpoints beside the weights): those entries are moved (renamed, not copied) into the
// complete DIR.partial before the swap, so they survive it. DIR.partial.carry, written once DIR.partial is complete and
// before the first move, lists them: a crash during the moves is finished by the next Replace (or Recover) — the
// marker says DIR.partial is complete and which entries still belong in it — instead of deleting the partial.
namespace LightGlm.IO;

public static class AtomicDirectory
{
    /// <summary>Calls <paramref name="write"/> with a fresh empty directory, then puts it in place of <paramref name="dir"/> (replaced whole).</summary>
    public static void Write(string dir, Action<string> write) => Swap(dir, write, owned: null);

    /// <summary>
    /// Calls <paramref name="write"/> with a fresh empty directory, then puts it in place of <paramref name="dir"/>: the
    /// entries of the old <paramref name="dir"/> that <paramref name="owned"/> claims (by file name) are replaced or
    /// dropped, every other entry is kept (moved into the new directory). A kill leaves the old directory or the new
    /// one, with the other entries in either.
    /// </summary>
    public static void Replace(string dir, Action<string> write, Func<string, bool> owned) => Swap(dir, write, owned);

    static void Swap(string dir, Action<string> write, Func<string, bool>? owned)
    {
        dir = Full(dir);
        string partial = dir + ".partial", parent = Path.GetDirectoryName(dir)!;
        Directory.CreateDirectory(parent);
        Recover(dir);
        if (Directory.Exists(partial)) Directory.Delete(partial, true); // left by an interrupted write (Recover kept it only if complete)
        try { Directory.CreateDirectory(partial); }
        catch (UnauthorizedAccessException e)
        {
            throw new UnauthorizedAccessException($"{dir}: cannot create {Path.GetFileName(partial)} beside it ({e.Message}); the folder holding " +
                                                  $"{Path.GetFileName(dir)} must be writable, since the output is written whole and then swapped in", e);
        }
        try
        {
            write(partial);
            FsyncTree(partial);
        }
        catch
        {
            try { Directory.Delete(partial, true); } catch { /* best effort: DIR is untouched either way */ }
            throw;
        }
        var carry = owned is null || !Directory.Exists(dir) ? [] : Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName)
            .Where(n => !owned(n!) && !Path.Exists(Path.Combine(partial, n!))).Select(n => n!).Order(StringComparer.Ordinal).ToList();
        if (carry.Count > 0) AtomicFile.WriteAllText(Marker(dir), string.Join('\n', carry) + "\n");
        Finish(dir);
    }

    /// <summary>
    /// Finishes a swap a crash interrupted. DIR.partial holding the sentinel is the old directory after the exchange:
    /// it goes. With DIR.partial.carry present, DIR.partial is complete: the listed entries still in DIR move into it and
    /// it takes DIR's place. With no DIR but DIR.old (two-rename swap), the crash came between the renames, when
    /// DIR.partial was already complete — it becomes DIR (else DIR.old goes back). Then DIR.old is removed. An incomplete
    /// DIR.partial is left for the next write to delete.
    /// </summary>
    public static void Recover(string dir)
    {
        dir = Full(dir);
        string partial = dir + ".partial", old = dir + ".old";
        if (File.Exists(Path.Combine(partial, Sentinel))) Directory.Delete(partial, true); // exchanged: DIR is the new one
        if (File.Exists(Path.Combine(dir, Sentinel))) File.Delete(Path.Combine(dir, Sentinel)); // killed before the exchange
        if (File.Exists(Marker(dir)))
        {
            if (Directory.Exists(partial)) Finish(dir);
            else File.Delete(Marker(dir)); // the swap itself was done
        }
        if (!Directory.Exists(dir) && Directory.Exists(old))
            Directory.Move(Directory.Exists(partial) ? partial : old, dir);
        if (Directory.Exists(dir) && Directory.Exists(old)) Directory.Delete(old, true);
    }

    /// <summary>
    /// The swap of a complete DIR.partial: carried entries in (per the marker), then one exchange of the two names
    /// (renameat2 RENAME_EXCHANGE: DIR is never absent), or where the file system cannot, DIR → DIR.old and
    /// DIR.partial → DIR.
    /// </summary>
    static void Finish(string dir)
    {
        string partial = dir + ".partial", old = dir + ".old", marker = Marker(dir), parent = Path.GetDirectoryName(dir)!;
        if (File.Exists(marker) && Directory.Exists(dir))
        {
            var moved = new List<string>();
            try
            {
                foreach (var name in File.ReadAllLines(marker).Where(l => l.Length > 0))
                {
                    string from = Path.Combine(dir, name), to = Path.Combine(partial, name);
                    if (!Path.Exists(from)) continue; // moved before a crash
                    if (Directory.Exists(to)) Directory.Delete(to, true); // (a rerun recreated it in DIR: DIR's copy is the newer)
                    else if (File.Exists(to)) File.Delete(to);
                    if (Directory.Exists(from)) Directory.Move(from, to); else File.Move(from, to);
                    moved.Add(name);
                }
                AtomicFile.FsyncDirectory(partial);
                AtomicFile.FsyncDirectory(dir);
            }
            catch
            {
                Undo(dir, moved);
                throw;
            }
        }
        if (Directory.Exists(old)) Directory.Delete(old, true);
        if (Directory.Exists(dir))
        {
            // The sentinel marks the old directory, so a crash right after the exchange is told from one right before.
            File.WriteAllBytes(Path.Combine(dir, Sentinel), []);
            AtomicFile.FsyncDirectory(dir);
            if (Exchange(partial, dir))
            {
                AtomicFile.FsyncDirectory(parent);
                if (File.Exists(marker)) File.Delete(marker);
                Directory.Delete(partial, true); // the old directory, now under the partial's name
                return;
            }
            File.Delete(Path.Combine(dir, Sentinel));
            try { Directory.Move(dir, old); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {   // e.g. DIR is a mount point: put the user's entries back, leave DIR as it was
                if (File.Exists(marker)) Undo(dir, File.ReadAllLines(marker).Where(l => l.Length > 0));
                throw new IOException($"{dir}: cannot be replaced by renaming ({e.Message}); write to a new directory instead", e);
            }
        }
        Directory.Move(partial, dir);
        AtomicFile.FsyncDirectory(parent);
        if (File.Exists(marker)) File.Delete(marker);
        if (Directory.Exists(old)) Directory.Delete(old, true);
    }

    const string Sentinel = ".swapped-out";
    const int AtFdCwd = -100, RenameExchange = 2;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "renameat2", SetLastError = true)] // DllImport: this assembly is not compiled unsafe
    static extern int RenameAt2(int oldDirFd, string oldPath, int newDirFd, string newPath, uint flags);

    /// <summary>Swaps two existing paths in one step (Linux renameat2); false where that is not available (other OS, old kernel, file system).</summary>
    static bool Exchange(string a, string b)
    {
        if (!OperatingSystem.IsLinux()) return false;
        try { return RenameAt2(AtFdCwd, a, AtFdCwd, b, RenameExchange) == 0; }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException) { return false; }
    }

    /// <summary>Moves carried entries back from DIR.partial into DIR and forgets the swap (DIR stays the old directory).</summary>
    static void Undo(string dir, IEnumerable<string> names)
    {
        string partial = dir + ".partial";
        foreach (var name in names)
        {
            string from = Path.Combine(partial, name), to = Path.Combine(dir, name);
            if (Path.Exists(to)) continue;
            if (Directory.Exists(from)) Directory.Move(from, to); else if (File.Exists(from)) File.Move(from, to);
        }
        File.Delete(Marker(dir));
        try { Directory.Delete(partial, true); } catch { /* the next write removes it */ }
    }

    static string Marker(string dir) => dir + ".partial.carry";

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
