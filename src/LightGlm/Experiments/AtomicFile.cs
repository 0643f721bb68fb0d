// Atomic writes for run directories and reports, on the one temp-file + fsync + rename mechanism
// (Model.Checkpoints.AtomicFile); adds how many bytes were needed to a failure's message.
using System.Text;

namespace LightGlm.Experiments;

public static class AtomicFile
{
    public static void WriteAllText(string path, string text) => WriteAllBytes(path, new UTF8Encoding(false).GetBytes(text));

    public static void WriteAllBytes(string path, byte[] bytes)
    {
        try { Model.Checkpoints.AtomicFile.Write(path, s => s.Write(bytes)); }
        catch (IOException e)
        {
            throw new IOException($"could not write '{Path.GetFullPath(path)}' ({bytes.Length:N0} bytes needed): {e.Message}. The previous file, if any, is unchanged.", e);
        }
    }
}
