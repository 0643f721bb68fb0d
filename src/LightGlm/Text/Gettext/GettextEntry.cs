// One message of a GNU gettext catalog (.mo or .po): context, id, plural id, translations, flags, and
// for .po files the exact line span it occupies so a filler can rewrite msgstr lines in place.
namespace LightGlm.Text.Gettext;

/// <summary>A 0-based, end-exclusive range of lines in the original file.</summary>
public readonly record struct LineSpan(int Start, int End)
{
    public int Count => End - Start;
    public bool IsEmpty => End <= Start;
    public override string ToString() => $"lines {Start + 1}-{End}";
}

/// <summary>
/// A gettext message. <see cref="Translations"/> has one element for a singular message and one per
/// plural form otherwise (msgstr[0], msgstr[1], ...). Strings are unescaped (real newlines, tabs).
/// </summary>
public sealed class GettextEntry
{
    public string? Context { get; init; }
    public required string Id { get; init; }
    public string? IdPlural { get; init; }
    public required string[] Translations { get; init; }

    /// <summary>Flags from "#," lines (fuzzy, c-format, ...). Empty for .mo entries.</summary>
    public IReadOnlyList<string> Flags { get; init; } = [];

    /// <summary>True for "#~" entries (kept by translators, not used by programs).</summary>
    public bool IsObsolete { get; init; }

    /// <summary>Comment lines (translator "# ", extracted "#.", references "#:", previous "#|"), verbatim.</summary>
    public IReadOnlyList<string> Comments { get; init; } = [];

    /// <summary>.po only: every line of the entry, comments included (0-based, end-exclusive).</summary>
    public LineSpan Lines { get; init; }

    /// <summary>.po only: the msgstr / msgstr[N] lines with their continuation lines.</summary>
    public LineSpan MsgStrLines { get; init; }

    public bool IsFuzzy => Flags.Contains("fuzzy");
    public bool IsHeader => Id.Length == 0 && Context is null;
    public bool IsPlural => IdPlural is not null;

    /// <summary>True when every translation is empty (the filler's target).</summary>
    public bool IsUntranslated => Translations.All(t => t.Length == 0);

    /// <summary>The key as stored in a .mo file: context EOT id.</summary>
    public string Key => Context is null ? Id : Context + "\u0004" + Id;

    public override string ToString() =>
        $"{(Context is null ? "" : "[" + Context + "] ")}{Id} -> {string.Join(" | ", Translations)}";
}

/// <summary>A whole catalog: entries in file order plus the parsed header.</summary>
public sealed class GettextCatalog
{
    public GettextCatalog(IReadOnlyList<GettextEntry> entries, string? sourcePath)
    {
        Entries = entries;
        SourcePath = sourcePath;
        var header = entries.FirstOrDefault(e => e.IsHeader && !e.IsObsolete);
        Headers = header is null ? new Dictionary<string, string>() : ParseHeader(header.Translations[0]);
    }

    public IReadOnlyList<GettextEntry> Entries { get; }
    public string? SourcePath { get; }

    /// <summary>Header fields ("Content-Type", "Plural-Forms", "Language", ...).</summary>
    public IReadOnlyDictionary<string, string> Headers { get; }

    public string? Language => Headers.GetValueOrDefault("Language");
    public string? PluralForms => Headers.GetValueOrDefault("Plural-Forms");

    /// <summary>Messages a program would use: not the header, not obsolete.</summary>
    public IEnumerable<GettextEntry> Messages => Entries.Where(e => !e.IsHeader && !e.IsObsolete);

    /// <summary>
    /// Refuses a catalog that defines a message twice (same msgctxt and msgid, not obsolete), as msgfmt does
    /// ("duplicate message definition"): which translation a program would get is then undefined. Names both lines.
    /// </summary>
    public GettextCatalog RequireUniqueMessages()
    {
        var first = new Dictionary<string, GettextEntry>(StringComparer.Ordinal);
        foreach (var e in Entries.Where(e => !e.IsObsolete))
            if (!first.TryAdd(e.Key, e))
            {
                var f = first[e.Key];
                string what = e.IsHeader ? "the header (msgid \"\")" : $"msgid \"{Short(e.Id)}\"" + (e.Context is null ? "" : $" (msgctxt \"{Short(e.Context)}\")");
                throw new InvalidDataException($"{SourcePath ?? "catalog"}:{e.Lines.Start + 1}: duplicate message definition of {what}; " +
                                               $"the first is at line {f.Lines.Start + 1} (msgfmt refuses this file too): keep one of them");
            }
        return this;
        static string Short(string s) => s.Length > 60 ? s[..60] + "…" : s;
    }

    /// <summary>Reads a .mo or .po file, chosen by content (the .mo magic) rather than by extension.</summary>
    public static GettextCatalog Load(string path)
    {
        using var fs = File.OpenRead(path);
        Span<byte> head = stackalloc byte[4];
        int n = fs.ReadAtLeast(head, 4, throwOnEndOfStream: false);
        fs.Position = 0;
        return n == 4 && MoReader.IsMoMagic(head) ? MoReader.Read(fs, path) : PoReader.Read(fs, path);
    }

    internal static Dictionary<string, string> ParseHeader(string text)
    {
        var d = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in text.Split('\n'))
        {
            int c = line.IndexOf(':');
            if (c > 0) d[line[..c].Trim()] = line[(c + 1)..].Trim();
        }
        return d;
    }

    /// <summary>The charset named in a header text ("Content-Type: text/plain; charset=X"), or null.</summary>
    internal static string? CharsetOf(string headerText)
    {
        int i = headerText.IndexOf("charset=", StringComparison.OrdinalIgnoreCase);
        if (i < 0) return null;
        int s = i + 8, e = s;
        while (e < headerText.Length && !char.IsWhiteSpace(headerText[e]) && headerText[e] != ';' && headerText[e] != '\\' && headerText[e] != '"') e++;
        return e > s ? headerText[s..e] : null;
    }
}
