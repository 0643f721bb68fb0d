// Maps a gettext charset name to a strict decoder: invalid bytes raise an error instead of becoming U+FFFD.
using System.Text;

namespace LightGlm.Text.Gettext;

internal static class GettextEncoding
{
    static GettextEncoding() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    /// <summary>Strict UTF-8: throws DecoderFallbackException on invalid sequences.</summary>
    public static readonly Encoding StrictUtf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The decoder for a header's charset; UTF-8 when absent or the template placeholder "CHARSET".</summary>
    public static Encoding For(string? charset, string path)
    {
        if (charset is null || charset.Equals("CHARSET", StringComparison.OrdinalIgnoreCase) ||
            charset.Equals("UTF-8", StringComparison.OrdinalIgnoreCase) || charset.Equals("utf8", StringComparison.OrdinalIgnoreCase))
            return StrictUtf8;
        try
        {
            var e = Encoding.GetEncoding(charset);
            return Encoding.GetEncoding(e.CodePage, EncoderFallback.ExceptionFallback, DecoderFallback.ExceptionFallback);
        }
        catch (ArgumentException)
        {
            throw new InvalidDataException($"{path}: unknown charset '{charset}' in the catalog header; convert it with `msgconv -t UTF-8`.");
        }
    }

    public static string Decode(Encoding enc, ReadOnlySpan<byte> bytes, string path, string what)
    {
        try { return enc.GetString(bytes); }
        catch (DecoderFallbackException e)
        {
            throw new InvalidDataException($"{path}: {what} is not valid {enc.WebName} (bad byte at index {e.Index}); the file is corrupt or its header names the wrong charset.");
        }
    }
}
