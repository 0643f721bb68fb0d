// A minimal protobuf wire-format reader (varint, fixed32/64, length-delimited) that checks every length
// against the buffer, so a corrupt file gives a clear InvalidDataException instead of an overrun.
namespace LightGlm.Text.Tokenizers.SentencePiece;

internal ref struct ProtoReader(ReadOnlySpan<byte> data, string where)
{
    readonly ReadOnlySpan<byte> _data = data;
    int _pos;

    public readonly bool End => _pos >= _data.Length;
    public readonly int Position => _pos;

    /// <summary>Next field: its number and wire type (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32).</summary>
    public (int Field, int WireType) ReadTag()
    {
        int at = _pos;
        ulong tag = ReadVarint();
        int wire = (int)(tag & 7);
        ulong field = tag >> 3;
        if (field == 0 || field > int.MaxValue) throw Bad(at, $"field number {field} is invalid");
        if (wire is 3 or 4 or 6 or 7) throw Bad(at, $"wire type {wire} of field {field} is not one a SentencePiece model uses");
        return ((int)field, wire);
    }

    public ulong ReadVarint()
    {
        int at = _pos;
        ulong v = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            if (_pos >= _data.Length) throw Bad(at, "a varint runs past the end (truncated file?)");
            byte b = _data[_pos++];
            v |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return v;
        }
        throw Bad(at, "a varint is longer than 10 bytes");
    }

    public float ReadFloat()
    {
        if (_data.Length - _pos < 4) throw Bad(_pos, "a 4-byte float runs past the end (truncated file?)");
        float f = BitConverter.ToSingle(_data.Slice(_pos, 4));
        _pos += 4;
        return f;
    }

    public ReadOnlySpan<byte> ReadBytes()
    {
        int at = _pos;
        ulong len = ReadVarint();
        if (len > (ulong)(_data.Length - _pos))
            throw Bad(at, $"a field of {len} bytes runs past the end ({_data.Length - _pos} bytes left; truncated or corrupt file)");
        var s = _data.Slice(_pos, (int)len);
        _pos += (int)len;
        return s;
    }

    public string ReadString(string field)
    {
        int at = _pos;
        var b = ReadBytes();
        try { return StrictUtf8.GetString(b); }
        catch (System.Text.DecoderFallbackException) { throw Bad(at, $"{field} is not valid UTF-8"); }
    }

    public void Skip(int wire)
    {
        switch (wire)
        {
            case 0: ReadVarint(); break;
            case 1: if (_data.Length - _pos < 8) throw Bad(_pos, "an 8-byte field runs past the end"); _pos += 8; break;
            case 2: ReadBytes(); break;
            case 5: if (_data.Length - _pos < 4) throw Bad(_pos, "a 4-byte field runs past the end"); _pos += 4; break;
        }
    }

    public readonly InvalidDataException Bad(int at, string what) =>
        new($"{where}: byte {at}: {what}. The file is not a valid SentencePiece model (protobuf ModelProto); re-download or re-train it.");

    internal static readonly System.Text.UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);
}
