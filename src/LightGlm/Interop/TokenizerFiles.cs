// Which tokenizer files travel with a checkpoint, and what kind each is (the loaders live in LightGlm.Text).
namespace LightGlm.Interop;

public static class TokenizerFiles
{
    /// <summary>Files copied verbatim on import and export (tokenizers, their configs, generation defaults).</summary>
    public static readonly string[] Names =
    [
        "tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json",
        "added_tokens.json", "vocab.json", "merges.txt", "generation_config.json",
    ];

    /// <summary>
    /// What a tokenizer.model is: a SentencePiece ModelProto (protobuf; ChatGLM2/3, LLaMA-2) or tiktoken ranks
    /// ("base64 rank" lines; GLM-4). The first byte of a ModelProto is field 1 (pieces), tag 0x0A.
    /// </summary>
    public static string Kind(string path)
    {
        string name = Path.GetFileName(path);
        if (name == "tokenizer.json") return "Hugging Face tokenizer.json";
        if (name != "tokenizer.model") return "configuration";
        using var fs = File.OpenRead(path);
        var head = new byte[Math.Min(64, (int)fs.Length)];
        fs.ReadExactly(head);
        if (head.Length > 0 && head[0] == 0x0A) return "SentencePiece model";
        string text = System.Text.Encoding.ASCII.GetString(head);
        var first = text.Split('\n')[0].Split(' ');
        return first.Length == 2 && int.TryParse(first[1], out _) ? "tiktoken BPE ranks" : "unknown tokenizer.model format";
    }

    /// <summary>Copies the tokenizer files present in <paramref name="from"/> to <paramref name="to"/> (temp + rename); returns (name, kind).</summary>
    public static List<(string Name, string Kind)> Copy(string from, string to)
    {
        var copied = new List<(string, string)>();
        foreach (var n in Names)
        {
            string src = Path.Combine(from, n);
            string dst = Path.Combine(to, n);
            if (!File.Exists(src) || Path.GetFullPath(src) == Path.GetFullPath(dst)) continue;
            Model.Checkpoints.AtomicFile.Copy(src, dst);
            copied.Add((n, Kind(src)));
        }
        return copied;
    }
}
