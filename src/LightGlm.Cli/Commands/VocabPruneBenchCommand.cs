// `lightglm bench vocab-prune`: what vocabulary pruning saves for a model with a large general tokenizer (e.g. Qwen3's
// 151k tokens) on our domain corpus: kept tokens, parameters, weight bytes and batch-1 decode speed, before and after,
// measured in the same run on a model of the given shape with seeded random weights (no weights can be downloaded here;
// speed and size depend on the shape, not on the values).
using System.CommandLine;
using System.Text.Json.Nodes;
using LightGlm.Compression;
using LightGlm.Compression.Pruning;
using LightGlm.Model;
using LightGlm.Text.Tokenizers;

namespace LightGlm.Cli.Commands;

public sealed class VocabPruneBenchCommand : ICliCommand
{
    public string[] Path => ["bench", "vocab-prune"];

    public Command Build()
    {
        var tokenizer = new Option<string>("--tokenizer") { Description = "A byte-level or byte-fallback BPE tokenizer.json (.gz read too), e.g. Qwen3's.", Required = true };
        var corpus = new Option<string[]>("--corpus") { Description = "Domain text as for `vocab-prune` (a corpus folder's train.tsv, or .tsv/.txt files). Default: $LIGHTGLM_CACHE/corpus.", AllowMultipleArgumentsPerToken = true };
        var vocab = new Option<int>("--vocab-size") { Description = "The model's vocab_size (≥ the tokenizer's ids; Qwen3 pads to 151936). Default: the tokenizer's size." };
        var hidden = new Option<int>("--hidden") { Description = "Model shape (default: Qwen3-0.6B's, without its q/k norms).", DefaultValueFactory = _ => 1024 };
        var layers = new Option<int>("--layers") { DefaultValueFactory = _ => 28 };
        var heads = new Option<int>("--heads") { DefaultValueFactory = _ => 16 };
        var kvHeads = new Option<int>("--kv-heads") { DefaultValueFactory = _ => 8 };
        var headDim = new Option<int>("--head-dim") { DefaultValueFactory = _ => 128 };
        var ffn = new Option<int>("--ffn") { DefaultValueFactory = _ => 3072 };
        var untied = new Option<bool>("--untied") { Description = "A separate LM head (default: tied to the embedding, as Qwen3-0.6B)." };
        var minCount = new Option<long>("--min-count") { Description = "Keep tokens seen at least this often.", DefaultValueFactory = _ => 1 };
        var tokens = new Option<int>("--tokens") { Description = "Greedy decode steps timed per repetition (batch 1).", DefaultValueFactory = _ => 16 };
        var reps = new Option<int>("--reps") { Description = "Repetitions; the best is reported.", DefaultValueFactory = _ => 3 };
        var cmd = new Command("vocab-prune", "Vocabulary pruning on the domain corpus for a large-vocabulary model shape: kept tokens, parameters, weight MB and decode tokens/s before and after, same run.")
        { tokenizer, corpus, vocab, hidden, layers, heads, kvHeads, headDim, ffn, untied, minCount, tokens, reps };
        cmd.SetAction(r =>
        {
            string tokPath = r.GetValue(tokenizer)!;
            if (!File.Exists(tokPath)) throw new CliException($"--tokenizer {tokPath}: file not found");
            int n = r.GetValue(tokens), k = r.GetValue(reps);
            if (n < 2 || k < 1) throw new CliException("--tokens must be ≥ 2 and --reps ≥ 1");
            var files = VocabPruneCommand.Files(r.GetValue(corpus) ?? [], mono: false);
            var tok = HfTokenizer.Create(tokPath);
            JsonObject tokJson;
            using (var s = File.OpenRead(tokPath))
            using (Stream text = tokPath.EndsWith(".gz", StringComparison.Ordinal) ? new System.IO.Compression.GZipStream(s, System.IO.Compression.CompressionMode.Decompress) : s)
                tokJson = JsonNode.Parse(text) as JsonObject ?? throw new CliException($"{tokPath}: not a JSON object");
            int v = r.GetValue(vocab) is > 0 and var given ? given : tok.VocabSize;
            var shape = new ModelConfig
            {
                ModelType = "qwen2", VocabSize = v, HiddenSize = r.GetValue(hidden), NumHiddenLayers = r.GetValue(layers),
                NumAttentionHeads = r.GetValue(heads), NumKeyValueHeads = r.GetValue(kvHeads), HeadDim = r.GetValue(headDim),
                IntermediateSize = r.GetValue(ffn), RmsNormEps = 1e-6, RopeTheta = 1000000.0, PartialRotaryFactor = 1.0,
                RopeInterleaved = false, AttentionBias = false, TieWordEmbeddings = !r.GetValue(untied),
            }.Validate("bench vocab-prune shape", arena: false);

            var clock = System.Diagnostics.Stopwatch.StartNew();
            var texts = files.SelectMany(VocabPruneCommand.Texts).ToList();
            var counts = VocabPruner.Count(tok, texts);
            var plan = VocabPruner.Plan(tokJson, counts, v, [], r.GetValue(minCount));
            long tokenCount = counts.Sum();
            Console.WriteLine($"corpus: {string.Join(", ", files)}: {texts.Count:N0} texts, {tokenCount:N0} tokens, counted in {clock.Elapsed.TotalSeconds:F1} s");
            Console.WriteLine($"vocabulary {v:N0} -> {plan.Kept.Length:N0} ({plan.Used:N0} used by the corpus + {plan.ByteTokens} byte tokens + {plan.Specials} specials + {plan.Ancestors:N0} merge ancestors)");

            Console.Error.WriteLine($"  building a {shape.ParameterCount() / 1e6:F0}M-parameter model with random weights ...");
            var full = RandomModel.Create(shape);
            var pruned = VocabPruner.Prune(full, plan);
            // The pruned model computes the same logits on the kept ids (checked here on one step, before timing).
            var map = plan.NewIds();
            int first = plan.Kept[Math.Min(plan.Kept.Length - 1, 300)];
            var a = new LightGlm.Model.Inference.SequenceDecoder(full.InferenceWeights(), 2).Forward([first]).ToArray();
            var b = new LightGlm.Model.Inference.SequenceDecoder(pruned.InferenceWeights(), 2).Forward([map[first]]).ToArray();
            double maxDiff = plan.Kept.Select((id, i) => Math.Abs(a[id] - b[i])).Max();
            Console.WriteLine($"logits on the kept ids, pruned vs full: max |difference| {maxDiff:E2} (one step)");

            var rows = new List<(string Name, ModelConfig Config, long Bytes, double TokS)>();
            foreach (var (name, m) in new[] { ("full vocabulary", full), ("vocabulary pruned", pruned) })
            {
                var weights = m.InferenceWeights();
                var (tps, bytes) = (LightGlm.Evaluation.Bench.DecodeBench.GreedyTokensPerSecond(weights, 1 % m.Config.V, n, k), weights.HeldBytes);
                rows.Add((name, m.Config, bytes, tps));
                Console.Error.WriteLine($"  measured {name}: {tps:F2} tok/s");
            }
            Console.WriteLine($"machine: {Environment.ProcessorCount} cores; shape C {shape.C}, L {shape.L}, H {shape.H}, KV {shape.KV}, D {shape.D}, F {shape.F}, {(shape.TieWordEmbeddings ? "tied" : "untied")} head; batch 1, fp32, best of {k} × {n - 1} tokens");
            Console.WriteLine("| model | vocab | params | embedding + head params | weight MB | decode tok/s | speedup |");
            Console.WriteLine("|---|---|---|---|---|---|---|");
            var b0 = rows[0];
            foreach (var x in rows)
                Console.WriteLine($"| {x.Name} | {x.Config.V:N0} | {x.Config.ParameterCount():N0} | {(long)x.Config.V * x.Config.C * (x.Config.TieWordEmbeddings ? 1 : 2):N0} | {x.Bytes / 1e6:F0} | {x.TokS:F2} | {x.TokS / b0.TokS:F2}x |");
            Console.WriteLine($"parameters saved: {1 - (double)rows[1].Config.ParameterCount() / b0.Config.ParameterCount():P1}; weight bytes saved: {1 - (double)rows[1].Bytes / b0.Bytes:P1}");
            if (maxDiff > 1e-3) { Console.Error.WriteLine("error: the pruned model's logits differ from the full model's on the kept ids"); return 1; }
            return 0;
        });
        return cmd;
    }
}
