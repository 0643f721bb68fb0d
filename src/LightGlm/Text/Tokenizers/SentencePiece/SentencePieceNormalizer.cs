// SentencePiece's normaliser, byte for byte as normalizer.cc does it: user-defined pieces pass untouched,
// otherwise the longest rule of the precompiled charsmap (a Darts double-array trie + NUL-terminated
// replacement strings; nmt_nfkc, nfkc, nmt_nfkc_cf… all use it) or one UTF-8 character (invalid byte -> U+FFFD);
// then leading/trailing/repeated spaces removed, a dummy "▁" prefix added and ' ' escaped to "▁".
namespace LightGlm.Text.Tokenizers.SentencePiece;

internal sealed class SentencePieceNormalizer
{
    static readonly byte[] SpaceSymbol = [0xE2, 0x96, 0x81]; // U+2581 ▁
    static readonly byte[] Replacement = [0xEF, 0xBF, 0xBD];  // U+FFFD
    readonly uint[] _trie;           // Darts-clone units; empty = no charsmap (identity)
    readonly byte[] _replacements;   // NUL-terminated strings, indexed by the trie's values
    readonly ByteTrie? _userDefined;
    readonly bool _addDummyPrefix, _removeExtraWhitespaces, _escapeWhitespaces;
    readonly string _where;

    public SentencePieceNormalizer(SentencePieceModel m, ByteTrie? userDefined, string where)
    {
        _where = where;
        _userDefined = userDefined;
        _addDummyPrefix = m.AddDummyPrefix;
        _removeExtraWhitespaces = m.RemoveExtraWhitespaces;
        _escapeWhitespaces = m.EscapeWhitespaces;
        var blob = m.PrecompiledCharsmap;
        if (blob.Length == 0) { _trie = []; _replacements = []; return; }
        if (blob.Length < 4) throw Corrupt($"it has {blob.Length} bytes, fewer than its 4-byte header");
        uint trieBytes = BitConverter.ToUInt32(blob, 0);
        if (trieBytes > blob.Length - 4 || trieBytes % 4 != 0 || trieBytes == 0)
            throw Corrupt($"its trie size {trieBytes} does not fit the {blob.Length - 4} bytes that follow, or is not a non-zero multiple of 4");
        _trie = new uint[trieBytes / 4];
        Buffer.BlockCopy(blob, 4, _trie, 0, (int)trieBytes);
        _replacements = blob[(4 + (int)trieBytes)..];
    }

    InvalidDataException Corrupt(string what) =>
        new($"{_where}: the normalizer's precompiled_charsmap is corrupt: {what}. Re-download or re-train the model.");

    /// <summary>Normalises UTF-8 <paramref name="input"/> into <paramref name="output"/> (cleared first).</summary>
    public void Normalize(ReadOnlySpan<byte> input, List<byte> output)
    {
        output.Clear();
        if (_removeExtraWhitespaces)
            while (!input.IsEmpty)
            {
                var sp = NormalizePrefix(input, out int consumed);
                if (!(sp.Length == 1 && sp[0] == (byte)' ')) break;
                input = input[consumed..];
            }
        if (input.IsEmpty) return;
        if (_addDummyPrefix) AddSpace(output);
        bool prevSpace = _removeExtraWhitespaces;
        while (!input.IsEmpty)
        {
            var sp = NormalizePrefix(input, out int consumed);
            if (prevSpace) while (!sp.IsEmpty && sp[0] == (byte)' ') sp = sp[1..];
            if (!sp.IsEmpty)
            {
                foreach (byte b in sp)
                    if (_escapeWhitespaces && b == (byte)' ') output.AddRange(SpaceSymbol);
                    else output.Add(b);
                prevSpace = sp[^1] == (byte)' ';
            }
            input = input[consumed..];
            if (!_removeExtraWhitespaces) prevSpace = false;
        }
        if (_removeExtraWhitespaces)
        {
            ReadOnlySpan<byte> space = _escapeWhitespaces ? SpaceSymbol : " "u8;
            while (output.Count >= space.Length && EndsWith(output, space)) output.RemoveRange(output.Count - space.Length, space.Length);
        }
    }

    void AddSpace(List<byte> output)
    {
        if (_escapeWhitespaces) output.AddRange(SpaceSymbol); else output.Add((byte)' ');
    }

    static bool EndsWith(List<byte> s, ReadOnlySpan<byte> suffix)
    {
        for (int i = 0; i < suffix.Length; i++) if (s[s.Count - suffix.Length + i] != suffix[i]) return false;
        return true;
    }

    /// <summary>The normalised form of the longest prefix rule (or one character) and how many input bytes it consumed.</summary>
    ReadOnlySpan<byte> NormalizePrefix(ReadOnlySpan<byte> input, out int consumed)
    {
        if (_userDefined is not null)
        {
            int n = _userDefined.LongestPrefix(input);
            if (n > 0) { consumed = n; return input[..n]; }
        }
        int longestLength = 0, longestValue = 0;
        if (_trie.Length > 0) CommonPrefixSearch(input, ref longestLength, ref longestValue);
        if (longestLength == 0)
        {
            int len = Utf8.ValidCharLength(input);
            consumed = len == 0 ? 1 : len;
            return len == 0 ? Replacement : input[..len];
        }
        if ((uint)longestValue >= (uint)_replacements.Length) throw Corrupt($"a rule points at offset {longestValue}, past the {_replacements.Length}-byte string table");
        var rest = _replacements.AsSpan(longestValue);
        int end = rest.IndexOf((byte)0);
        if (end < 0) throw Corrupt($"the string at offset {longestValue} has no terminating NUL");
        consumed = longestLength;
        return rest[..end];
    }

    /// <summary>Darts-clone DoubleArray::commonPrefixSearch keeping the longest match (the first 32 results, as SentencePiece does).</summary>
    void CommonPrefixSearch(ReadOnlySpan<byte> key, ref int longestLength, ref int longestValue)
    {
        uint nodePos = 0;
        uint unit = Unit(nodePos);
        nodePos ^= Offset(unit);
        int found = 0;
        for (int i = 0; i < key.Length; i++)
        {
            nodePos ^= key[i];
            unit = Unit(nodePos);
            if ((unit & ((1u << 31) | 0xFF)) != key[i]) return;
            nodePos ^= Offset(unit);
            if (((unit >> 8) & 1) == 1)
            {
                if (found++ < 32 && i + 1 > longestLength)
                {
                    longestLength = i + 1;
                    longestValue = (int)(Unit(nodePos) & 0x7FFFFFFF);
                }
            }
        }
    }

    uint Unit(uint pos) => pos < (uint)_trie.Length ? _trie[pos] : throw Corrupt($"a trie link points at unit {pos} of {_trie.Length}");

    static uint Offset(uint unit) => (unit >> 10) << (int)((unit & (1u << 9)) >> 6);
}

/// <summary>UTF-8 helpers with SentencePiece's rules (string_util.cc).</summary>
internal static class Utf8
{
    /// <summary>OneCharLen: the length a lead byte announces (1 for continuation bytes), not validated.</summary>
    public static int OneCharLen(byte lead) => "\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0002\u0002\u0003\u0004"[lead >> 4];

    /// <summary>Length of the valid UTF-8 character at the start of <paramref name="s"/> (no surrogates, no overlongs, ≤ U+10FFFF), or 0 if invalid.</summary>
    public static int ValidCharLength(ReadOnlySpan<byte> s)
    {
        if (s.IsEmpty) return 0;
        byte b0 = s[0];
        if (b0 < 0x80) return 1;
        static bool Trail(byte b) => (b & 0xC0) == 0x80;
        static bool ValidCp(uint c) => c < 0xD800 || (c >= 0xE000 && c <= 0x10FFFF);
        if (s.Length >= 2 && (b0 & 0xE0) == 0xC0)
        {
            uint cp = ((uint)(b0 & 0x1F) << 6) | (uint)(s[1] & 0x3F);
            if (Trail(s[1]) && cp >= 0x80 && ValidCp(cp)) return 2;
        }
        else if (s.Length >= 3 && (b0 & 0xF0) == 0xE0)
        {
            uint cp = ((uint)(b0 & 0x0F) << 12) | ((uint)(s[1] & 0x3F) << 6) | (uint)(s[2] & 0x3F);
            if (Trail(s[1]) && Trail(s[2]) && cp >= 0x800 && ValidCp(cp)) return 3;
        }
        else if (s.Length >= 4 && (b0 & 0xF8) == 0xF0)
        {
            uint cp = ((uint)(b0 & 0x07) << 18) | ((uint)(s[1] & 0x3F) << 12) | ((uint)(s[2] & 0x3F) << 6) | (uint)(s[3] & 0x3F);
            if (Trail(s[1]) && Trail(s[2]) && Trail(s[3]) && cp >= 0x10000 && ValidCp(cp)) return 4;
        }
        return 0;
    }
}
