// Opens the files our loaders read with Microsoft.ML.Tokenizers' own classes: a byte-level BPE tokenizer.json as its
// BpeTokenizer (vocab, merges, pre-tokenizer regex and NFC taken from the JSON, no vocab.json/merges.txt needed), a
// SentencePiece .model as its SentencePieceTokenizer. `bench tokenizer` measures these beside ours; the adapter wraps them.
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Ml = Microsoft.ML.Tokenizers;

namespace LightGlm.Text.Tokenizers;

public static class MlTokenizerLoader
{
    /// <summary>GPT-2's split, which a ByteLevel pre-tokenizer with use_regex applies (tokenizers' byte_level.rs).</summary>
    const string Gpt2Regex = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    /// <summary>Ml's SentencePieceTokenizer (or LlamaTokenizer) of a .model / .model.gz, adding no BOS/EOS.</summary>
    public static Ml.SentencePieceTokenizer SentencePiece(string path)
    {
        using var s = Open(path);
        return Ml.SentencePieceTokenizer.Create(s, addBeginningOfSentence: false, addEndOfSentence: false);
    }

    /// <summary>
    /// Ml's BpeTokenizer of a Hugging Face BPE tokenizer.json (.json.gz too). Throws NotSupportedException naming the part
    /// it cannot carry over (a normalizer other than NFC, a pre-tokenizer other than Split/ByteLevel regexes, add_prefix_space).
    /// </summary>
    public static Ml.BpeTokenizer TokenizerJson(string path)
    {
        JsonDocument doc;
        using (var s = Open(path)) doc = JsonDocument.Parse(s);
        using var _ = doc;
        var root = doc.RootElement;
        var model = root.GetProperty("model");
        string type = model.TryGetProperty("type", out var t) ? t.GetString() ?? "" : "";
        if (type != "BPE") throw new NotSupportedException($"{path}: model type '{type}'; Ml's BpeTokenizer reads BPE only");
        var vocab = model.GetProperty("vocab").EnumerateObject().Select(p => new KeyValuePair<string, int>(p.Name, p.Value.GetInt32())).ToList();
        var merges = model.GetProperty("merges").EnumerateArray()
            .Select(m => m.ValueKind == JsonValueKind.String ? m.GetString()! : $"{m[0].GetString()} {m[1].GetString()}").ToList();
        var special = new Dictionary<string, int>();
        if (root.TryGetProperty("added_tokens", out var added))
            foreach (var a in added.EnumerateArray()) special[a.GetProperty("content").GetString()!] = a.GetProperty("id").GetInt32();
        var (regex, byteLevel) = PreTokenizerRegex(root.TryGetProperty("pre_tokenizer", out var pt) ? pt : default, path);
        if (root.TryGetProperty("decoder", out var dec) && dec.ValueKind == JsonValueKind.Object && Str(dec, "type") == "ByteLevel") byteLevel = true;
        return Ml.BpeTokenizer.Create(new Ml.BpeOptions(vocab)
        {
            Merges = merges,
            ByteLevel = byteLevel,
            SpecialTokens = special.Count == 0 ? null : special,
            PreTokenizer = regex is null ? null : new Ml.RegexPreTokenizer(new Regex(regex, RegexOptions.Compiled), special.Count == 0 ? null : special),
            Normalizer = Normalizer(root.TryGetProperty("normalizer", out var n) ? n : default, path),
            UnknownToken = model.TryGetProperty("unk_token", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString() : null,
            ContinuingSubwordPrefix = NonEmpty(model, "continuing_subword_prefix"),
            EndOfWordSuffix = NonEmpty(model, "end_of_word_suffix"),
            FuseUnknownTokens = model.TryGetProperty("fuse_unk", out var f) && f.ValueKind == JsonValueKind.True,
        });
    }

    static (string? Regex, bool ByteLevel) PreTokenizerRegex(JsonElement pt, string path)
    {
        if (pt.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null) return (null, false);
        var parts = Str(pt, "type") == "Sequence" ? pt.GetProperty("pretokenizers").EnumerateArray().ToList() : [pt];
        var regexes = new List<string>();
        bool byteLevel = false;
        foreach (var p in parts)
            switch (Str(p, "type"))
            {
                case "ByteLevel":
                    byteLevel = true;
                    if (p.TryGetProperty("add_prefix_space", out var aps) && aps.ValueKind == JsonValueKind.True)
                        throw new NotSupportedException($"{path}: ByteLevel add_prefix_space=true has no Ml equivalent");
                    if (!p.TryGetProperty("use_regex", out var ur) || ur.ValueKind == JsonValueKind.True) regexes.Add(Gpt2Regex);
                    break;
                case "Split" when Str(p, "behavior") == "Isolated" && !(p.TryGetProperty("invert", out var inv) && inv.ValueKind == JsonValueKind.True):
                    var pat = p.GetProperty("pattern");
                    regexes.Add(pat.TryGetProperty("Regex", out var r) ? r.GetString()! : Regex.Escape(pat.GetProperty("String").GetString()!));
                    break;
                default:
                    throw new NotSupportedException($"{path}: pre-tokenizer {p.GetRawText()[..Math.Min(120, p.GetRawText().Length)]} has no Ml equivalent here");
            }
        if (regexes.Count > 1) throw new NotSupportedException($"{path}: {regexes.Count} splitting regexes in sequence; Ml's RegexPreTokenizer applies one");
        return (regexes.Count == 1 ? regexes[0] : null, byteLevel);
    }

    static Ml.Normalizer? Normalizer(JsonElement n, string path) => n.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null ? null
        : Str(n, "type") switch
        {
            "NFC" => new UnicodeNormalizer(NormalizationForm.FormC),
            "NFKC" => new UnicodeNormalizer(NormalizationForm.FormKC),
            _ => throw new NotSupportedException($"{path}: normalizer {Str(n, "type")} has no Ml equivalent here"),
        };

    /// <summary>NFC/NFKC as an Ml.Normalizer (the library ships lower/upper-case and SentencePiece's only).</summary>
    sealed class UnicodeNormalizer(NormalizationForm form) : Ml.Normalizer
    {
        public override string Normalize(string original) => original.Normalize(form);
        public override string Normalize(ReadOnlySpan<char> original) => original.ToString().Normalize(form);
    }

    static string? Str(JsonElement e, string name) => e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
    static string? NonEmpty(JsonElement e, string name) => Str(e, name) is { Length: > 0 } s ? s : null;

    static Stream Open(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"tokenizer file not found: {path}", path);
        Stream fs = File.OpenRead(path);
        if (!path.EndsWith(".gz", StringComparison.Ordinal)) return fs;
        var ms = new MemoryStream();
        using (var gz = new GZipStream(fs, CompressionMode.Decompress)) gz.CopyTo(ms);
        ms.Position = 0;
        return ms;
    }
}
