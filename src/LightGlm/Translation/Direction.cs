// Translation directions and their task tags: en→zh (<|en2zh|>) and zh→en (<|zh2en|>), one model for both.
using LightGlm.Text.Tokenizers;

namespace LightGlm.Translation;

public enum Direction { EnToZh, ZhToEn }

public static class Directions
{
    public static readonly Direction[] Both = [Direction.EnToZh, Direction.ZhToEn];

    /// <summary>"en-zh" / "zh-en": the names used by eval, the server and the JSON reports.</summary>
    public static string Name(this Direction d) => d == Direction.EnToZh ? "en-zh" : "zh-en";

    /// <summary>The special token that tells the model which way to translate.</summary>
    public static string Tag(this Direction d) => d == Direction.EnToZh ? SpecialTokens.En2ZhText : SpecialTokens.Zh2EnText;

    /// <summary>The id of that token in a tokenizer's special tokens.</summary>
    public static int Tag(this SpecialTokens sp, Direction d) => d == Direction.EnToZh ? sp.En2Zh : sp.Zh2En;

    public static string SourceLanguage(this Direction d) => d == Direction.EnToZh ? "en" : "zh";
    public static string TargetLanguage(this Direction d) => d == Direction.EnToZh ? "zh" : "en";

    /// <summary>Parses "en-zh", "zh-en" (also "en2zh"/"zh2en").</summary>
    public static Direction Parse(string s) => s.Trim().ToLowerInvariant() switch
    {
        "en-zh" or "en2zh" => Direction.EnToZh,
        "zh-en" or "zh2en" => Direction.ZhToEn,
        _ => throw new FormatException($"unknown direction '{s}': use en-zh or zh-en"),
    };

    /// <summary>The direction for "--to zh|en".</summary>
    public static Direction ToLanguage(string target) => target.Trim().ToLowerInvariant() switch
    {
        "zh" => Direction.EnToZh,
        "en" => Direction.ZhToEn,
        _ => throw new FormatException($"unknown target language '{target}': use zh or en"),
    };

    /// <summary>Guesses the direction of a text: Chinese if at least one CJK ideograph, else English.</summary>
    public static Direction Detect(string text)
    {
        foreach (var r in text.EnumerateRunes())
            if (r.Value is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0xF900 and <= 0xFAFF) return Direction.ZhToEn;
        return Direction.EnToZh;
    }
}
