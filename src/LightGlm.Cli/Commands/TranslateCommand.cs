// `lightglm translate --model DIR [--to zh|en] [--beam N] [--quantize int8|int4] TEXT…` (or stdin, or --file):
// greedy or beam-search translation, one line per input, batched.
using System.CommandLine;
using LightGlm.Translation;

namespace LightGlm.Cli.Commands;

public sealed class TranslateCommand : ICliCommand
{
    public string[] Path => ["translate"];

    public Command Build()
    {
        var modelOpt = new Option<string>("--model") { Description = "Model directory (config.json, model.safetensors).", Required = true };
        var toOpt = new Option<string?>("--to") { Description = "Target language: zh or en (default: guessed per text: Chinese → en, else zh)." };
        var fileOpt = new Option<string?>("--file") { Description = "Translate every line of this UTF-8 file." };
        var maxOpt = new Option<int>("--max-new-tokens") { Description = "Longest answer in tokens.", DefaultValueFactory = _ => 128 };
        var poOpt = new Option<string?>("--po") { Description = "Fill the untranslated entries of this gettext catalog (en→zh), marked fuzzy; written in place unless --out." };
        var outOpt = new Option<string?>("--out") { Description = "With --po: write the filled catalog here instead." };
        var memoryOpt = new MemoryOption();
        var decode = new DecodeOptions();
        var textArg = new Argument<string[]>("text") { Description = "Texts to translate (none: read lines from stdin).", Arity = ArgumentArity.ZeroOrMore };
        var cmd = new Command("translate", "Translate English↔Chinese computer-language text with a trained model.") { modelOpt, toOpt, fileOpt, maxOpt, poOpt, outOpt, textArg };
        memoryOpt.AddTo(cmd);
        decode.AddTo(cmd);
        cmd.SetAction(r =>
        {
            var texts = r.GetValue(textArg) ?? [];
            if (r.GetValue(poOpt) is { } po)
            {
                if (texts.Length > 0 || r.GetValue(fileOpt) is not null) throw new CliException("--po fills a catalog: give no TEXT and no --file with it");
                if (!File.Exists(po)) throw new CliException($"--po '{po}' does not exist");
                var poMemory = memoryOpt.Load(r, r.GetValue(modelOpt)!);
                using var po_ = TranslationModel.Open(r.GetValue(modelOpt)!);
                var ptr = decode.Translator(r, po_.Weights, po_.Tokenizer, memory: poMemory);
                var rep = PoFiller.Fill(po, r.GetValue(outOpt) ?? po, src => (poMemory is null ? ptr.Translate(src, Direction.EnToZh, r.GetValue(maxOpt))
                    : poMemory.Memory.Translate(ptr, src, Direction.EnToZh, r.GetValue(maxOpt), fuzzyThreshold: poMemory.FuzzyThreshold).Results).Select(x => x.Text).ToList());
                Console.Error.WriteLine($"{po}: {rep.Untranslated} untranslated, {rep.Filled} filled (fuzzy), {rep.LeftPlaceholders} left untranslated because a placeholder was lost, {rep.LeftEmpty} left because the answer was empty");
                return 0;
            }
            var file = r.GetValue(fileOpt);
            List<string> inputs;
            if (file is not null)
            {
                if (texts.Length > 0) throw new CliException("give either TEXT arguments or --file, not both");
                inputs = LightGlm.Evaluation.Metrics.SegmentFile.Read(file).ToList();
            }
            else if (texts.Length > 0) inputs = texts.ToList();
            else
            {
                inputs = [];
                string? line;
                while ((line = Console.In.ReadLine()) is not null) inputs.Add(line);
            }
            // An empty text has no translation: say so rather than print an empty line (blank lines inside a file or
            // stdin stay blank in the output, one line per line).
            for (int i = 0; i < texts.Length; i++)
                if (texts[i].Trim().Length == 0) throw new CliException($"TEXT {(texts.Length > 1 ? $"#{i + 1} " : "")}is empty: nothing to translate");
            if (inputs.All(x => x.Trim().Length == 0))
                throw new CliException($"nothing to translate: {(file is not null ? $"--file '{file}' has" : "standard input had")} no non-blank line");
            int maxNew = r.GetValue(maxOpt);
            if (maxNew <= 0) throw new CliException($"--max-new-tokens {maxNew} must be positive");
            var to = r.GetValue(toOpt);
            Direction? fixedDir = to is null ? null : to switch
            {
                "zh" => Direction.EnToZh, "en" => Direction.ZhToEn,
                _ => throw new CliException($"--to '{to}': use zh or en"),
            };
            var memory = memoryOpt.Load(r, r.GetValue(modelOpt)!);
            using var opened = TranslationModel.Open(r.GetValue(modelOpt)!);
            var (weights, tok) = (opened.Weights, opened.Tokenizer);
            var translator = decode.Translator(r, weights, tok, memory: memory);
            var outputs = new string[inputs.Count];
            int hits = 0, fuzzyHits = 0;
            foreach (var group in Enumerable.Range(0, inputs.Count).GroupBy(i => fixedDir ?? Directions.Detect(inputs[i])))
            {
                var idx = group.Where(i => inputs[i].Trim().Length > 0).ToList();
                foreach (int i in idx) // the model sees a window: say when a text does not fit, rather than translate part of it quietly
                    if (translator.SourceFit(inputs[i], maxNew) is var (tokens, kept) && kept < tokens)
                        Console.Error.WriteLine($"lightglm: warning: {(inputs.Count > 1 ? $"line {i + 1}" : "the text")} is {tokens} tokens; only the first {kept} fit " +
                                                $"the model's window ({translator.MaxLength} positions with up to {maxNew} answer tokens): the rest is not translated");
                var groupTexts = idx.Select(i => inputs[i]).ToList();
                IReadOnlyList<TranslationResult> res;
                if (memory is null) res = translator.Translate(groupTexts, group.Key, maxNew);
                else
                {
                    var answer = memory.Memory.Translate(translator, groupTexts, group.Key, maxNew, fuzzyThreshold: memory.FuzzyThreshold);
                    (res, hits, fuzzyHits) = (answer.Results, hits + answer.ExactHits, fuzzyHits + answer.FuzzyHits);
                }
                for (int k = 0; k < idx.Count; k++) outputs[idx[k]] = res[k].Text;
            }
            if (memory is not null)
                Console.Error.WriteLine($"lightglm: {hits} of {inputs.Count(x => x.Trim().Length > 0)} text(s) from the translation memory ({memory.Memory.Count:N0} pairs)" +
                                        (memory.FuzzyThreshold is { } ft ? $", {fuzzyHits} translated with a fuzzy match (score ≥ {ft}) in the prompt" : ""));
            // One output line per input line: a newline the model produced becomes a space.
            foreach (var o in outputs) Console.WriteLine((o ?? "").Replace("\r\n", " ").Replace('\n', ' ').Replace('\r', ' '));
            return 0;
        });
        return cmd;
    }
}
