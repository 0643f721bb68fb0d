// A directory written whole or not at all, on AtomicFile's conventions: the files go to DIR.partial beside it, are
// fsynced, and DIR.partial then takes DIR's place by renames; a failed write removes DIR.partial. A crash leaves DIR as
// it was, or — between the two renames — no DIR but DIR.old (the old state) beside a complete DIR.partial (the new
// one): the next write (or Recover) first puts the new one in place, so nothing is lost. A stage marks itself done
// only after, so a crash means the stage runs again.
namespace LightGlm.IO;

public static class AtomicDirectory
{
    /// <summary>Calls <paramref name="write"/> with a fresh empty directory, then puts it in place of <paramref name="dir"/>.</summary>
    public static void Write(string dir, Action<string> write)
    {
        dir = Path.GetFullPath(dir.TrimEnd(Path.DirectorySeparatorChar));
        string partial = dir + ".partial", old = dir + ".old", parent = Path.GetDirectoryName(dir)!;
        Recover(dir);
        if (Directory.Exists(partial)) Directory.Delete(partial, true); // left by an interrupted write
        Directory.CreateDirectory(partial);
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
        if (Directory.Exists(old)) Directory.Delete(old, true);
        if (Directory.Exists(dir)) Directory.Move(dir, old);
        Directory.Move(partial, dir);
        AtomicFile.FsyncDirectory(parent);
        if (Directory.Exists(old)) Directory.Delete(old, true);
    }

    /// <summary>
    /// Finishes a swap a crash interrupted: with no DIR but DIR.old, the crash came between the two renames, when
    /// DIR.partial was already complete — it becomes DIR (else DIR.old goes back). Then DIR.old is removed.
    /// </summary>
    public static void Recover(string dir)
    {
        dir = Path.GetFullPath(dir.TrimEnd(Path.DirectorySeparatorChar));
        string partial = dir + ".partial", old = dir + ".old";
        if (!Directory.Exists(dir) && Directory.Exists(old))
            Directory.Move(Directory.Exists(partial) ? partial : old, dir);
        if (Directory.Exists(dir) && Directory.Exists(old)) Directory.Delete(old, true);
    }

    /// <summary>Every file and folder under <paramref name="dir"/> on disk before the rename that publishes it.</summary>
    static void FsyncTree(string dir)
    {
        foreach (var f in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)) AtomicFile.FsyncFile(f);
        foreach (var d in Directory.EnumerateDirectories(dir, "*", SearchOption.AllDirectories)) AtomicFile.FsyncDirectory(d);
        AtomicFile.FsyncDirectory(dir);
    }
}
