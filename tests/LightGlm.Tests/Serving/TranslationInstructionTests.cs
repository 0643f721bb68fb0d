// Which way a chat message asks to translate, in English and Chinese, and when a message's head is an instruction.
using LightGlm.Cli.Serving;
using LightGlm.Translation;

namespace LightGlm.Tests.Serving;

public sealed class TranslationInstructionTests
{
    [Theory]
    [InlineData("Translate to Chinese", "en-zh")]
    [InlineData("You are a translator. Translate the user's messages into Simplified Chinese.", "en-zh")]
    [InlineData("Please translate this into English", "zh-en")]
    [InlineData("Render it in Mandarin", "en-zh")]
    [InlineData("English to Chinese", "en-zh")]
    [InlineData("chinese -> english", "zh-en")]
    [InlineData("翻译成英文", "zh-en")]
    [InlineData("请把下面的句子翻译为中文", "en-zh")]
    [InlineData("译成英语", "zh-en")]
    [InlineData("中译英", "zh-en")]
    [InlineData("英译汉", "en-zh")]
    [InlineData("direction: zh-en", "zh-en")]
    [InlineData("You translate between English and Chinese.", null)]
    [InlineData("Open file", null)]
    [InlineData("打开文件", null)]
    public void FindsTheDirectionAMessageAsksFor(string message, string? expected) =>
        Assert.Equal(expected, TranslationInstruction.Find(message)?.Name());

    [Theory]
    [InlineData("Translate to Chinese: Open file", "en-zh", "Open file")]
    [InlineData("翻译成英文：打开文件", "zh-en", "打开文件")]
    [InlineData("Translate into English\n无法打开文件", "zh-en", "无法打开文件")]
    [InlineData("Cannot read %s: permission denied", null, "Cannot read %s: permission denied")]
    [InlineData("Translate to English", null, "Translate to English")] // a menu item, not an instruction
    [InlineData("Translate to Chinese:", "en-zh", "")]
    public void SplitsAnInstructionHeadFromTheText(string message, string? direction, string text)
    {
        var (d, t) = TranslationInstruction.SplitHead(message);
        Assert.Equal(direction, d?.Name());
        Assert.Equal(text, t);
    }
}
