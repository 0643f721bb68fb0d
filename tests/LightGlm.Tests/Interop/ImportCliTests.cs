// The `lightglm import` / `export` commands end to end, including their user errors (exit 2, message, no stack trace).
using LightGlm.Cli;

namespace LightGlm.Tests.Interop;

[Collection("Console")]
public sealed class ImportCliTests
{
    /// <summary>The CLI in this process with stdout and stderr captured (callers are in the "Console" collection).</summary>
    internal static (int Code, string Out, string Err) Run(params string[] args)
    {
        var (o, e) = (Console.Out, Console.Error);
        var so = new StringWriter(); var se = new StringWriter();
        Console.SetOut(so); Console.SetError(se);
        try { return (CliHost.Run(args), so.ToString(), se.ToString()); }
        finally { Console.SetOut(o); Console.SetError(e); }
    }

    [Fact]
    public void ImportThenExportThroughTheCli()
    {
        using var tmp = HfGolden.Temp();
        var (code, stdout, err) = Run("import", "--from", HfGolden.DirOf("chatglm2"), "--out", tmp.Sub("m"));
        Assert.True(code == 0, err);
        Assert.Contains("hf-chatglm", stdout);
        Assert.Contains("tokenizer.model (SentencePiece model)", stdout);
        Assert.True(File.Exists(Path.Combine(tmp.Sub("m"), "tokenizer.model")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(HfGolden.DirOf("chatglm2"), "tokenizer.model")), File.ReadAllBytes(Path.Combine(tmp.Sub("m"), "tokenizer.model")));
        (code, stdout, err) = Run("export", "--model", tmp.Sub("m"), "--format", "hf-chatglm", "--out", tmp.Sub("hf"), "--dtype", "fp16");
        Assert.True(code == 0, err);
        Assert.True(File.Exists(Path.Combine(tmp.Sub("hf"), "config.json")));
        Assert.True(File.Exists(Path.Combine(tmp.Sub("hf"), "tokenizer.model")));
        (code, stdout, err) = Run("bench", "mapped-decode", "--model", tmp.Sub("hf"), "--steps", "2");
        Assert.True(code == 0, err);
        Assert.Contains("decode: 2 step(s)", stdout);
    }

    [Fact]
    public void TokenizerJsonIsCarriedForLlamaAndQwen()
    {
        using var tmp = HfGolden.Temp();
        var (code, stdout, err) = Run("import", "--from", HfGolden.DirOf("qwen2"), "--out", tmp.Sub("q"));
        Assert.True(code == 0, err);
        Assert.Contains("tokenizer.json (Hugging Face tokenizer.json)", stdout);
        Assert.Equal(File.ReadAllText(Path.Combine(HfGolden.DirOf("qwen2"), "tokenizer.json")), File.ReadAllText(Path.Combine(tmp.Sub("q"), "tokenizer.json")));
        (code, stdout, _) = Run("import", "--from", HfGolden.DirOf("glm4"), "--out", tmp.Sub("g"));
        Assert.Equal(0, code);
        Assert.Contains("tokenizer.model (tiktoken BPE ranks)", stdout);
    }

    [Theory]
    [InlineData("import", "--from", "/nonexistent/dir", "--out", "OUT")]
    [InlineData("export", "--model", "/nonexistent/dir", "--format", "hf-llama", "--out", "OUT")]
    [InlineData("export", "--model", "GOLDEN", "--format", "hf-gpt2", "--out", "OUT")]
    [InlineData("import", "--from", "GOLDEN", "--out", "OUT", "--dtype", "int3")]
    public void UserErrorsExitWithTwoAndAMessage(params string[] args)
    {
        using var tmp = HfGolden.Temp();
        args = args.Select(a => a == "OUT" ? tmp.Sub("o") : a == "GOLDEN" ? HfGolden.DirOf("llama") : a).ToArray();
        var (code, _, err) = Run(args);
        Assert.Equal(2, code);
        Assert.Contains("lightglm: error:", err);
        Assert.DoesNotContain("   at ", err);
    }

    [Fact]
    public void NonEmptyOutputDirectoryIsRefused()
    {
        using var tmp = HfGolden.Temp();
        Directory.CreateDirectory(tmp.Sub("o"));
        File.WriteAllText(Path.Combine(tmp.Sub("o"), "keep.txt"), "user file");
        var (code, _, err) = Run("import", "--from", HfGolden.DirOf("llama"), "--out", tmp.Sub("o"));
        Assert.Equal(2, code);
        Assert.Contains("not empty", err);
        Assert.Equal("user file", File.ReadAllText(Path.Combine(tmp.Sub("o"), "keep.txt")));
    }
}
