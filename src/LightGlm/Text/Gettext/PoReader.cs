// Reader for GNU gettext source catalogs (.po): comments, flags, contexts, multi-line strings, escapes,
// plural forms, obsolete (#~) entries; records each entry's exact line span for in-place editing.
using System.Text;

namespace LightGlm.Text.Gettext;

public static class PoReader
{
    /// <summary>Lines longer than this are refused (a real .po line is far shorter).</summary>
    public const int MaxLineChars = 16 << 20;
    static ReadOnlySpan<byte> Bom => [0xEF, 0xBB, 0xBF];

    public static GettextCatalog Read(string path)
    {
        using var fs = File.OpenRead(path);
        return Read(fs, path);
    }

    public static GettextCatalog Read(Stream stream, string? path = null)
    {
        path ??= "<stream>";
        var (text, enc) = Decode(stream, path);
        return Parse(text, enc, path);
    }

    /// <summary>Reads all bytes and decodes them with the charset the header names (UTF-8 by default).</summary>
    internal static (string Text, Encoding Encoding) Decode(Stream stream, string path)
    {
        if (stream.CanSeek && stream.Length > MoReader.MaxFileBytes)
            throw new InvalidDataException($"{path}: {stream.Length} bytes is larger than any gettext catalog (limit {MoReader.MaxFileBytes}).");
        using var ms = new MemoryStream();
        stream.CopyTo(ms);
        var bytes = ms.GetBuffer().AsSpan(0, (int)ms.Length);
        int bom = bytes.StartsWith(Bom) ? 3 : 0;
        // The header is ASCII, so a Latin-1 view of the start finds "charset=" in any ASCII-compatible encoding.
        string head = Encoding.Latin1.GetString(bytes[bom..Math.Min(bytes.Length, 65536)]);
        var enc = GettextEncoding.For(bom == 3 ? null : GettextCatalog.CharsetOf(head), path);
        return (GettextEncoding.Decode(enc, bytes[bom..], path, "the file"), enc);
    }

    public static GettextCatalog Parse(string text, Encoding enc, string path)
    {
        var entries = new List<GettextEntry>();
        var b = new Builder();
        int lineNo = 0, pos = 0;
        while (pos < text.Length)
        {
            int nl = text.IndexOf('\n', pos);
            int end = nl < 0 ? text.Length : nl;
            if (end - pos > MaxLineChars)
                throw new InvalidDataException($"{path}:{lineNo + 1}: line of {end - pos} characters exceeds the limit of {MaxLineChars}; not a .po file?");
            string line = text[pos..(end > pos && text[end - 1] == '\r' ? end - 1 : end)];
            ParseLine(line, lineNo, b, entries, enc, path);
            pos = nl < 0 ? text.Length : nl + 1;
            lineNo++;
        }
        b.Finish(entries, path);
        return new GettextCatalog(entries, path);
    }

    static void ParseLine(string raw, int lineNo, Builder b, List<GettextEntry> entries, Encoding enc, string path)
    {
        Exception Error(string what) => new InvalidDataException($"{path}:{lineNo + 1}: {what}: {Clip(raw)}");
        string line = raw.TrimStart();
        if (line.Length == 0) { b.Finish(entries, path); return; }

        bool obsolete = false;
        if (line.StartsWith("#~", StringComparison.Ordinal))
        {
            string rest = line[2..].TrimStart();
            if (rest.StartsWith('|') || rest.Length == 0) { Comment(); return; } // "#~|" previous-of-obsolete
            obsolete = true;
            line = rest;
        }
        else if (line[0] == '#') { Comment(); return; }

        if (line[0] == '"')
        {
            if (b.Target is null) throw Error("string continuation without a keyword before it");
            if (obsolete != b.Obsolete) throw Error("continuation line mixes obsolete and active entry");
            ParseValue(line, 0, b.Target);
            b.Touch(lineNo);
            return;
        }

        int sp = 0;
        while (sp < line.Length && !char.IsWhiteSpace(line[sp]) && line[sp] != '"') sp++;
        string kw = line[..sp];
        if (kw is "msgctxt" or "msgid" && b.HasMsgStr) b.Finish(entries, path);
        if (!b.Started) b.Start(lineNo, obsolete);
        else if (b.Obsolete != obsolete && b.HasId) throw Error("entry mixes obsolete (#~) and active lines");
        b.Obsolete = obsolete;
        StringBuilder target;
        switch (kw)
        {
            case "msgctxt":
                if (b.Context is not null || b.Id is not null) throw Error("msgctxt after msgid or repeated");
                target = b.Context = new StringBuilder();
                break;
            case "msgid":
                if (b.Id is not null) throw Error("second msgid in one entry (missing msgstr?)");
                target = b.Id = new StringBuilder();
                break;
            case "msgid_plural":
                if (b.Id is null || b.IdPlural is not null || b.HasMsgStr) throw Error("msgid_plural must follow msgid once");
                target = b.IdPlural = new StringBuilder();
                break;
            default:
                if (!kw.StartsWith("msgstr", StringComparison.Ordinal)) throw Error($"unknown keyword '{kw}'");
                if (b.Id is null) throw Error("msgstr without msgid");
                int index = 0;
                if (kw.Length > 6)
                {
                    if (kw[6] != '[' || kw[^1] != ']' || !int.TryParse(kw.AsSpan(7, kw.Length - 8), out index) || index < 0)
                        throw Error($"bad plural keyword '{kw}' (expected msgstr[N])");
                    if (b.IdPlural is null) throw Error("msgstr[N] without msgid_plural");
                    if (index != b.MsgStr.Count) throw Error($"msgstr[{index}] out of order (expected msgstr[{b.MsgStr.Count}])");
                }
                else if (b.IdPlural is not null) throw Error("plural entry needs msgstr[N], not msgstr");
                else if (b.MsgStr.Count > 0) throw Error("second msgstr in one entry");
                target = new StringBuilder();
                b.MsgStr.Add(target);
                if (b.MsgStrStart < 0) b.MsgStrStart = lineNo;
                break;
        }
        int q = sp;
        while (q < line.Length && char.IsWhiteSpace(line[q])) q++;
        ParseValue(line, q, target);
        b.Target = target;
        b.Touch(lineNo);

        void Comment()
        {
            if (b.HasMsgStr) b.Finish(entries, path);
            if (b.HasId) throw Error("comment inside an entry, between msgid and msgstr");
            if (!b.Started) b.Start(lineNo, false);
            b.Comments.Add(raw);
            string t = raw.TrimStart();
            if (t.StartsWith("#,", StringComparison.Ordinal))
                foreach (var f in t[2..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)) b.Flags.Add(f);
            b.Touch(lineNo);
        }

        void ParseValue(string l, int at, StringBuilder into)
        {
            int after = PoString.Parse(l, at, into, enc, Error);
            if (!string.IsNullOrWhiteSpace(l[after..])) throw Error("text after the closing quote");
        }
    }

    static string Clip(string s) => s.Length <= 80 ? s : s[..80] + "...";

    /// <summary>Accumulates one entry while its lines are read.</summary>
    sealed class Builder
    {
        public bool Started;
        public int StartLine, LastLine, MsgStrStart = -1, MsgStrEnd;
        public bool Obsolete;
        public StringBuilder? Context, Id, IdPlural, Target;
        public readonly List<StringBuilder> MsgStr = [];
        public readonly List<string> Comments = [], Flags = [];
        public bool HasMsgStr => MsgStr.Count > 0;
        public bool HasId => Id is not null;

        public void Start(int line, bool obsolete) { Started = true; StartLine = line; LastLine = line; Obsolete = obsolete; }

        public void Touch(int line)
        {
            LastLine = line;
            if (Target is not null && MsgStr.Count > 0 && Target == MsgStr[^1]) MsgStrEnd = line + 1;
        }

        public void Finish(List<GettextEntry> into, string path)
        {
            if (!Started) return;
            if (Id is not null && MsgStr.Count == 0)
                throw new InvalidDataException($"{path}:{LastLine + 1}: entry starting at line {StartLine + 1} has msgid but no msgstr.");
            if (Id is not null)
                into.Add(new GettextEntry
                {
                    Context = Context?.ToString(),
                    Id = Id.ToString(),
                    IdPlural = IdPlural?.ToString(),
                    Translations = MsgStr.Select(s => s.ToString()).ToArray(),
                    Flags = Flags.ToArray(),
                    Comments = Comments.ToArray(),
                    IsObsolete = Obsolete,
                    Lines = new LineSpan(StartLine, LastLine + 1),
                    MsgStrLines = new LineSpan(MsgStrStart, MsgStrEnd),
                });
            // A trailing block of comments with no message (end of file) is dropped, as msgfmt does.
            Started = false; Obsolete = false; Context = Id = IdPlural = Target = null;
            MsgStr.Clear(); Comments.Clear(); Flags.Clear(); MsgStrStart = -1; MsgStrEnd = 0;
        }
    }
}
