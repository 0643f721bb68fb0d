// Loads a SentencePiece .model (ChatGLM2/3, LLaMA-2, spm_train output) and encodes/decodes as
// sentencepiece 0.1.97 does: normaliser, then unigram Viterbi or BPE merges by piece score, byte fallback
// for unknown characters, user-defined pieces kept whole, control pieces invisible.
using System.Text;

namespace LightGlm.Text.Tokenizers.SentencePiece;

public sealed class SentencePieceTokenizer : ITokenizer
{
    readonly SentencePieceModel _m;
    readonly Piece[] _pieces;
    readonly Dictionary<string, int> _normal = new(StringComparer.Ordinal);    // NORMAL, USER_DEFINED, UNUSED
    readonly Dictionary<string, int> _reserved = new(StringComparer.Ordinal);  // CONTROL, UNKNOWN, BYTE
    readonly ByteTrie _trie = new();           // the normal pieces, for unigram lattices and BPE merges
    readonly ByteTrie? _userDefined;
    readonly SentencePieceNormalizer _normalizer;
    readonly AddedTokenSplitter _specials;
    readonly int[] _byteIds = new int[256];
    readonly int _unk;
    readonly float _minScore = float.MaxValue, _maxScore = float.Epsilon; // C++ FLT_MAX / FLT_MIN (smallest normal > 0)

    public SentencePieceModel Model => _m;

    SentencePieceTokenizer(SentencePieceModel m, string where)
    {
        _m = m;
        _pieces = [.. m.Pieces];
        if (m.ModelType is not (SentencePieceModelType.Unigram or SentencePieceModelType.Bpe))
            throw new NotSupportedException($"{where}: SentencePiece model_type {m.ModelType} is not supported (UNIGRAM and BPE are).");
        if (m.TreatWhitespaceAsSuffix)
            throw new NotSupportedException($"{where}: treat_whitespace_as_suffix models are not supported.");
        if (m.HasDenormalizer)
            throw new NotSupportedException($"{where}: the model has a denormalizer_spec (decode-time rules), which is not supported.");
        if (_pieces.Length == 0) throw new InvalidDataException($"{where}: the model has no pieces. Re-download or re-train it.");
        _unk = -1;
        Array.Fill(_byteIds, -1);
        var userDefined = new List<string>();
        for (int i = 0; i < _pieces.Length; i++)
        {
            var p = _pieces[i];
            if (p.Text.Length == 0) throw new InvalidDataException($"{where}: piece #{i} is empty.");
            bool normal = p.Type is PieceType.Normal or PieceType.UserDefined or PieceType.Unused;
            if (!(normal ? _normal : _reserved).TryAdd(p.Text, i))
                throw new InvalidDataException($"{where}: piece #{i} '{p.Text}' is already defined.");
            if (p.Type == PieceType.UserDefined) userDefined.Add(p.Text);
            if (p.Type == PieceType.Unknown)
            {
                if (_unk >= 0) throw new InvalidDataException($"{where}: piece #{i}: unk is already defined (#{_unk}).");
                _unk = i;
            }
            if (p.Type == PieceType.Byte)
            {
                if (!m.ByteFallback) throw new InvalidDataException($"{where}: byte piece #{i} '{p.Text}' is found although byte_fallback is false.");
                int b = PieceToByte(p.Text);
                if (b < 0) throw new InvalidDataException($"{where}: byte piece #{i} '{p.Text}' is not <0xXX>.");
                _byteIds[b] = i;
            }
            if (p.Type == PieceType.Normal) { _minScore = Math.Min(_minScore, p.Score); _maxScore = Math.Max(_maxScore, p.Score); }
            if (normal) _trie.Add(Encoding.UTF8.GetBytes(p.Text), i);
        }
        if (_unk < 0) throw new InvalidDataException($"{where}: the model defines no unknown piece (<unk>).");
        if (m.ByteFallback && _byteIds.Any(x => x < 0))
            throw new InvalidDataException($"{where}: byte_fallback is true but the model lacks some of the 256 <0xXX> pieces.");
        if (userDefined.Count > 0)
        {
            _userDefined = new ByteTrie();
            foreach (var u in userDefined) _userDefined.Add(Encoding.UTF8.GetBytes(u), 0);
        }
        _normalizer = new SentencePieceNormalizer(m, _userDefined, where);
        var specials = _reserved.Where(kv => _pieces[kv.Value].Type is PieceType.Control or PieceType.Unknown).ToList();
        SpecialTokens = specials.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        _specials = new AddedTokenSplitter(specials.Where(kv => _pieces[kv.Value].Type == PieceType.Control).Select(kv => (kv.Key, kv.Value)));
    }

    /// <summary>Reads a serialized ModelProto.</summary>
    public static SentencePieceTokenizer Create(ReadOnlySpan<byte> model, string where = "tokenizer.model") =>
        new(SentencePieceModel.Parse(model, where), where);

    /// <summary>Reads a .model file (or .model.gz).</summary>
    public static SentencePieceTokenizer Create(string path)
    {
        byte[] bytes;
        if (path.EndsWith(".gz", StringComparison.Ordinal))
        {
            using var fs = File.OpenRead(path);
            using var gz = new System.IO.Compression.GZipStream(fs, System.IO.Compression.CompressionMode.Decompress);
            using var ms = new MemoryStream();
            try { gz.CopyTo(ms); }
            catch (InvalidDataException e) { throw new InvalidDataException($"{path}: not a valid gzip file: {e.Message}"); }
            bytes = ms.ToArray();
        }
        else bytes = File.ReadAllBytes(path);
        return Create(bytes, path);
    }

    public int VocabSize => _pieces.Length;
    public IReadOnlyDictionary<string, int> SpecialTokens { get; }
    public string? IdToToken(int id) => (uint)id < (uint)_pieces.Length ? _pieces[id].Text : null;
    public int? TokenToId(string token) => _reserved.TryGetValue(token, out int r) ? r : _normal.TryGetValue(token, out int n) ? n : null;

    /// <summary>
    /// Encodes like SentencePieceProcessor::EncodeAsIds (no BOS/EOS). With <paramref name="parseSpecialTokens"/>, the
    /// literal text of a control piece (e.g. &lt;|sep|&gt;) becomes its id and the text between is encoded segment by
    /// segment (as Hugging Face's slow tokenizers do); without, the whole text goes to SentencePiece, where control
    /// pieces are never matched (exactly spm's ids).
    /// </summary>
    public int[] Encode(ReadOnlySpan<char> text, bool parseSpecialTokens = true)
    {
        var ids = new List<int>(text.Length / 2 + 4);
        var normalized = new List<byte>(text.Length * 3 + 3);
        if (!parseSpecialTokens) { EncodeSegment(text, ids, normalized); return [.. ids]; }
        int start = 0;
        foreach (var (pos, len, id) in _specials.Find(text))
        {
            EncodeSegment(text[start..pos], ids, normalized);
            ids.Add(id);
            start = pos + len;
        }
        EncodeSegment(text[start..], ids, normalized);
        return [.. ids];
    }

    void EncodeSegment(ReadOnlySpan<char> text, List<int> ids, List<byte> normalized)
    {
        if (text.IsEmpty) return;
        // Lone surrogates become U+FFFD (UTF-8 cannot carry them; the C++ library never sees them).
        byte[] utf8 = Encoding.UTF8.GetBytes(text.ToArray());
        _normalizer.Normalize(utf8, normalized);
        if (normalized.Count == 0) return;
        var s = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(normalized);
        var pieces = _m.ModelType == SentencePieceModelType.Unigram ? EncodeUnigram(s) : EncodeBpe(s);
        // A run of unknown pieces is one unknown piece (as spm_encode gives, for unigram and BPE alike).
        for (int i = pieces.Count - 1; i > 0; i--)
            if (pieces[i].Id == _unk && pieces[i - 1].Id == _unk)
            {
                pieces[i - 1] = (pieces[i - 1].Start, pieces[i - 1].Length + pieces[i].Length, _unk);
                pieces.RemoveAt(i);
            }
        foreach (var (start, length, id) in pieces)
        {
            if (id == _unk && _m.ByteFallback)
                for (int i = 0; i < length; i++) ids.Add(_byteIds[s[start + i]]);
            else ids.Add(id);
        }
    }

    /// <summary>unigram_model.cc EncodeOptimized: best-scoring path over the lattice of pieces; an unknown character costs min score − 10.</summary>
    List<(int Start, int Length, int Id)> EncodeUnigram(ReadOnlySpan<byte> s)
    {
        int n = s.Length;
        var bestScore = new float[n + 1];
        var startsAt = new int[n + 1];
        var bestId = new int[n + 1];
        Array.Fill(startsAt, -1);
        float unkScore = _minScore - 10f;
        for (int start = 0; start < n;)
        {
            float tillHere = bestScore[start];
            bool hasSingle = false;
            int mblen = Math.Min(Utf8.OneCharLen(s[start]), n - start);
            int node = 0;
            for (int k = start; k < n;)
            {
                if (!_trie.Step(ref node, s[k])) break;
                k++;
                int id = _trie.Value(node);
                if (id < 0) continue;
                var p = _pieces[id];
                if (p.Type == PieceType.Unused) continue;
                int length = k - start;
                // User-defined pieces get a bonus so that they are always chosen (computed in double, as in C++).
                double score = p.Type == PieceType.UserDefined ? length * (double)_maxScore - 0.1 : p.Score;
                double candidate = score + tillHere;
                if (startsAt[k] == -1 || candidate > bestScore[k]) { bestScore[k] = (float)candidate; startsAt[k] = start; bestId[k] = id; }
                if (!hasSingle && length == mblen) hasSingle = true;
            }
            if (!hasSingle)
            {
                int k = start + mblen;
                double candidate = (double)unkScore + tillHere;
                if (startsAt[k] == -1 || candidate > bestScore[k]) { bestScore[k] = (float)candidate; startsAt[k] = start; bestId[k] = _unk; }
            }
            start += mblen;
        }
        var result = new List<(int Start, int Length, int Id)>();
        for (int end = n; end > 0; end = startsAt[end]) result.Add((startsAt[end], end - startsAt[end], bestId[end]));
        result.Reverse();
        return result;
    }

    /// <summary>bpe_model.cc Encode: repeatedly merge the adjacent pair whose concatenation is the best-scoring piece (leftmost on ties).</summary>
    List<(int Start, int Length, int Id)> EncodeBpe(ReadOnlySpan<byte> s)
    {
        var start = new List<int>(); var len = new List<int>(); var prev = new List<int>(); var next = new List<int>(); var freeze = new List<bool>();
        for (int pos = 0; pos < s.Length;)
        {
            int ud = _userDefined?.LongestPrefix(s[pos..]) ?? 0;
            int mblen = ud > 0 ? ud : Math.Min(s.Length - pos, Utf8.OneCharLen(s[pos]));
            int index = start.Count;
            start.Add(pos); len.Add(mblen); freeze.Add(ud > 0);
            prev.Add(index - 1);
            pos += mblen;
            next.Add(pos < s.Length ? index + 1 : -1);
        }
        var agenda = new PriorityQueue<(int Left, int Right, int Size), (float NegScore, int Left)>();
        var revMerge = new Dictionary<int, (int LeftStart, int LeftLen, int RightStart, int RightLen)>(); // unused piece id -> its parts
        var bytes = s.ToArray();
        void MaybeAdd(int left, int right)
        {
            if (left == -1 || right == -1 || freeze[left] || freeze[right]) return;
            int size = len[left] + len[right];
            int id = Lookup(bytes.AsSpan(start[left], size));
            if (id < 0) return;
            agenda.Enqueue((left, right, size), (-_pieces[id].Score, left));
            if (_pieces[id].Type == PieceType.Unused) revMerge[id] = (start[left], len[left], start[right], len[right]);
        }
        for (int i = 1; i < start.Count; i++) MaybeAdd(i - 1, i);
        while (agenda.TryDequeue(out var top, out _))
        {
            if (len[top.Left] == 0 || len[top.Right] == 0 || len[top.Left] + len[top.Right] != top.Size) continue;
            len[top.Left] += len[top.Right];
            next[top.Left] = next[top.Right];
            if (next[top.Right] >= 0) prev[next[top.Right]] = top.Left;
            len[top.Right] = 0;
            MaybeAdd(prev[top.Left], top.Left);
            MaybeAdd(top.Left, next[top.Left]);
        }
        var result = new List<(int, int, int)>();
        void Resegment(int st, int ln)
        {
            int id = PieceToId(bytes.AsSpan(st, ln));
            if (_pieces[id].Type != PieceType.Unused || !revMerge.TryGetValue(id, out var parts)) { result.Add((st, ln, id)); return; }
            Resegment(parts.LeftStart, parts.LeftLen);
            Resegment(parts.RightStart, parts.RightLen);
        }
        for (int i = 0; i != -1 && start.Count > 0; i = next[i]) Resegment(start[i], len[i]);
        return result;
    }

    /// <summary>Id of a normal piece spelled by these bytes, or -1.</summary>
    int Lookup(ReadOnlySpan<byte> piece)
    {
        int node = 0;
        foreach (byte b in piece) if (!_trie.Step(ref node, b)) return -1;
        return _trie.Value(node);
    }

    /// <summary>ModelInterface::PieceToId: reserved pieces first, then normal ones, else unk.</summary>
    int PieceToId(ReadOnlySpan<byte> piece)
    {
        if (_reserved.Count > 0 && _reserved.TryGetValue(Encoding.UTF8.GetString(piece), out int r)) return r;
        int id = Lookup(piece);
        return id >= 0 ? id : _unk;
    }

    /// <summary>
    /// Decodes like SentencePieceProcessor::DecodeIds: control pieces vanish, unk becomes unk_surface (" ⁇ "),
    /// runs of byte pieces are decoded as UTF-8 (an invalid byte -> U+FFFD), "▁" -> " ", and the leading "▁" of the
    /// text is dropped when the model adds a dummy prefix or removes extra whitespace.
    /// <paramref name="skipSpecialTokens"/> also drops unk.
    /// </summary>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = false)
    {
        var text = new StringBuilder();
        var run = new List<byte>();
        bool bosWs = true;
        bool stripLeading = _m.AddDummyPrefix || _m.RemoveExtraWhitespaces;
        foreach (int id in ids)
        {
            if ((uint)id >= (uint)_pieces.Length)
                throw new ArgumentOutOfRangeException(nameof(ids), $"token id {id} is outside the vocabulary (size {_pieces.Length}).");
            var p = _pieces[id];
            if (p.Type == PieceType.Byte) { run.Add((byte)PieceToByte(p.Text)); continue; }
            FlushBytes(run, text);
            if (text.Length > 0) bosWs = false;
            if (p.Type == PieceType.Control) continue;
            if (p.Type == PieceType.Unknown) { if (!skipSpecialTokens) text.Append(_m.UnkSurface); bosWs = false; continue; }
            string piece = p.Text;
            if (bosWs && stripLeading && piece.StartsWith('\u2581')) piece = piece[1..];
            bosWs = false; // only the first visible piece loses its dummy-prefix space
            text.Append(piece.Replace('\u2581', ' '));
        }
        FlushBytes(run, text);
        return text.ToString();
    }

    static void FlushBytes(List<byte> run, StringBuilder text)
    {
        if (run.Count == 0) return;
        var s = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(run);
        for (int i = 0; i < s.Length;)
        {
            int n = Utf8.ValidCharLength(s[i..]);
            if (n == 0) { text.Append('\uFFFD'); i++; continue; }
            text.Append(Encoding.UTF8.GetString(s.Slice(i, n)));
            i += n;
        }
        run.Clear();
    }

    /// <summary>"&lt;0x41&gt;" -> 0x41, or -1.</summary>
    static int PieceToByte(string piece) =>
        piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal) && piece[5] == '>'
        && int.TryParse(piece.AsSpan(3, 2), System.Globalization.NumberStyles.AllowHexSpecifier, null, out int b) ? b : -1;
}
