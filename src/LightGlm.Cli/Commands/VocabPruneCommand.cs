// `lightglm vocab-prune`: shrink embedding and LM head to the tokens a domain corpus uses; tokenizer.json remapped.
using System.CommandLine;
using LightGlm.Compression.Pruning;

namespace LightGlm.Cli.Commands;

public sealed class VocabPruneCommand : ICliCommand
{
    public string[] Path => ["vocab-prune"];

    public Command Build()
    {
        var model = new Option<string>("--model") { Description = "Model directory with config.json, model.safetensors and tokenizer.json (our BPE or any byte-level / byte-fallback BPE).", Required = true };
        var corpus = new Option<string[]>("--corpus") { Description = "Domain text: a corpus folder (uses train.tsv, both columns) or .tsv/.txt files (one text per line / per tab-separated column). Default: $LIGHTGLM_CACHE/corpus.", AllowMultipleArgumentsPerToken = true };
        var mono = new Option<bool>("--mono") { Description = "With a corpus folder, also count mono.en.txt and mono.zh.txt." };
        var minCount = new Option<long>("--min-count") { Description = "Keep tokens seen at least this often (byte tokens, specials and merge ancestors are always kept).", DefaultValueFactory = _ => 1 };
        var output = new Option<string>("--out") { Description = "Directory for the pruned model.", Required = true };
        var cmd = new Command("vocab-prune", "Vocabulary pruning: keep the tokens the domain corpus uses (+ bytes, specials, BPE merge ancestors), gather embedding/LM-head rows, remap tokenizer.json.")
        { model, corpus, mono, minCount, output };
        cmd.SetAction(r =>
        {
            string dir = r.GetValue(model)!, outDir = r.GetValue(output)!;
            if (!Directory.Exists(dir)) throw new CliException($"--model {dir}: directory not found");
            if (System.IO.Path.GetFullPath(dir).TrimEnd('/') == System.IO.Path.GetFullPath(outDir).TrimEnd('/')) throw new CliException($"--out {outDir} is the model directory; choose a new directory");
            var files = Files(r.GetValue(corpus) ?? [], r.GetValue(mono));
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var plan = VocabPruner.Run(dir, files.SelectMany(Texts), outDir, r.GetValue(minCount));
            long before = new FileInfo(System.IO.Path.Combine(dir, "model.safetensors")).Length, after = new FileInfo(System.IO.Path.Combine(outDir, "model.safetensors")).Length;
            var shape = Model.ModelConfig.Load(System.IO.Path.Combine(outDir, "config.json"), arena: false);
            long removed = (long)(plan.OldVocab - plan.Kept.Length) * shape.C * (shape.TieWordEmbeddings ? 1 : 2);
            Console.WriteLine($"counted {string.Join(", ", files)} in {sw.Elapsed.TotalSeconds:F1} s");
            Console.WriteLine($"vocabulary {plan.OldVocab} -> {plan.Kept.Length} ({plan.Used} used by the corpus + {plan.ByteTokens} byte tokens + {plan.Specials} specials + {plan.Ancestors} merge ancestors)");
            Console.WriteLine($"parameters -{removed:N0}; model.safetensors {before / 1e6:F1} MB -> {after / 1e6:F1} MB ({1 - (double)after / before:P1} smaller) -> {outDir}");
            return 0;
        });
        return cmd;
    }

    internal static List<string> Files(string[] given, bool mono)
    {
        if (given.Length == 0)
        {
            var cache = Environment.GetEnvironmentVariable("LIGHTGLM_CACHE") ?? ".cache/lightglm";
            given = [System.IO.Path.Combine(cache, "corpus")];
        }
        var files = new List<string>();
        foreach (var g in given)
        {
            if (Directory.Exists(g))
            {
                files.Add(System.IO.Path.Combine(g, "train.tsv"));
                if (mono) files.AddRange(new[] { "mono.en.txt", "mono.zh.txt" }.Select(f => System.IO.Path.Combine(g, f)));
            }
            else files.Add(g);
        }
        foreach (var f in files) if (!File.Exists(f)) throw new CliException($"--corpus: {f} not found");
        return files;
    }

    /// <summary>Each line; in a .tsv each tab-separated column separately (source and target are tokenized apart).</summary>
    internal static IEnumerable<string> Texts(string file) =>
        File.ReadLines(file).SelectMany(l => file.EndsWith(".tsv", StringComparison.OrdinalIgnoreCase) ? l.Split('\t') : [l]).Where(s => s.Length > 0);
}
