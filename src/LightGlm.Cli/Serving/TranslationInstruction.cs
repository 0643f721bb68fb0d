// Reads which way a chat message asks to translate: "Translate to Chinese", "into English", "English to Chinese",
// "翻译成英文", "译为中文", "中译英", "en-zh". Used by the OpenAI-compatible endpoints, which carry no direction field of their own.
using System.Text.RegularExpressions;
using LightGlm.Translation;

namespace LightGlm.Cli.Serving;

public static partial class TranslationInstruction
{
    /// <summary>The direction a message asks for (target Chinese → en-zh, target English → zh-en), or null if it names none.</summary>
    public static Direction? Find(string message)
    {
        if (English().Match(message) is { Success: true } en) return Target(en.Groups["to"].Value);
        if (Pair().Match(message) is { Success: true } pair) return Target(pair.Groups["to"].Value);
        if (Chinese().Match(message) is { Success: true } zh) return Target(zh.Groups["to"].Value);
        if (ChinesePair().Match(message) is { Success: true } zhPair) return Target(zhPair.Groups["to"].Value);
        if (Code().Match(message) is { Success: true } code) return Directions.Parse(code.Value);
        return null;
    }

    /// <summary>
    /// Splits "Translate to Chinese: Open file" (or the instruction on a line of its own above the text) into the
    /// direction and "Open file". A text without such a head is returned whole with a null direction: a menu item
    /// reading "Translate to English" is a text to translate, not an instruction.
    /// </summary>
    public static (Direction? Direction, string Text) SplitHead(string message)
    {
        int cut = message.AsSpan().IndexOfAny(':', '：', '\n');
        if (cut < 0 || cut > 200) return (null, message);
        var dir = Find(message[..cut]);
        return dir is null ? (null, message) : (dir, message[(cut + 1)..].Trim());
    }

    static Direction Target(string language) => language.ToLowerInvariant() switch
    {
        "english" or "英文" or "英语" or "英" => Direction.ZhToEn,
        _ => Direction.EnToZh, // chinese, mandarin, 中文, 汉语, 中, 汉
    };

    [GeneratedRegex(@"\b(?:translat\w*|render|convert)\b.*?\b(?:to|into|in)\s+(?:simplified\s+|traditional\s+)?(?<to>chinese|mandarin|english)\b", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex English();

    [GeneratedRegex(@"\b(?:english|chinese)\s+(?:to|into|->|→)\s+(?<to>chinese|english)\b", RegexOptions.IgnoreCase)]
    private static partial Regex Pair();

    [GeneratedRegex(@"(?:翻译|翻|译)(?:成|为|到|作)\s*(?:简体)?(?<to>中文|汉语|英文|英语)")]
    private static partial Regex Chinese();

    [GeneratedRegex(@"[英中汉]译(?<to>[英中汉])")]
    private static partial Regex ChinesePair();

    [GeneratedRegex(@"\b(?:en-zh|zh-en)\b", RegexOptions.IgnoreCase)]
    private static partial Regex Code();
}
