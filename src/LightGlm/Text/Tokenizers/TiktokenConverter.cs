// A tiktoken ranks file (one "base64(token bytes) rank" a line: OpenAI's cl100k_base.tiktoken) as a byte-level BPE
// tokenizer.json that our HfTokenizer reads, so that `bench tokenizer` can set ours beside Microsoft.ML.Tokenizers'
// TiktokenTokenizer on the same vocabulary. The conversion is Hugging Face transformers' (TikTokenConverter): a token's
// merges are its splits into two tokens, ordered by its rank, so BPE merges the pair of lowest merged rank first, as
// tiktoken does; ignore_merges returns a whole pre-token that is in the vocabulary as one id, as tiktoken does.

namespace LightGlm.Text.Tokenizers;

public static class TiktokenConverter
{
    /// <summary>cl100k_base's pre-tokenizer pattern as Microsoft.ML.Tokenizers writes it for .NET regexes (tiktoken's own
    /// uses possessive quantifiers, which .NET has not).</summary>
    public const string Cl100kPattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>cl100k_base's special tokens and their ids (tiktoken's openai_public.py).</summary>
    public static readonly IReadOnlyDictionary<string, int> Cl100kSpecialTokens = new Dictionary<string, int>
    {
        ["<|endoftext|>"] = 100257, ["<|fim_prefix|>"] = 100258, ["<|fim_middle|>"] = 100259, ["<|fim_suffix|>"] = 100260, ["<|endofprompt|>"] = 100276,
    };

    /// <summary>cl100k_base.tiktoken as shipped in the NuGet package Microsoft.ML.Tokenizers.Data.Cl100kBase (deflated in
    /// the assembly), so no download is needed.</summary>
    public static Stream OpenCl100kBase()
    {
        var asm = System.Reflection.Assembly.Load("Microsoft.ML.Tokenizers.Data.Cl100kBase"); // its one type is internal
        var s = asm.GetManifestResourceStream("cl100k_base.tiktoken.deflate")
            ?? throw new InvalidDataException($"{asm.GetName().Name} has no resource cl100k_base.tiktoken.deflate (has: {string.Join(", ", asm.GetManifestResourceNames())})");
        return new System.IO.Compression.DeflateStream(s, System.IO.Compression.CompressionMode.Decompress);
    }

    /// <summary>The tokens of a ranks file, indexed by rank. Lines are "base64 rank" (tiktoken's files) or "base64" with
    /// the rank implied by the line's place (Microsoft.ML.Tokenizers' data packages, after a "Capacity: N" line).
    /// Ranks must be 0..N-1, each once.</summary>
    public static byte[][] ReadRanks(Stream ranks, string what = "tiktoken ranks")
    {
        var byRank = new SortedDictionary<int, byte[]>();
        using var r = new StreamReader(ranks);
        int line = 0, next = 0;
        while (r.ReadLine() is { } l)
        {
            line++;
            if (l.Length == 0 || (line == 1 && l.StartsWith("Capacity:", StringComparison.Ordinal))) continue;
            var parts = l.Split(' ');
            int rank = next;
            if (parts.Length > 2 || (parts.Length == 2 && (!int.TryParse(parts[1], out rank) || rank < 0)))
                throw new InvalidDataException($"{what}, line {line}: expected 'base64 rank' or 'base64', got '{(l.Length > 60 ? l[..60] + "..." : l)}'");
            byte[] bytes;
            try { bytes = Convert.FromBase64String(parts[0]); }
            catch (FormatException) { throw new InvalidDataException($"{what}, line {line}: '{parts[0]}' is not base64"); }
            if (!byRank.TryAdd(rank, bytes)) throw new InvalidDataException($"{what}, line {line}: rank {rank} appears twice");
            next = rank + 1;
        }
        if (byRank.Count == 0) throw new InvalidDataException($"{what}: no tokens");
        if (byRank.Keys.Last() != byRank.Count - 1) throw new InvalidDataException($"{what}: ranks are not 0..{byRank.Count - 1} (largest {byRank.Keys.Last()})");
        return byRank.Values.ToArray();
    }

    /// <summary>Writes the tokenizer.json: id = rank, merges = every split of a token into two tokens, in rank order.</summary>
    public static void WriteTokenizerJson(IReadOnlyList<byte[]> tokens, string pattern, IReadOnlyDictionary<string, int> specialTokens, Stream output)
    {
        var strings = tokens.Select(ByteLevelBpeJson.Str).ToArray();
        var rank = new Dictionary<string, int>(strings.Length);
        for (int i = 0; i < strings.Length; i++)
            if (!rank.TryAdd(strings[i], i)) throw new InvalidDataException($"token {i} repeats token {rank[strings[i]]}");
        var merges = new List<(string L, string R)>();
        for (int i = 0; i < strings.Length; i++)
        {
            string t = strings[i];
            var splits = new List<(int L, int R, string Ls, string Rs)>();
            for (int k = 1; k < t.Length; k++)
                if (rank.TryGetValue(t[..k], out int l) && rank.TryGetValue(t[k..], out int rr)) splits.Add((l, rr, t[..k], t[k..]));
            merges.AddRange(splits.OrderBy(s => s.L).ThenBy(s => s.R).Select(s => (s.Ls, s.Rs)));
        }

        ByteLevelBpeJson.Write(output, strings, 0, merges, specialTokens.OrderBy(kv => kv.Value).Select(kv => (kv.Key, kv.Value)), pattern, ignoreMerges: true);
    }
}
