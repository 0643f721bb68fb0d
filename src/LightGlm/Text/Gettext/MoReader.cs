// Reader for GNU gettext binary catalogs (.mo): either byte order, contexts (EOT), plural forms (NUL),
// hash table ignored. Every table entry is bounds-checked so a corrupt file gives a clear error, never a crash.
using System.Buffers.Binary;

namespace LightGlm.Text.Gettext;

public static class MoReader
{
    const uint Magic = 0x950412de;
    const uint MagicSwapped = 0xde120495;

    /// <summary>Larger files are refused: the biggest real catalogs are a few MB.</summary>
    public const long MaxFileBytes = 256L << 20;

    public static bool IsMoMagic(ReadOnlySpan<byte> head)
    {
        uint m = BinaryPrimitives.ReadUInt32LittleEndian(head);
        return m == Magic || m == MagicSwapped;
    }

    public static GettextCatalog Read(string path)
    {
        using var fs = File.OpenRead(path);
        return Read(fs, path);
    }

    public static GettextCatalog Read(Stream stream, string? path = null)
    {
        path ??= "<stream>";
        if (stream.CanSeek && stream.Length > MaxFileBytes)
            throw new InvalidDataException($"{path}: {stream.Length} bytes is larger than any gettext catalog (limit {MaxFileBytes}); not a .mo file?");
        using var ms = new MemoryStream();
        stream.CopyTo(ms);
        return Parse(ms.GetBuffer().AsSpan(0, (int)ms.Length), path);
    }

    /// <summary>
    /// Layout (all uint32): magic, revision, N, O (offset of original table), T (offset of translation
    /// table), S, H (hash table size/offset). Table i = (length, offset) at O + 8i / T + 8i; each string
    /// is `length` bytes at `offset` followed by a NUL.
    /// </summary>
    public static GettextCatalog Parse(ReadOnlySpan<byte> data, string path)
    {
        if (data.Length < 28)
            throw new InvalidDataException($"{path}: {data.Length} bytes is too short for a .mo header (28 bytes).");
        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(data);
        bool big = magic == MagicSwapped;
        if (magic != Magic && !big)
            throw new InvalidDataException($"{path}: bad magic 0x{magic:x8} (expected 0x950412de); not a GNU .mo file.");
        uint U32(ReadOnlySpan<byte> d, long at) => big ? BinaryPrimitives.ReadUInt32BigEndian(d[(int)at..]) : BinaryPrimitives.ReadUInt32LittleEndian(d[(int)at..]);

        uint revision = U32(data, 4);
        if ((revision >> 16) > 1)
            throw new InvalidDataException($"{path}: unsupported .mo major revision {revision >> 16} (0 and 1 are known).");
        long n = U32(data, 8), o = U32(data, 12), t = U32(data, 16);
        if (o + n * 8 > data.Length || t + n * 8 > data.Length)
            throw new InvalidDataException($"{path}: truncated string tables ({n} messages, tables at {o} and {t}, file {data.Length} bytes).");

        // First pass: raw byte ranges, bounds-checked; the header (empty msgid) names the charset.
        var ranges = new (int Off, int Len, int TOff, int TLen)[n];
        for (long i = 0; i < n; i++)
        {
            ranges[i] = (Check(U32(data, o + 8 * i + 4), U32(data, o + 8 * i), data.Length, path, "original", i),
                         (int)U32(data, o + 8 * i),
                         Check(U32(data, t + 8 * i + 4), U32(data, t + 8 * i), data.Length, path, "translation", i),
                         (int)U32(data, t + 8 * i));
        }
        string? charset = null;
        foreach (var r in ranges)
        {
            if (r.Len != 0) continue;
            charset = GettextCatalog.CharsetOf(System.Text.Encoding.Latin1.GetString(data.Slice(r.TOff, r.TLen)));
            break;
        }
        var enc = GettextEncoding.For(charset, path);

        var raw = new List<(byte[] Key, byte[] Value)>((int)n);
        foreach (var r in ranges) raw.Add((data.Slice(r.Off, r.Len).ToArray(), data.Slice(r.TOff, r.TLen).ToArray()));
        if ((revision & 0xffff) >= 1 && data.Length >= 48) ReadSysdep(data.ToArray(), big, path, raw);

        var entries = new List<GettextEntry>(raw.Count);
        for (int i = 0; i < raw.Count; i++)
        {
            string key = GettextEncoding.Decode(enc, raw[i].Key, path, $"msgid #{i}");
            string value = GettextEncoding.Decode(enc, raw[i].Value, path, $"msgstr #{i}");
            string? context = null;
            int eot = key.IndexOf('\u0004');
            if (eot >= 0) { context = key[..eot]; key = key[(eot + 1)..]; }
            string? plural = null;
            int nul = key.IndexOf('\0');
            if (nul >= 0) { plural = key[(nul + 1)..]; key = key[..nul]; }
            entries.Add(new GettextEntry
            {
                Context = context,
                Id = key,
                IdPlural = plural,
                Translations = plural is null ? [value] : value.Split('\0'),
            });
        }
        return new GettextCatalog(entries, path);
    }

    /// <summary>
    /// Minor revision 1 adds system-dependent strings (format directives such as %&lt;PRIuMAX&gt;). Header
    /// words 7..11: segment count M and table offset, sysdep string count Q, original and translated
    /// tables (Q offsets each). A sysdep string at offset x is: uint32 static-data offset, then pairs
    /// (segsize, sysdepref) until sysdepref = 0xffffffff; it expands to static pieces interleaved with
    /// "&lt;" + segment name + "&gt;", exactly as msgunfmt prints it.
    /// </summary>
    static void ReadSysdep(byte[] data, bool big, string path, List<(byte[], byte[])> into)
    {
        uint U32(byte[] d, long at)
        {
            if (at < 0 || at + 4 > d.Length) throw new InvalidDataException($"{path}: system-dependent string table points past the end of the file (offset {at}).");
            return big ? BinaryPrimitives.ReadUInt32BigEndian(d.AsSpan((int)at)) : BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan((int)at));
        }
        long m = U32(data, 28), segOff = U32(data, 32), q = U32(data, 36), origTab = U32(data, 40), transTab = U32(data, 44);
        if (q == 0) return;
        if (segOff + m * 8 > data.Length || origTab + q * 4 > data.Length || transTab + q * 4 > data.Length)
            throw new InvalidDataException($"{path}: truncated system-dependent tables ({m} segments, {q} strings).");
        var segments = new byte[m][];
        for (long i = 0; i < m; i++)
        {
            uint len = U32(data, segOff + 8 * i), off = U32(data, segOff + 8 * i + 4);
            Check(off, len, data.Length, path, "sysdep segment", i);
            var name = data.AsSpan((int)off, (int)len);
            if (name.Length > 0 && name[^1] == 0) name = name[..^1];
            segments[i] = name.ToArray();
        }
        byte[] Expand(long at, long index, string table)
        {
            var buf = new List<byte>();
            long src = U32(data, at);
            for (long k = at + 4; ; k += 8)
            {
                if (k - at > 8L * 4096) throw new InvalidDataException($"{path}: {table} sysdep string #{index} has no end marker.");
                uint segsize = U32(data, k), sysdepref = U32(data, k + 4);
                Check((uint)src, segsize, data.Length, path, table + " sysdep string", index);
                buf.AddRange(data.AsSpan((int)src, (int)segsize));
                src += segsize;
                if (sysdepref == 0xffffffff) break;
                if (sysdepref >= m) throw new InvalidDataException($"{path}: {table} sysdep string #{index} refers to segment {sysdepref} of {m}.");
                buf.Add((byte)'<'); buf.AddRange(segments[sysdepref]); buf.Add((byte)'>');
            }
            if (buf.Count > 0 && buf[^1] == 0) buf.RemoveAt(buf.Count - 1); // the stored length counts the NUL
            return buf.ToArray();
        }
        for (long i = 0; i < q; i++)
            into.Add((Expand(U32(data, origTab + 4 * i), i, "original"), Expand(U32(data, transTab + 4 * i), i, "translation")));
    }

    static int Check(uint offset, uint length, int size, string path, string table, long i)
    {
        if ((ulong)offset + length > (ulong)size)
            throw new InvalidDataException($"{path}: {table} string #{i} (offset {offset}, length {length}) runs past the end of the file ({size} bytes); the .mo is truncated or corrupt.");
        return (int)offset;
    }
}
