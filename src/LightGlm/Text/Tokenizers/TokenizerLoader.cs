// Opens any tokenizer file we read: Hugging Face tokenizer.json (.json, .json.gz) or a SentencePiece .model (.model.gz).
using LightGlm.Text.Tokenizers.SentencePiece;

namespace LightGlm.Text.Tokenizers;

public static class TokenizerLoader
{
    /// <summary>Picks the loader by content: a JSON object is tokenizer.json, anything else a SentencePiece ModelProto.</summary>
    public static ITokenizer Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"tokenizer file not found: {path}", path);
        bool gz = path.EndsWith(".gz", StringComparison.Ordinal);
        string name = gz ? path[..^3] : path;
        if (name.EndsWith(".json", StringComparison.OrdinalIgnoreCase)) return HfTokenizer.Create(path);
        if (name.EndsWith(".model", StringComparison.OrdinalIgnoreCase)) return SentencePieceTokenizer.Create(path);
        using (var fs = File.OpenRead(path))
        {
            int first = fs.ReadByte();
            if (!gz && first == '{') return HfTokenizer.Create(path);
        }
        return SentencePieceTokenizer.Create(path);
    }
}
