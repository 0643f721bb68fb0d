// What a model was trained to read in its prompt, saved in its directory as prompt_format.json: whether part of its
// training prompts carried a fuzzy match (TaskFormat), found at which threshold, in sequences of which length.
// translate|eval|serve --memory read it to give such a model fuzzy prompts (--fuzzy auto). No file: plain prompts.
using System.Text.Json;
using System.Text.Json.Serialization;
using LightGlm.IO;
using LightGlm.Model.Checkpoints;

namespace LightGlm.Translation;

public sealed record PromptFormat(
    [property: JsonPropertyName("fuzzy_matches")] bool FuzzyMatches,
    [property: JsonPropertyName("fuzzy_threshold")] double FuzzyThreshold,
    [property: JsonPropertyName("fuzzy_fraction")] double FuzzyFraction,
    [property: JsonPropertyName("seq_len")] int SeqLen)
{
    static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>The prompt format of the model in <paramref name="modelDir"/>, or null (a plain-prompt model, or a file model such as a .gguf).</summary>
    public static PromptFormat? Load(string modelDir)
    {
        string path = Path.Combine(modelDir, ModelDirectory.PromptFormatFile);
        if (!File.Exists(path)) return null;
        PromptFormat? f = null;
        try { f = JsonSerializer.Deserialize<PromptFormat>(File.ReadAllText(path), Json); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a prompt format ({e.Message}); delete it if the model was trained on plain prompts", e); }
        if (f is null || !(f.FuzzyThreshold > 0 && f.FuzzyThreshold <= 1) || !(f.FuzzyFraction >= 0 && f.FuzzyFraction <= 1) || f.SeqLen < 8)
            throw new InvalidDataException($"{path}: fuzzy_threshold must be in (0, 1], fuzzy_fraction in [0, 1] and seq_len >= 8 " +
                                           $"(read {(f is null ? "null" : $"{f.FuzzyThreshold}, {f.FuzzyFraction}, {f.SeqLen}")}); delete it if the model was trained on plain prompts");
        return f;
    }

    /// <summary>Writes prompt_format.json into <paramref name="modelDir"/> (inside a model directory being written whole: it is one of the model's files).</summary>
    public void Save(string modelDir) => AtomicFile.WriteAllText(Path.Combine(modelDir, ModelDirectory.PromptFormatFile), JsonSerializer.Serialize(this, Json));
}
