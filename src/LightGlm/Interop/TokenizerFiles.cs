// Which tokenizer files travel with a checkpoint, and what kind each is (the loaders live in LightGlm.Text).
using LightGlm.Model;
using LightGlm.IO;

namespace LightGlm.Interop;

public static class TokenizerFiles
{
    /// <summary>Files copied verbatim on import and export (tokenizers, their configs, generation defaults).</summary>
    public static IReadOnlyList<string> Names => Model.Checkpoints.ModelDirectory.TokenizerFileNames;

    /// <summary>
    /// What a tokenizer.model is: a SentencePiece ModelProto (protobuf; ChatGLM2/3, LLaMA-2) or tiktoken ranks
    /// ("base64 rank" lines; GLM-4). The first byte of a ModelProto is field 1 (pieces), tag 0x0A.
    /// </summary>
    public static string Kind(string path)
    {
        string name = Path.GetFileName(path);
        if (name == "tokenizer.json") return "Hugging Face tokenizer.json";
        if (name != "tokenizer.model") return "configuration";
        if (Text.Tokenizers.ModelTokenizer.IsSentencePiece(path)) return "SentencePiece model";
        using var fs = File.OpenRead(path);
        var head = new byte[Math.Min(64, (int)fs.Length)];
        fs.ReadExactly(head);
        string text = System.Text.Encoding.ASCII.GetString(head);
        var first = text.Split('\n')[0].Split(' ');
        return first.Length == 2 && int.TryParse(first[1], out _) ? "tiktoken BPE ranks" : "unknown tokenizer.model format";
    }

    /// <summary>Copies the tokenizer files present in <paramref name="from"/> to <paramref name="to"/> (temp + rename); returns (name, kind).</summary>
    public static List<(string Name, string Kind)> Copy(string from, string to) =>
        Model.Checkpoints.ModelDirectory.CopyTokenizerFiles(from, to).Select(n => (n, Kind(Path.Combine(to, n)))).ToList();

    /// <summary>
    /// transformers' AutoTokenizer needs tokenizer_config.json beside a bare tokenizer.json (ours): when the export has
    /// tokenizer.json but no config, writes one (PreTrainedTokenizerFast; bos/eos/pad named from the model config's ids,
    /// else our reserved specials) and special_tokens_map.json. Returns the files written.
    /// </summary>
    public static List<(string Name, string Kind)> WriteConfigFor(string dir, ModelConfig c)
    {
        string tok = Path.Combine(dir, "tokenizer.json"), cfg = Path.Combine(dir, "tokenizer_config.json");
        if (!File.Exists(tok) || File.Exists(cfg)) return [];
        var added = new Dictionary<int, string>();
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(tok));
            if (doc.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object && doc.RootElement.TryGetProperty("added_tokens", out var at))
                foreach (var a in at.EnumerateArray())
                    if (a.TryGetProperty("special", out var sp) && sp.GetBoolean()) added[a.GetProperty("id").GetInt32()] = a.GetProperty("content").GetString()!;
        }
        catch (System.Text.Json.JsonException e) { throw Model.Checkpoints.JsonFile.Malformed(tok, e); }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{tok}: 'added_tokens' is not a list of {{id, content, special}} objects ({e.Message}); fix or regenerate the tokenizer", e);
        }
        string? Named(int? id, string ours) => id is { } i && added.TryGetValue(i, out var t) ? t : added.ContainsValue(ours) ? ours : null;
        var map = new System.Text.Json.Nodes.JsonObject();
        foreach (var (key, id, ours) in new[] { ("bos_token", c.BosTokenId, Text.Tokenizers.SpecialTokens.BosText), ("eos_token", c.EosTokenId, Text.Tokenizers.SpecialTokens.EosText), ("pad_token", c.PadTokenId, Text.Tokenizers.SpecialTokens.PadText) })
            if (Named(id, ours) is { } t) map[key] = t;
        var config = (System.Text.Json.Nodes.JsonObject)map.DeepClone();
        config["tokenizer_class"] = "PreTrainedTokenizerFast";
        config["model_max_length"] = c.MaxPositionEmbeddings;
        config["clean_up_tokenization_spaces"] = false;
        var opts = new System.Text.Json.JsonSerializerOptions { WriteIndented = true };
        AtomicFile.WriteAllText(cfg, config.ToJsonString(opts) + "\n");
        AtomicFile.WriteAllText(Path.Combine(dir, "special_tokens_map.json"), map.ToJsonString(opts) + "\n");
        return [("tokenizer_config.json", "configuration (written)"), ("special_tokens_map.json", "configuration (written)")];
    }
}
