// Loads a Hugging Face tokenizer.json with a BPE model: byte-level (GPT-2, Qwen, our own) or
// SentencePiece-style with byte fallback (LLaMA-2: Prepend/Replace normalizer or Metaspace), added tokens.
using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;

namespace LightGlm.Text.Tokenizers;

public sealed class HfTokenizer : ITokenizer
{
    readonly Dictionary<string, int> _vocab;
    readonly string[] _idToToken;
    readonly BpeMerger _merger;
    readonly HfNormalizer? _normalizer;
    readonly HfPreTokenizer _pre;
    readonly HfDecoder? _decoder;
    readonly AddedTokenSplitter _added;
    readonly HashSet<int> _specialIds;
    readonly int[] _byteIds = new int[256];       // byte-level: byte -> id of its single-char token
    readonly int[] _fallbackIds = new int[256];   // byte fallback: byte -> id of "<0xXX>", or -1
    readonly int? _unk;
    readonly bool _byteFallback, _fuseUnk, _ignoreMerges;
    readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);

    HfTokenizer(JsonElement root)
    {
        var model = root.RequiredObject("the top level").Field("model").RequiredObject("model");
        string type = model.TryGetProperty("type", out var t) ? t.RequiredString("model.type") : "BPE";
        if (type != "BPE") throw new NotSupportedException($"tokenizer.json: model type '{type}' is not supported (BPE only; use SentencePieceTokenizer for Unigram .model files).");
        foreach (var k in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
            if (model.TryGetProperty(k, out var v) && v.ValueKind == JsonValueKind.String && v.GetString()!.Length > 0)
                throw new NotSupportedException($"tokenizer.json: BPE {k} '{v.GetString()}' is not supported.");
        // BPE-dropout is a probability (tokenizers' BPE::builder refuses others); null or absent = none
        if (model.TryGetProperty("dropout", out var dropout) && dropout.ValueKind != JsonValueKind.Null
            && !(dropout.ValueKind == JsonValueKind.Number && dropout.TryGetDouble(out double rate) && rate is >= 0 and <= 1))
            throw new InvalidDataException($"tokenizer.json: model.dropout must be null or a number in [0, 1], found {HfJson.Found(dropout)}.");

        // Token -> id must be one-to-one: a token listed twice, or two tokens on one id, makes decode ambiguous.
        _vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        var byId = new Dictionary<int, string>();
        foreach (var p in model.Field("vocab").RequiredObject("model.vocab").EnumerateObject())
        {
            int id = p.Value.RequiredInt($"model.vocab['{p.Name}']");
            if (!_vocab.TryAdd(p.Name, id)) throw new InvalidDataException($"tokenizer.json: model.vocab lists token '{p.Name}' twice (ids {_vocab[p.Name]} and {id}).");
            if (!byId.TryAdd(id, p.Name)) throw new InvalidDataException($"tokenizer.json: model.vocab gives id {id} to two tokens, '{byId[id]}' and '{p.Name}'.");
        }
        var added = new List<(string Content, int Id, bool Special)>();
        if (root.TryGetProperty("added_tokens", out var at) && at.ValueKind != JsonValueKind.Null)
        {
            int i = 0;
            foreach (var a in at.RequiredArray("added_tokens"))
            {
                string where = $"added_tokens[{i++}]";
                a.RequiredObject(where);
                var token = (a.Field("content").RequiredString(where + ".content"), a.Field("id").RequiredInt(where + ".id"),
                             a.TryGetProperty("special", out var sp) && sp.RequiredBool(where + ".special"));
                // an added token may restate a vocabulary entry (same content, same id), never take another token's id
                if (byId.TryGetValue(token.Item2, out var holder) && holder != token.Item1)
                    throw new InvalidDataException($"tokenizer.json: {where} '{token.Item1}' has id {token.Item2}, which is already token '{holder}'.");
                byId[token.Item2] = token.Item1;
                added.Add(token);
            }
        }
        // Ids index arrays: refuse negative or absurd ones (a corrupt file) before allocating.
        const int MaxId = 1 << 24;
        foreach (var (tok, id) in _vocab.Select(kv => (kv.Key, kv.Value)).Concat(added.Select(a => (a.Content, a.Id))))
            if (id is < 0 or >= MaxId) throw new InvalidDataException($"tokenizer.json: token '{tok}' has id {id}, outside 0..{MaxId - 1}.");
        int size = Math.Max(_vocab.Count == 0 ? 0 : _vocab.Values.Max() + 1, added.Count == 0 ? 0 : added.Max(a => a.Id) + 1);
        _idToToken = new string[size];
        foreach (var (tok, id) in _vocab) _idToToken[id] = tok;
        foreach (var a in added) _idToToken[a.Id] = a.Content;
        _added = new AddedTokenSplitter(added.Select(a => (a.Content, a.Id)));
        _specialIds = added.Where(a => a.Special).Select(a => a.Id).ToHashSet();
        if (added.GroupBy(a => a.Content).FirstOrDefault(g => g.Count() > 1) is { } dup)
            throw new InvalidDataException($"tokenizer.json: added token '{dup.Key}' is listed {dup.Count()} times.");
        SpecialTokens = added.Where(a => a.Special).ToDictionary(a => a.Content, a => a.Id);

        var pairs = new Dictionary<long, (float, int)>();
        int rank = 0;
        foreach (var m in model.Field("merges").RequiredArray("model.merges"))
        {
            string a, b;
            if (m.ValueKind == JsonValueKind.Array)
            {
                if (m.GetArrayLength() != 2) throw new InvalidDataException($"tokenizer.json: merge #{rank} is an array of {m.GetArrayLength()} items, not [left, right].");
                a = m[0].RequiredString($"merge #{rank}"); b = m[1].RequiredString($"merge #{rank}");
            }
            else
            {
                var s = m.RequiredString($"merge #{rank}");
                // "left right": the separator is a space after the first character (a left token may itself be a space);
                // "" and " " have none (IndexOf(' ', 1) would throw on "").
                int sp = s.Length > 1 ? s.IndexOf(' ', 1) : -1;
                if (sp < 0) throw new InvalidDataException($"tokenizer.json: merge #{rank} '{s}' is not \"left right\".");
                a = s[..sp]; b = s[(sp + 1)..];
            }
            if (!_vocab.TryGetValue(a, out int ia) || !_vocab.TryGetValue(b, out int ib) || !_vocab.TryGetValue(a + b, out int iab))
                throw new InvalidDataException($"tokenizer.json: merge #{rank} ('{a}', '{b}') uses a token missing from the vocabulary.");
            pairs.TryAdd(BpeMerger.Key(ia, ib), (rank, iab));
            rank++;
        }
        _merger = new BpeMerger(pairs);
        _byteFallback = model.TryGetProperty("byte_fallback", out var bf) && bf.RequiredBool("byte_fallback");
        _fuseUnk = model.TryGetProperty("fuse_unk", out var fu) && fu.RequiredBool("fuse_unk");
        _ignoreMerges = model.TryGetProperty("ignore_merges", out var im) && im.RequiredBool("ignore_merges");
        if (model.TryGetProperty("unk_token", out var unk) && unk.ValueKind == JsonValueKind.String && _vocab.TryGetValue(unk.GetString()!, out int unkId)) _unk = unkId;

        _normalizer = root.TryGetProperty("normalizer", out var n) ? HfNormalizer.Parse(n) : null;
        _pre = HfPreTokenizer.Parse(root.TryGetProperty("pre_tokenizer", out var pt) ? pt : default);
        _decoder = root.TryGetProperty("decoder", out var d) ? HfDecoder.Parse(d) : null;
        for (int b = 0; b < 256; b++)
        {
            _byteIds[b] = _vocab.TryGetValue(ByteLevel.ByteToChar[b].ToString(), out int id) ? id : -1;
            _fallbackIds[b] = _vocab.TryGetValue($"<0x{b:X2}>", out int fid) ? fid : -1;
        }
        if (_pre.ByteLevel && _byteIds.Any(x => x < 0))
            throw new InvalidDataException("tokenizer.json: a byte-level tokenizer must have all 256 byte tokens in its vocabulary.");
    }

    /// <summary>Reads tokenizer.json (UTF-8 JSON).</summary>
    public static HfTokenizer Create(Stream tokenizerJson)
    {
        try
        {
            using var doc = JsonDocument.Parse(tokenizerJson, new JsonDocumentOptions { MaxDepth = 256 });
            return new HfTokenizer(doc.RootElement);
        }
        catch (JsonException e) { throw new InvalidDataException($"tokenizer.json is not valid JSON: {e.Message}"); }
        catch (KeyNotFoundException e) { throw new InvalidDataException($"tokenizer.json lacks a required field: {e.Message}"); }
        catch (InvalidOperationException e) { throw new InvalidDataException($"tokenizer.json has a field of the wrong type: {e.Message}"); }
        catch (ArgumentException e) when (e is not ArgumentOutOfRangeException) { throw new InvalidDataException($"tokenizer.json is inconsistent: {e.Message}"); }
        catch (FormatException e) { throw new InvalidDataException($"tokenizer.json has a number that is not a 32-bit integer: {e.Message}"); }
    }

    public static HfTokenizer Create(string path)
    {
        using var fs = File.OpenRead(path);
        Stream s = path.EndsWith(".gz", StringComparison.Ordinal) ? new System.IO.Compression.GZipStream(fs, System.IO.Compression.CompressionMode.Decompress) : fs;
        try { return Create(s); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path}: {e.Message}"); }
        finally { s.Dispose(); }
    }

    public int VocabSize => _idToToken.Length;
    public IReadOnlyDictionary<string, int> SpecialTokens { get; }
    public string? IdToToken(int id) => (uint)id < (uint)_idToToken.Length ? _idToToken[id] : null;
    public int? TokenToId(string token) => _vocab.TryGetValue(token, out int id) ? id : _added.Lookup(token);

    /// <summary>Per-thread buffers reused by every Encode call on that thread (the tokenizer is shared across threads).</summary>
    sealed class Scratch
    {
        public readonly List<int> Ids = new(128), Symbols = new(64);
        public readonly List<(int Start, int Length)> Pieces = new(64), Next = new(64);
        public byte[] Utf8 = new byte[256];
    }

    [ThreadStatic] static Scratch? _scratch;

    public int[] Encode(ReadOnlySpan<char> text, bool parseSpecialTokens = true)
    {
        var sc = _scratch ??= new Scratch();
        var ids = sc.Ids;
        ids.Clear();
        if (!parseSpecialTokens || _added.IsEmpty) EncodeSegment(text, ids, sc);
        else _added.Encode(text, ids, (segment, list) => EncodeSegment(segment, list, sc));
        return ids.ToArray();
    }

    /// <summary>Word (pre-token) -> ids, as Hugging Face's BPE cache: most text is made of words seen before.</summary>
    const int CacheCapacity = 200_000, CacheMaxWordLength = 64;
    int _cacheCount;

    void EncodeSegment(ReadOnlySpan<char> segment, List<int> ids, Scratch sc)
    {
        if (segment.Length == 0) return;
        string s = _normalizer is null ? (Utf16.HasLoneSurrogate(segment) ? Utf16.ReplaceLoneSurrogates(segment) : segment.ToString()) : _normalizer.Apply(segment.ToString());
        if (_pre.MetaspaceReplacement is { } ms)
        {
            s = s.Replace(" ", ms, StringComparison.Ordinal);
            if (_pre.MetaspacePrependScheme != "never" && !s.StartsWith(ms, StringComparison.Ordinal)) s = ms + s;
        }
        if (_pre.ByteLevelPrefixSpace && !s.StartsWith(' ')) s = " " + s;
        // Apply the split steps one after another: each splits every piece of the previous.
        var pieces = sc.Pieces;
        pieces.Clear();
        pieces.Add((0, s.Length));
        foreach (var split in _pre.Splits)
        {
            var next = sc.Next;
            next.Clear();
            foreach (var (a, l) in pieces)
            {
                int before = next.Count;
                split.Split(s.AsSpan(a, l), next);
                if (a != 0) for (int k = before; k < next.Count; k++) next[k] = (next[k].Item1 + a, next[k].Item2);
            }
            pieces.Clear();
            pieces.AddRange(next);
        }
        if (_pre.MetaspaceReplacement is { } rep && _pre.MetaspaceSplit) SplitBefore(s, pieces, sc.Next, rep[0]);
        var cache = _cache.GetAlternateLookup<ReadOnlySpan<char>>();
        foreach (var (a, l) in pieces)
        {
            if (l == 0) continue;
            var piece = s.AsSpan(a, l);
            if (cache.TryGetValue(piece, out var cached)) { ids.AddRange(cached); continue; }
            int before = ids.Count;
            EncodePiece(piece, ids, sc);
            if (l <= CacheMaxWordLength)
            {
                if (Interlocked.Increment(ref _cacheCount) > CacheCapacity) { _cache.Clear(); Interlocked.Exchange(ref _cacheCount, 0); }
                cache.TryAdd(piece, ids.GetRange(before, ids.Count - before).ToArray());
            }
        }
    }

    /// <summary>Metaspace split: each piece is cut before every <paramref name="mark"/> (in place, through <paramref name="tmp"/>).</summary>
    static void SplitBefore(string s, List<(int Start, int Length)> pieces, List<(int Start, int Length)> tmp, char mark)
    {
        tmp.Clear();
        foreach (var (a, l) in pieces)
        {
            int st = a;
            for (int i = a + 1; i < a + l; i++) if (s[i] == mark) { tmp.Add((st, i - st)); st = i; }
            tmp.Add((st, a + l - st));
        }
        pieces.Clear();
        pieces.AddRange(tmp);
    }

    void EncodePiece(ReadOnlySpan<char> piece, List<int> ids, Scratch sc)
    {
        var symbols = sc.Symbols;
        symbols.Clear();
        if (_pre.ByteLevel)
        {
            if (_ignoreMerges && _vocab.TryGetValue(ByteLevel.Encode(piece), out int whole)) { ids.Add(whole); return; }
            int max = Encoding.UTF8.GetMaxByteCount(piece.Length);
            if (sc.Utf8.Length < max) sc.Utf8 = new byte[Math.Max(max, 2 * sc.Utf8.Length)];
            int nb = Encoding.UTF8.GetBytes(piece, sc.Utf8);
            foreach (byte b in sc.Utf8.AsSpan(0, nb)) symbols.Add(_byteIds[b]);
            _merger.Merge(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(symbols), ids);
            return;
        }
        var vocab = _vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        if (_ignoreMerges && vocab.TryGetValue(piece, out int w)) { ids.Add(w); return; }
        // Characters: known ones are symbols; unknown ones become byte-fallback tokens (never merged) or unk.
        Span<byte> utf8 = stackalloc byte[4];
        for (int i = 0; i < piece.Length;)
        {
            int n = char.IsHighSurrogate(piece[i]) && i + 1 < piece.Length ? 2 : 1;
            if (vocab.TryGetValue(piece.Slice(i, n), out int id)) symbols.Add(id);
            else if (_byteFallback && _fallbackIds[0] >= 0)
            {
                Rune.TryCreate(piece[i], out var r);
                if (n == 2) r = new Rune(piece[i], piece[i + 1]);
                int len = r.EncodeToUtf8(utf8);
                for (int k = 0; k < len; k++) symbols.Add(~_fallbackIds[utf8[k]]); // marked: not mergeable
            }
            else if (_unk is { } u) symbols.Add(~u);
            else throw new InvalidDataException($"tokenizer.json has no token for '{piece.Slice(i, n)}' and no unk/byte fallback.");
            i += n;
        }
        // Merge each run of mergeable symbols separately; marked ones pass through (fused if unk and fuse_unk).
        int start = 0;
        for (int i = 0; i <= symbols.Count; i++)
        {
            if (i < symbols.Count && symbols[i] >= 0) continue;
            if (i > start) _merger.Merge(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(symbols)[start..i], ids);
            if (i < symbols.Count)
            {
                int id = ~symbols[i];
                if (!(_fuseUnk && id == _unk && ids.Count > 0 && ids[^1] == _unk && i > 0 && symbols[i - 1] < 0)) ids.Add(id);
            }
            start = i + 1;
        }
    }

    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = false)
    {
        var tokens = new List<string>(ids.Length);
        foreach (int id in ids)
        {
            if ((uint)id >= (uint)_idToToken.Length || _idToToken[id] is null)
                throw new ArgumentOutOfRangeException(nameof(ids), $"token id {id} is outside the vocabulary (size {_idToToken.Length}).");
            if (skipSpecialTokens && _specialIds.Contains(id)) continue;
            tokens.Add(_idToToken[id]);
        }
        return _decoder is null ? string.Concat(tokens) : string.Concat(_decoder.Apply(tokens));
    }
}

internal static class HfJson
{
    /// <summary>The string value of <paramref name="e"/>; null or a non-string is a corrupt file (GetString() would return null or throw).</summary>
    public static string RequiredString(this JsonElement e, string what) => e.ValueKind == JsonValueKind.String
        ? e.GetString()!
        : throw new InvalidDataException($"tokenizer.json: {what} must be a string, found {Found(e)}.");

    /// <summary>A required field of an object, named when missing (not .NET's "the given key was not present").</summary>
    public static JsonElement Field(this JsonElement e, string name) =>
        e.RequiredObject($"the object holding '{name}'").TryGetProperty(name, out var v) ? v
        : throw new InvalidDataException($"tokenizer.json: field '{name}' is missing (in {Snippet(e)}).");

    public static JsonElement RequiredObject(this JsonElement e, string what) => e.ValueKind == JsonValueKind.Object ? e
        : throw new InvalidDataException($"tokenizer.json: {what} must be an object, found {Found(e)}.");

    public static JsonElement.ArrayEnumerator RequiredArray(this JsonElement e, string what) => e.ValueKind == JsonValueKind.Array ? e.EnumerateArray()
        : throw new InvalidDataException($"tokenizer.json: {what} must be an array, found {Found(e)}.");

    public static int RequiredInt(this JsonElement e, string what) => e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int v) ? v
        : throw new InvalidDataException($"tokenizer.json: {what} must be a 32-bit integer, found {Found(e)}.");

    public static bool RequiredBool(this JsonElement e, string what) => e.ValueKind switch
    {
        JsonValueKind.True => true, JsonValueKind.False => false,
        _ => throw new InvalidDataException($"tokenizer.json: {what} must be true or false, found {Found(e)}."),
    };

    /// <summary>What a value is, for messages: its kind and (short) text.</summary>
    public static string Found(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Null => "null", JsonValueKind.Undefined => "nothing",
        JsonValueKind.Object => "an object", JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string " + Snippet(e), JsonValueKind.Number => "the number " + Snippet(e), _ => "the boolean " + Snippet(e),
    };

    static string Snippet(JsonElement e)
    {
        string raw = e.ValueKind == JsonValueKind.Undefined ? "" : e.GetRawText();
        return raw.Length > 60 ? raw[..60] + "…" : raw;
    }
}
