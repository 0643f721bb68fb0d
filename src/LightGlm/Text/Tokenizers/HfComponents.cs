// The Hugging Face tokenizer.json components we support: normalizers, pre-tokenizer steps and decoders,
// each parsed from its JSON object; an unsupported type is a clear error naming it.
using System.Text;
using System.Text.Json;

namespace LightGlm.Text.Tokenizers;

internal abstract record HfNormalizer
{
    public abstract string Apply(string s);

    public static HfNormalizer? Parse(JsonElement e)
    {
        if (e.ValueKind == JsonValueKind.Null) return null;
        string type = e.Field("type").RequiredString("type");
        return type switch
        {
            "Sequence" => new Seq(e.Field("normalizers").RequiredArray("normalizers").Select(x => Parse(x)!).ToArray()),
            "NFC" => new Unicode(NormalizationForm.FormC),
            "NFKC" => new Unicode(NormalizationForm.FormKC),
            "NFD" => new Unicode(NormalizationForm.FormD),
            "NFKD" => new Unicode(NormalizationForm.FormKD),
            "Lowercase" => new Lower(),
            "Prepend" => new Prepend(e.Field("prepend").RequiredString("prepend")),
            "Replace" => new Replace(StringPattern(e, "normalizer"), e.Field("content").RequiredString("content")),
            _ => throw new NotSupportedException($"tokenizer.json: normalizer type '{type}' is not supported (supported: Sequence, NFC, NFKC, NFD, NFKD, Lowercase, Prepend, Replace)."),
        };
    }

    internal static string StringPattern(JsonElement e, string what) =>
        e.Field("pattern").RequiredObject("pattern").TryGetProperty("String", out var s) ? s.RequiredString("pattern.String")
        : throw new NotSupportedException($"tokenizer.json: {what} Replace with a Regex pattern is not supported (only String).");

    sealed record Seq(HfNormalizer[] Steps) : HfNormalizer
    {
        public override string Apply(string s) { foreach (var n in Steps) s = n.Apply(s); return s; }
    }

    sealed record Unicode(NormalizationForm Form) : HfNormalizer
    {
        // .NET refuses lone surrogates; they cannot occur in Rust strings, so U+FFFD is what HF would see.
        public override string Apply(string s) => (Utf16.HasLoneSurrogate(s) ? Utf16.ReplaceLoneSurrogates(s) : s).Normalize(Form);
    }

    sealed record Lower : HfNormalizer { public override string Apply(string s) => s.ToLowerInvariant(); }

    /// <summary>HF Prepend adds its text only to a non-empty string.</summary>
    sealed record Prepend(string Text) : HfNormalizer { public override string Apply(string s) => s.Length == 0 ? s : Text + s; }

    sealed record Replace(string From, string To) : HfNormalizer { public override string Apply(string s) => s.Replace(From, To, StringComparison.Ordinal); }
}

/// <summary>Pre-tokenizer configuration flattened from a (possibly nested) Sequence.</summary>
internal sealed class HfPreTokenizer
{
    public List<PreTokenizer> Splits { get; } = [];
    public bool ByteLevel { get; private set; }
    public bool ByteLevelPrefixSpace { get; private set; }
    public string? MetaspaceReplacement { get; private set; }
    public string MetaspacePrependScheme { get; private set; } = "always";
    public bool MetaspaceSplit { get; private set; }

    public static HfPreTokenizer Parse(JsonElement e)
    {
        var p = new HfPreTokenizer();
        if (e.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined)) p.Add(e); // null or absent: no pre-tokenizer
        return p;
    }

    void Add(JsonElement e)
    {
        string type = e.Field("type").RequiredString("type");
        switch (type)
        {
            case "Sequence":
                foreach (var x in e.Field("pretokenizers").RequiredArray("pretokenizers")) Add(x);
                break;
            case "Split":
                string behavior = e.TryGetProperty("behavior", out var b) ? b.RequiredString("behavior") : "Isolated";
                bool invert = e.TryGetProperty("invert", out var inv) && inv.RequiredBool("invert");
                if (behavior != "Isolated" || invert)
                    throw new NotSupportedException($"tokenizer.json: Split with behavior '{behavior}' invert={invert} is not supported (only Isolated, not inverted).");
                var pat = e.Field("pattern").RequiredObject("pattern");
                Splits.Add(pat.TryGetProperty("Regex", out var rx) ? PreTokenizer.ForPattern(rx.RequiredString("pattern.Regex"))
                    : PreTokenizer.ForPattern(System.Text.RegularExpressions.Regex.Escape(pat.Field("String").RequiredString("pattern.String"))));
                break;
            case "ByteLevel":
                ByteLevel = true;
                ByteLevelPrefixSpace = e.TryGetProperty("add_prefix_space", out var ap) && ap.RequiredBool("add_prefix_space");
                if (!e.TryGetProperty("use_regex", out var ur) || ur.RequiredBool("use_regex")) Splits.Add(PreTokenizer.ForPattern(PreTokenizer.Gpt2Pattern));
                break;
            case "Metaspace":
                MetaspaceReplacement = e.Field("replacement").RequiredString("replacement");
                MetaspacePrependScheme = e.TryGetProperty("prepend_scheme", out var ps) ? ps.RequiredString("prepend_scheme")
                    : e.TryGetProperty("add_prefix_space", out var aps) && !aps.RequiredBool("add_prefix_space") ? "never" : "always";
                MetaspaceSplit = !e.TryGetProperty("split", out var sp) || sp.RequiredBool("split");
                break;
            default:
                throw new NotSupportedException($"tokenizer.json: pre_tokenizer type '{type}' is not supported (supported: Sequence, Split, ByteLevel, Metaspace).");
        }
    }
}

/// <summary>A decoder step over the list of token strings (HF's decode_chain).</summary>
internal abstract record HfDecoder
{
    public abstract List<string> Apply(List<string> tokens);

    public static HfDecoder? Parse(JsonElement e)
    {
        if (e.ValueKind == JsonValueKind.Null) return null;
        string type = e.Field("type").RequiredString("type");
        return type switch
        {
            "Sequence" => new Seq(e.Field("decoders").RequiredArray("decoders").Select(x => Parse(x)!).ToArray()),
            "ByteLevel" => new ByteLevelDec(),
            "Replace" => new ReplaceDec(HfNormalizer.StringPattern(e, "decoder"), e.Field("content").RequiredString("content")),
            "ByteFallback" => new ByteFallbackDec(),
            "Fuse" => new FuseDec(),
            "Strip" => new StripDec(e.Field("content").RequiredString("content") is [var ch] ? ch
                : throw new InvalidDataException("tokenizer.json: a Strip decoder's content must be one character."), e.Field("start").RequiredInt("decoder Strip.start"), e.Field("stop").RequiredInt("decoder Strip.stop")),
            "Metaspace" => new MetaspaceDec(e.Field("replacement").RequiredString("replacement"),
                e.TryGetProperty("prepend_scheme", out var ps) ? ps.RequiredString("prepend_scheme") != "never" : !e.TryGetProperty("add_prefix_space", out var a) || a.RequiredBool("add_prefix_space")),
            _ => throw new NotSupportedException($"tokenizer.json: decoder type '{type}' is not supported (supported: Sequence, ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace)."),
        };
    }

    sealed record Seq(HfDecoder[] Steps) : HfDecoder
    {
        public override List<string> Apply(List<string> t) { foreach (var d in Steps) t = d.Apply(t); return t; }
    }

    /// <summary>Byte-level chars back to bytes, then UTF-8 (invalid sequences become U+FFFD); tokens outside the map pass as text.</summary>
    sealed record ByteLevelDec : HfDecoder
    {
        public override List<string> Apply(List<string> tokens)
        {
            var bytes = new List<byte>();
            foreach (var t in tokens)
                if (!Tokenizers.ByteLevel.TryAppendBytes(t, bytes)) bytes.AddRange(Encoding.UTF8.GetBytes(t));
            return [Encoding.UTF8.GetString(bytes.ToArray())];
        }
    }

    sealed record ReplaceDec(string From, string To) : HfDecoder
    {
        public override List<string> Apply(List<string> t) => t.Select(x => x.Replace(From, To, StringComparison.Ordinal)).ToList();
    }

    /// <summary>Runs of "&lt;0xXX&gt;" tokens become their UTF-8 text, or one U+FFFD per byte when invalid.</summary>
    sealed record ByteFallbackDec : HfDecoder
    {
        static readonly UTF8Encoding Strict = new(false, true);

        public override List<string> Apply(List<string> tokens)
        {
            var result = new List<string>();
            var pending = new List<byte>();
            foreach (var t in tokens)
            {
                if (t.Length == 6 && t.StartsWith("<0x", StringComparison.Ordinal) && t[5] == '>' && byte.TryParse(t.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null, out byte b))
                {
                    pending.Add(b);
                    continue;
                }
                Flush();
                result.Add(t);
            }
            Flush();
            return result;

            void Flush()
            {
                if (pending.Count == 0) return;
                try { result.Add(Strict.GetString(pending.ToArray())); }
                catch (DecoderFallbackException) { for (int i = 0; i < pending.Count; i++) result.Add("\uFFFD"); }
                pending.Clear();
            }
        }
    }

    sealed record FuseDec : HfDecoder { public override List<string> Apply(List<string> t) => [string.Concat(t)]; }

    /// <summary>Per token: drop up to Start leading and Stop trailing copies of the character.</summary>
    sealed record StripDec(char Content, int Start, int Stop) : HfDecoder
    {
        public override List<string> Apply(List<string> tokens) => tokens.Select(t =>
        {
            int a = 0, b = t.Length;
            while (a < Start && a < b && t[a] == Content) a++;
            for (int k = 0; k < Stop && b > a && t[b - 1] == Content; k++) b--;
            return t[a..b];
        }).ToList();
    }

    sealed record MetaspaceDec(string Replacement, bool StripFirst) : HfDecoder
    {
        public override List<string> Apply(List<string> tokens) => tokens.Select((t, i) =>
        {
            var s = t.Replace(Replacement, " ", StringComparison.Ordinal);
            return i == 0 && StripFirst && s.StartsWith(' ') ? s[1..] : s;
        }).ToList();
    }
}

internal static class Utf16
{
    public static bool HasLoneSurrogate(ReadOnlySpan<char> s)
    {
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) { i++; continue; }
            if (char.IsSurrogate(s[i])) return true;
        }
        return false;
    }

    public static string ReplaceLoneSurrogates(ReadOnlySpan<char> s)
    {
        var sb = new StringBuilder(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) { sb.Append(s[i]).Append(s[i + 1]); i++; }
            else sb.Append(char.IsSurrogate(s[i]) ? '\uFFFD' : s[i]);
        }
        return sb.ToString();
    }
}
