// `--memory FILE.tsv [--fuzzy auto|on|off]` of translate, eval and serve: one pair of options, one loader, one error message.
using System.CommandLine;
using LightGlm.Translation;

namespace LightGlm.Cli.Commands;

/// <summary>The memory the user named and, when the model is to get fuzzy prompts, the threshold and trained seq_len to use.</summary>
internal sealed record MemoryChoice(TranslationMemory Memory, double? FuzzyThreshold, int MatchSeqLen);

internal sealed class MemoryOption
{
    public readonly Option<string?> Option = new("--memory")
    {
        Description = "Translation memory (english<TAB>chinese TSV, e.g. a corpus's train.tsv): a text stored there gets its stored translation; the rest go to the model " +
                      "(a model trained with fuzzy prompts also gets the translation of the most similar stored text in its prompt, see --fuzzy).",
    };

    public readonly Option<string> Fuzzy = new("--fuzzy")
    {
        Description = "With --memory: give the model the best fuzzy match in its prompt — auto (when the model was trained so: its prompt_format.json), on, or off.",
        DefaultValueFactory = _ => "auto",
    };

    public MemoryOption() => Fuzzy.AcceptOnlyFromAmong("auto", "on", "off");

    public void AddTo(Command cmd)
    {
        cmd.Options.Add(Option);
        cmd.Options.Add(Fuzzy);
    }

    /// <summary>
    /// The memory the user named, or null; a missing or empty file is a usage error naming it, and so is --fuzzy on without
    /// --memory. Fuzzy prompts: auto follows the model's prompt format; on uses its threshold (else 0.5) even for a model
    /// whose directory does not say so (a copy made by export, say); off never.
    /// </summary>
    public MemoryChoice? Load(ParseResult r, string modelDir)
    {
        string fuzzy = r.GetValue(Fuzzy)!;
        if (r.GetValue(Option) is not { } path)
            return fuzzy == "on" ? throw new CliException("--fuzzy on puts a translation memory's fuzzy matches in the prompt: give --memory FILE.tsv") : null;
        PromptFormat? format;
        try { format = PromptFormat.Load(modelDir); }
        catch (InvalidDataException e) { throw new CliException(e.Message); }
        TranslationMemory memory;
        try { memory = TranslationMemory.Load(path); }
        catch (Exception e) when (e is FileNotFoundException or InvalidDataException) { throw new CliException("--memory: " + e.Message); }
        bool on = fuzzy == "on" || (fuzzy == "auto" && format?.FuzzyMatches == true);
        return new MemoryChoice(memory, on ? format?.FuzzyThreshold ?? FuzzyIndex.DefaultThreshold : null, on ? format?.SeqLen ?? 0 : 0);
    }
}
