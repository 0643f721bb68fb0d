// GPT-2's reversible byte <-> printable-character map used by byte-level BPE ("Ġ" is the space byte 0x20).
namespace LightGlm.Text.Tokenizers;

public static class ByteLevel
{
    /// <summary>Byte b -> char: printable Latin-1 bytes map to themselves, the other 68 to U+0100 + k in byte order.</summary>
    public static readonly char[] ByteToChar = Build();

    /// <summary>Char -> byte, or -1 for chars outside the map.</summary>
    public static readonly int[] CharToByte = Invert(ByteToChar);

    static char[] Build()
    {
        var map = new char[256];
        int n = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            map[b] = printable ? (char)b : (char)(256 + n++);
        }
        return map;
    }

    static int[] Invert(char[] map)
    {
        var inv = new int[512];
        Array.Fill(inv, -1);
        for (int b = 0; b < 256; b++) inv[map[b]] = b;
        return inv;
    }

    /// <summary>Byte-level form of a string (its UTF-8 bytes through <see cref="ByteToChar"/>).</summary>
    public static string Encode(ReadOnlySpan<char> text)
    {
        var bytes = new byte[System.Text.Encoding.UTF8.GetByteCount(text)];
        System.Text.Encoding.UTF8.GetBytes(text, bytes);
        var chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) chars[i] = ByteToChar[bytes[i]];
        return new string(chars);
    }

    /// <summary>Appends the bytes of a byte-level token; false (nothing appended) if a char is outside the map.</summary>
    public static bool TryAppendBytes(string token, List<byte> into)
    {
        int start = into.Count;
        foreach (char c in token)
        {
            int b = c < 512 ? CharToByte[c] : -1;
            if (b < 0) { into.RemoveRange(start, into.Count - start); return false; }
            into.Add((byte)b);
        }
        return true;
    }
}
