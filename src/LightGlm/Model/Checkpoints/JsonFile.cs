// Reads a JSON file the user gave us (config.json, tokenizer.json, an index, a plan): a malformed file becomes an
// InvalidDataException that names the file and the position, never a bare JsonException from deep inside.
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LightGlm.Model.Checkpoints;

public static class JsonFile
{
    /// <summary>The file's JSON (null for the literal <c>null</c>).</summary>
    public static JsonNode? Read(string path, JsonDocumentOptions options = default)
    {
        string text = File.ReadAllText(path);
        try { return JsonNode.Parse(text, documentOptions: options); }
        catch (JsonException e) { throw Malformed(path, e); }
    }

    /// <summary>The file's top-level JSON object, or an InvalidDataException naming <paramref name="what"/> it should be.</summary>
    public static JsonObject ReadObject(string path, string what = "a JSON object") =>
        Read(path) as JsonObject ?? throw new InvalidDataException($"{path}: not {what} (the top level is not a JSON object); fix or regenerate the file");

    /// <summary>The exception for a file that is not valid JSON.</summary>
    public static InvalidDataException Malformed(string path, JsonException e) =>
        new($"{path}: not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}: {FirstSentence(e.Message)}); fix or regenerate the file", e);

    static string FirstSentence(string m) { int i = m.IndexOf(". ", StringComparison.Ordinal); return i > 0 ? m[..i] : m.TrimEnd('.'); }
}
