// Loads a SentencePiece .model (ChatGLM2/3, LLaMA-2, spm_train output) and encodes/decodes as
// sentencepiece 0.1.97 does: normaliser, then unigram Viterbi or BPE merges by piece score, byte fallback
// for unknown characters, user-defined pieces kept whole, control pieces invisible.
using System.Text;

namespace LightGlm.Text.Tokenizers.SentencePiece;

public sealed partial class SentencePieceTokenizer : ITokenizer
{
    readonly SentencePieceModel _m;
    readonly Piece[] _pieces;
    readonly Dictionary<string, int> _normal = new(StringComparer.Ordinal);    // NORMAL, USER_DEFINED, UNUSED
    readonly Dictionary<string, int> _reserved = new(StringComparer.Ordinal);  // CONTROL, UNKNOWN, BYTE
    readonly ByteTrie _trie = new();           // the normal pieces, for unigram lattices and BPE merges
    readonly ByteTrie? _userDefined;
    readonly ByteTrie _reservedTrie = new();   // CONTROL, UNKNOWN, BYTE pieces by their bytes (PieceToId looks there first)
    readonly float[] _scores;                  // piece scores and types as flat arrays for the encode loops
    readonly PieceType[] _types;
    readonly Dictionary<long, int>? _bpePairs; // BPE: (left piece, right piece) -> merged piece
    readonly System.Collections.Concurrent.ConcurrentDictionary<string, int[]>? _bpeWordCache; // BPE: "▁" word (bytes as Latin-1) -> (start, length, id) triples
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
        foreach (var (text, id) in _reserved) _reservedTrie.Add(Encoding.UTF8.GetBytes(text), id);
        _scores = _pieces.Select(p => p.Score).ToArray();
        _types = _pieces.Select(p => p.Type).ToArray();
        if (m.ModelType == SentencePieceModelType.Bpe)
        {
            _bpePairs = BuildBpePairs();
            // Words can be merged (and cached) one by one only if no piece that merges or is matched whole spans a word start.
            if (m.EscapeWhitespaces && !_pieces.Any(p => p.Type is (PieceType.Normal or PieceType.UserDefined or PieceType.Unused) && p.Text.IndexOf('\u2581', 1) > 0))
                _bpeWordCache = new(StringComparer.Ordinal);
        }
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
