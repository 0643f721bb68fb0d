// `lightglm tokenizer train|encode|decode`: our byte-level BPE on the corpus, and any supported tokenizer file.
using System.CommandLine;
using System.Diagnostics;
using LightGlm.IO;
using LightGlm.Text.Corpus;
using LightGlm.Text.Tokenizers;

namespace LightGlm.Cli.Commands;

public sealed class TokenizerTrainCommand : ICliCommand
{
    public string[] Path => ["tokenizer", "train"];

    public Command Build()
    {
        var corpus = new Option<string?>("--corpus") { Description = "Corpus folder (default .cache/lightglm/corpus): trains on both sides of train.tsv (+ mono text with --mono)" };
        // Never the working directory by default: a command run from a source tree must not drop files into it.
        var output = new Option<string?>("--output", "-o") { Description = "tokenizer.json to write (default: {cache}/tokenizer/tokenizer.json; the cache is $LIGHTGLM_CACHE, else .cache/lightglm at the repository root, else ~/.cache/lightglm; never the working directory)" };
        var vocab = new Option<int>("--vocab-size") { Description = "Vocabulary size including 6 special and 256 byte tokens", DefaultValueFactory = _ => 16000 };
        var mono = new Option<bool>("--mono") { Description = "Also train on mono.en.txt and mono.zh.txt" };
        var cmd = new Command("train", "Train our byte-level BPE tokenizer on the corpus and write a Hugging Face tokenizer.json.") { corpus, output, vocab, mono };
        cmd.SetAction(r =>
        {
            var paths = new CorpusPaths(r.GetValue(corpus) ?? RepoPaths.DefaultCorpusDir);
            if (!File.Exists(paths.Train)) throw new CliException($"{paths.Train} not found; run `lightglm corpus build` first or pass --corpus.");
            int v = r.GetValue(vocab);
            if (v < 262 || v > 1_000_000) throw new CliException($"--vocab-size must be in 262..1000000, got {v}.");
            var texts = ParallelCorpus.ReadTsv(paths.Train).SelectMany(p => new[] { p.English, p.Chinese }).ToList();
            if (r.GetValue(mono))
                foreach (var f in new[] { paths.MonoEnglish, paths.MonoChinese }) if (File.Exists(f)) texts.AddRange(File.ReadLines(f));
            var sw = Stopwatch.StartNew();
            string outPath = System.IO.Path.GetFullPath(r.GetValue(output) ?? System.IO.Path.Combine(RepoPaths.CacheDir, "tokenizer", "tokenizer.json"));
            AtomicFile.Write(outPath, fs => BpeTrainer.Train(texts, new BpeTrainerOptions { VocabSize = v }, fs));
            double secs = sw.Elapsed.TotalSeconds;
            var tok = HfTokenizer.Create(outPath);
            sw.Restart();
            long tokens = 0, bytes = 0;
            foreach (var t in texts) { tokens += tok.Encode(t).Length; bytes += System.Text.Encoding.UTF8.GetByteCount(t); }
            double encSecs = sw.Elapsed.TotalSeconds;
            Console.WriteLine($"trained {tok.VocabSize} tokens on {texts.Count} texts ({bytes / 1e6:F1} MB) in {secs:F1}s -> {outPath}");
            Console.WriteLine($"encode: {tokens} tokens, {bytes / (double)tokens:F2} bytes/token, {bytes / 1e6 / encSecs:F2} MB/s (first pass, cold cache)");
            return 0;
        });
        return cmd;
    }
}

public sealed class TokenizerEncodeCommand : ICliCommand
{
    public string[] Path => ["tokenizer", "encode"];

    public Command Build()
    {
        var file = new Option<string>("--tokenizer", "-t") { Description = "tokenizer.json (or .json.gz) or SentencePiece .model", Required = true };
        var text = new Argument<string?>("text") { Description = "Text to encode (default: each line of stdin)", Arity = ArgumentArity.ZeroOrOne };
        var cmd = new Command("encode", "Print the ids of text (one line of space-separated ids per input line).") { file, text };
        cmd.SetAction(r =>
        {
            var tok = TokenizerFiles.Load(r.GetValue(file)!);
            var input = r.GetValue(text);
            IEnumerable<string> lines = input is not null ? [input] : ReadStdin();
            foreach (var l in lines) Console.WriteLine(string.Join(' ', tok.Encode(l)));
            return 0;
        });
        return cmd;
    }

    static IEnumerable<string> ReadStdin() { while (Console.In.ReadLine() is { } l) yield return l; }
}

public sealed class TokenizerDecodeCommand : ICliCommand
{
    public string[] Path => ["tokenizer", "decode"];

    public Command Build()
    {
        var file = new Option<string>("--tokenizer", "-t") { Description = "tokenizer.json (or .json.gz) or SentencePiece .model", Required = true };
        var ids = new Argument<string[]>("ids") { Description = "Ids to decode (default: lines of space-separated ids on stdin)", Arity = ArgumentArity.ZeroOrMore };
        var cmd = new Command("decode", "Print the text of ids.") { file, ids };
        cmd.SetAction(r =>
        {
            var tok = TokenizerFiles.Load(r.GetValue(file)!);
            var given = r.GetValue(ids) ?? [];
            IEnumerable<string> lines = given.Length > 0 ? [string.Join(' ', given)] : ReadStdin();
            foreach (var l in lines)
            {
                var parsed = l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(s => int.TryParse(s, out int v) ? v : throw new CliException($"'{s}' is not a token id.")).ToArray();
                try { Console.WriteLine(tok.Decode(parsed)); }
                catch (ArgumentOutOfRangeException e) { throw new CliException(e.Message); }
            }
            return 0;
        });
        return cmd;
    }

    static IEnumerable<string> ReadStdin() { while (Console.In.ReadLine() is { } l) yield return l; }
}

internal static class TokenizerFiles
{
    public static ITokenizer Load(string path)
    {
        if (!File.Exists(path)) throw new CliException($"tokenizer file not found: {path}");
        try { return TokenizerLoader.Load(path); }
        catch (NotSupportedException e) { throw new CliException($"{path}: {e.Message}"); }
    }
}
