// `--memory FILE.tsv` of translate and eval: one option, one loader, one error message.
using System.CommandLine;
using LightGlm.Translation;

namespace LightGlm.Cli.Commands;

internal sealed class MemoryOption
{
    public readonly Option<string?> Option = new("--memory")
    {
        Description = "Translation memory (english<TAB>chinese TSV, e.g. a corpus's train.tsv): a text stored there gets its stored translation; the rest go to the model.",
    };

    /// <summary>The memory the user named, or null; a missing or empty file is a usage error naming it.</summary>
    public TranslationMemory? Load(ParseResult r)
    {
        if (r.GetValue(Option) is not { } path) return null;
        try { return TranslationMemory.Load(path); }
        catch (Exception e) when (e is FileNotFoundException or InvalidDataException) { throw new CliException("--memory: " + e.Message); }
    }
}
