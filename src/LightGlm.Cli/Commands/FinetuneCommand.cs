// `lightglm finetune`: fine-tune a translation model on parallel pairs; --hybrid mixes the plentiful source direction
// with a scarce target direction, weighted by α (paper §3.3, Eq. 11-12). --lora-rank trains LoRA adapters over the frozen
// model and writes the merged model; --dry-run prints the memory of the full and the LoRA fine-tune from config.json alone.
using System.CommandLine;
using System.Text.Json.Nodes;
using LightGlm.Interop;
using LightGlm.Model;
using LightGlm.Model.Checkpoints;
using LightGlm.Model.Lora;
using LightGlm.Text.Tokenizers;
using LightGlm.Training;
using LightGlm.Training.Hybrid;
using LightGlm.Translation;

namespace LightGlm.Cli.Commands;

public sealed class FinetuneCommand : ICliCommand
{
    public string[] Path => ["finetune"];

    public Command Build()
    {
        var model = new Option<string>("--model") { Description = "Model directory to start from (config.json, model.safetensors, tokenizer.json).", Required = true };
        var data = new Option<string?>("--data") { Description = "Training pairs: TSV, English<TAB>Chinese per line (required unless --dry-run)." };
        var output = new Option<string?>("--out") { Description = "Directory for the fine-tuned model (required unless --dry-run)." };
        var hybrid = new Option<bool>("--hybrid") { Description = "Hybrid-data fine-tuning: D_s = --source-direction over most pairs, D_d = --target-direction over a few other pairs (or --target-data), mixed and weighted by α." };
        var srcDir = new Option<string>("--source-direction") { Description = "Direction of D_s (the plentiful side).", DefaultValueFactory = _ => "en-zh" };
        var tgtDir = new Option<string>("--target-direction") { Description = "Direction of D_d (the scarce side); also the direction of the dev loss.", DefaultValueFactory = _ => "zh-en" };
        var fraction = new Option<double>("--target-fraction") { Description = "|D_d| / |D_s| when D_d is taken from --data.", DefaultValueFactory = _ => 0.05 };
        var targetData = new Option<string?>("--target-data") { Description = "Pairs for D_d (TSV); then D_s uses every --data pair." };
        var alpha = new Option<double?>("--alpha") { Description = "α by hand (the paper: 0.65); default: Eq. 11 from the set sizes and --w-s/--w-d." };
        var wS = new Option<double>("--w-s") { Description = "Eq. 11's w_s.", DefaultValueFactory = _ => 1.0 };
        var wD = new Option<double>("--w-d") { Description = "Eq. 11's w_d.", DefaultValueFactory = _ => 1.0 };
        var weighting = new Option<string>("--weighting") { Description = "per_sample (a source sample weighs α, a target one 1−α) or loss_share (α = the source side's share of the loss).", DefaultValueFactory = _ => "per_sample" };
        var dev = new Option<string?>("--dev") { Description = "Dev pairs (TSV): loss on the target direction (both directions without --hybrid) is logged." };
        var steps = new Option<int>("--steps") { DefaultValueFactory = _ => 200 };
        var batch = new Option<int>("--batch") { DefaultValueFactory = _ => 16 };
        var seq = new Option<int>("--seq-len") { DefaultValueFactory = _ => 64 };
        var lr = new Option<double>("--lr") { DefaultValueFactory = _ => 5e-4 };
        var wd = new Option<double>("--weight-decay") { DefaultValueFactory = _ => 0.05 };
        var warm = new Option<double>("--warmup") { Description = "Warm-up fraction of the steps.", DefaultValueFactory = _ => 0.1 };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 1 };
        var validEvery = new Option<int>("--valid-every") { Description = "Steps between dev losses (0 = steps/5).", DefaultValueFactory = _ => 0 };
        var log = new Option<string?>("--log") { Description = "Append step/loss/dev-loss records as JSON lines (loss.svg/loss.png beside the file are redrawn as it grows)." };
        var threads = new Option<int>("--threads") { DefaultValueFactory = _ => 0 };
        var loraRank = new Option<int>("--lora-rank") { Description = "Train LoRA adapters of this rank over the frozen model (0 = fine-tune every weight); the output has them merged.", DefaultValueFactory = _ => 0 };
        var loraAlpha = new Option<double?>("--lora-alpha") { Description = "LoRA α: the update is (α/r)·B·A. Default: α = r (scale 1; PEFT's defaults are r = 8, α = 8)." };
        var loraTargets = new Option<string>("--lora-targets") { Description = "Comma-separated: attention (q|k|v and o_proj), mlp (gate|up and down_proj).", DefaultValueFactory = _ => "attention,mlp" };
        var loraSave = new Option<string?>("--lora-save-adapters") { Description = "Also write the adapters alone into this directory (PEFT's adapter_model.safetensors + adapter_config.json)." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the memory of the full and the LoRA fine-tune (weights, adapters, gradients, AdamW, activations of --batch x --seq-len) from --model's config.json alone, and stop." };
        var cmd = new Command("finetune", "Fine-tune a translation model; --hybrid: the source+target mix of the paper's §3.3 (Eq. 11-12); --lora-rank: LoRA adapters over the frozen model.")
        { model, data, output, hybrid, srcDir, tgtDir, fraction, targetData, alpha, wS, wD, weighting, dev, steps, batch, seq, lr, wd, warm, seed, validEvery, log, threads,
          loraRank, loraAlpha, loraTargets, loraSave, dryRun };
        cmd.SetAction(r =>
        {
            ModelThreads.Apply(r.GetValue(threads));
            string modelDir = r.GetValue(model)!;
            int rank = r.GetValue(loraRank);
            new OptionChecks().AtLeast("--lora-rank", rank, 0).AtLeast("--batch", r.GetValue(batch), 1).AtLeast("--seq-len", r.GetValue(seq), 2).ThrowIfAny();
            LoraOptions? lora;
            try { lora = rank > 0 || r.GetValue(dryRun) ? LoraOptions.Create(rank > 0 ? rank : 8, r.GetValue(loraAlpha), r.GetValue(loraTargets)!.Split(',', StringSplitOptions.TrimEntries)) : null; }
            catch (ArgumentException e) { throw new CliException("--lora-rank/--lora-alpha/--lora-targets: " + e.Message); }
            if (r.GetValue(dryRun)) return DryRun(modelDir, lora!, rank == 0, r.GetValue(batch), r.GetValue(seq));
            if (rank == 0 && (r.GetValue(loraAlpha) is not null || r.GetValue(loraSave) is not null))
                throw new CliException("--lora-alpha and --lora-save-adapters need --lora-rank R > 0");
            if (r.GetValue(loraSave) is { } ls && string.IsNullOrWhiteSpace(ls)) throw new CliException("--lora-save-adapters: give a directory");
            string dataPath = r.GetValue(data) ?? throw new CliException("--data is required (except with --dry-run)");
            string outDir = r.GetValue(output) ?? throw new CliException("--out is required (except with --dry-run)");
            var tokPath = ModelDirectory.TokenizerPath(modelDir) ?? throw new CliException($"{modelDir} has no tokenizer.json: fine-tuning needs the model's tokenizer");
            var tok = HfTokenizer.Create(tokPath);
            var sp = LightGlm.Text.Tokenizers.SpecialTokens.From(tok);
            int T = r.GetValue(seq), B = r.GetValue(batch), S = r.GetValue(steps);
            new OptionChecks().AtLeast("--steps", S, 1).AtLeast("--batch", B, 1).AtLeast("--seq-len", T, 2).Positive("--lr", r.GetValue(lr))
                .InRange("--weight-decay", r.GetValue(wd), 0).InRange("--warmup", r.GetValue(warm), 0, 1).InRange("--target-fraction", r.GetValue(fraction), 0, 1)
                .InRange("--w-s", r.GetValue(wS), 0).InRange("--w-d", r.GetValue(wD), 0).InRange("--alpha", r.GetValue(alpha) ?? 0.5, 0, 1)
                .AtLeast("--valid-every", r.GetValue(validEvery), 0).ThrowIfAny();
            var pairs = ParallelTsv.Read(dataPath);
            if (pairs.Count == 0) throw new CliException($"{dataPath}: no pairs");
            IBatchSource source;
            Direction? devDirection = null;
            string what;
            try
            {
                if (r.GetValue(hybrid))
                {
                    var sd = Directions.Parse(r.GetValue(srcDir)!); var td = Directions.Parse(r.GetValue(tgtDir)!);
                    HybridSets sets;
                    if (r.GetValue(targetData) is { } tpath)
                    {
                        var tp = ParallelTsv.Read(tpath);
                        sets = new HybridSets(new TranslationBatcher(tok, pairs, T, [sd]).Examples.ToList(), new TranslationBatcher(tok, tp, T, [td]).Examples.ToList(), pairs, tp);
                    }
                    else sets = HybridData.Split(pairs, tok, T, sd, td, r.GetValue(fraction));
                    if (sets.Source.Count == 0 || sets.Target.Count == 0)
                        throw new CliException($"hybrid fine-tuning needs both sets: D_s has {sets.Source.Count} examples, D_d {sets.Target.Count} (pairs longer than --seq-len {T} are dropped)");
                    double a = r.GetValue(alpha) ?? HybridMix.Alpha(r.GetValue(wS), sets.Source.Count, r.GetValue(wD), sets.Target.Count);
                    var w = HybridMix.ParseWeighting(r.GetValue(weighting)!);
                    source = new HybridBatchSource(sets.Source, sets.Target, a, sp.Pad, r.GetValue(seed), w);
                    var (ws, wt) = HybridMix.Weights(a, sets.Source.Count, sets.Target.Count, w);
                    what = $"hybrid: D_s = {sd.Name()} × {sets.Source.Count}, D_d = {td.Name()} × {sets.Target.Count}, α = {a:0.###} ({r.GetValue(weighting)}: weights {ws:0.###} / {wt:0.###})";
                    devDirection = td;
                }
                else
                {
                    var ex = new TranslationBatcher(tok, pairs, T).Examples;
                    if (ex.Count == 0) throw new CliException($"no example fits --seq-len {T}");
                    source = HybridBatchSource.Plain(ex, sp.Pad, r.GetValue(seed));
                    what = $"plain: {ex.Count} examples, both directions";
                }
            }
            catch (ArgumentException e) { throw new CliException(e.Message); }
            // A model no fp32 arena of ours should hold (16-bit, sharded, Hugging Face, quantized or > 500M parameters) is
            // fine-tuned in place: its weights stay frozen where they are and only LoRA adapters train.
            bool frozenBase = !TranslationModel.LoadsWhole(modelDir);
            if (frozenBase && lora is null)
                throw new CliException($"{modelDir} is a 16-bit, sharded, Hugging Face, quantized or large checkpoint: full fine-tuning needs its fp32 copy " +
                                       "(lightglm import --dtype fp32); or train LoRA adapters over it in place with --lora-rank R");
            IDisposable? frozenOwner = null;
            LightGlm.Model.GlmModel m;
            if (frozenBase)
            {
                var (frozenWeights, owner) = TranslationModel.OpenWeights(modelDir);
                frozenOwner = owner;
                m = new LightGlm.Model.GlmModel(frozenWeights);
            }
            else m = ModelDirectory.Load(modelDir);
            using var keepOpen = frozenOwner;
            LoraAdapters? adapters = null;
            if (lora is not null)
            {
                if (lora.ParameterCount(m.Config) > Array.MaxLength)
                    throw new CliException($"--lora-rank {lora.Rank}: the adapters would have {lora.ParameterCount(m.Config):N0} parameters, more than one arena holds; choose a rank far below the model's widths (hidden {m.Config.C})");
                adapters = new LoraAdapters(m.Config, lora, (ulong)r.GetValue(seed));
                m.AttachLora(adapters); // the trainer made below trains the adapters; the base stays frozen
                long P = m.Config.ParameterCount();
                what += $"; LoRA r = {lora.Rank}, α = {lora.Alpha:0.###} on {lora.TargetText}: {adapters.Weights.Length:N0} trained parameters " +
                        $"({100.0 * adapters.Weights.Length / P:0.##} % of {P:N0})";
            }
            var opts = new TrainerOptions
            {
                Steps = S, BatchSize = B, SeqLen = T, Seed = (ulong)r.GetValue(seed),
                Optimizer = new OptimizerOptions { Lr = r.GetValue(lr), WeightDecay = r.GetValue(wd) },
                Schedule = new ScheduleOptions { WarmupSteps = Math.Max(1, (int)(S * r.GetValue(warm))) },
            };
            var trainer = new Trainer(m, opts, source);
            Func<double>? validate = null;
            if (r.GetValue(dev) is { } devPath)
            {
                var devEx = new TranslationBatcher(tok, ParallelTsv.Read(devPath), T, devDirection is { } d ? [d] : null).Examples;
                if (devEx.Count == 0) throw new CliException($"{devPath}: no dev example fits --seq-len {T}");
                var devSrc = HybridBatchSource.Plain(devEx, sp.Pad, seed: 99);
                int nb = Math.Max(1, Math.Min(16, (devEx.Count + B - 1) / B));
                validate = () => trainer.Evaluate(devSrc, nb);
            }
            Console.WriteLine($"{what}; {S} steps of {B}×{T}");
            // Through the one metrics writer: the loss chart beside the log is redrawn as it grows, like train's.
            var metrics = new MetricsLog(r.GetValue(log));
            var sw = System.Diagnostics.Stopwatch.StartNew();
            int every = r.GetValue(validEvery) > 0 ? r.GetValue(validEvery) : Math.Max(1, S / 5);
            var curve = RunLoop.Run(trainer, new RunLoopOptions { ValidEvery = every, ValidateAtStart = true, CheckpointEvery = every }, new RunLoopHooks
            {
                Validate = validate, Log = Console.WriteLine,
                Stepped = (s, v) =>
                {
                    if (v is not null || s.Step % 10 == 0 || s.Step == S)
                        Console.WriteLine($"step {s.Step,5}/{S}  loss {s.Loss,8:F4}" + (v is { } x ? $"  dev {(devDirection?.Name() ?? "both")} {x,8:F4}" : ""));
                    var rec = new JsonObject { ["step"] = s.Step, ["loss"] = Math.Round(s.Loss, 5), ["lr"] = s.Lr };
                    if (v is { } vv) rec["dev_loss"] = Math.Round(vv, 5);
                    metrics.Write(rec);
                },
            }).Valid;
            metrics.Write(new JsonObject { ["event"] = "end", ["step"] = S });
            if (adapters is not null && r.GetValue(loraSave) is { } adapterDir)
            {   // before the model: an adapter path that cannot be written leaves --out as it was
                adapters.SaveAdapters(adapterDir);
                Console.WriteLine($"wrote the adapters alone to {adapterDir}");
            }
            if (frozenBase)
            {   // the base's rows read block by block, W + (α/r)·B·A added, written in bf16: the base is never whole in memory
                FrozenMerge.Save(m, outDir, modelDir);
                Console.WriteLine($"merged the adapters into a bf16 copy of the frozen base");
            }
            else
            {
                if (adapters is not null) m.MergeLora(); // W + (α/r)·B·A: every other command loads the output unchanged
                ModelDirectory.Save(m, outDir, tokPath);
            }
            Console.WriteLine($"fine-tuned in {sw.Elapsed.TotalSeconds:F1} s" + (curve.Count > 0 ? $": dev loss {curve[0].Loss:F4} → {curve[^1].Loss:F4}" : "") + $"; wrote {outDir}");
            return 0;
        });
        return cmd;
    }

    /// <summary>
    /// The memory of the full fine-tune and of LoRA side by side, from <paramref name="modelDir"/>'s config.json alone (ours
    /// or a Hugging Face one, e.g. ChatGLM2-6B's): nothing is loaded, so it works for models no fp32 arena of ours holds.
    /// </summary>
    static int DryRun(string modelDir, LoraOptions lora, bool defaultRank, int batch, int seqLen)
    {
        string cfgPath = System.IO.Path.Combine(modelDir, ModelDirectory.ConfigFile);
        if (!File.Exists(cfgPath)) throw new CliException($"{cfgPath}: no config.json; --model must be a model directory (its weights are not read by --dry-run)");
        JsonObject raw;
        try { raw = JsonNode.Parse(File.ReadAllText(cfgPath)) as JsonObject ?? throw new InvalidDataException($"{cfgPath}: not a JSON object"); }
        catch (System.Text.Json.JsonException e) { throw new InvalidDataException($"{cfgPath}: not valid JSON: {e.Message}"); }
        ModelConfig c;
        string? stored;
        try
        {
            if (MappedWeights.IsLightGlmConfig(raw)) { c = ModelConfig.Load(cfgPath, arena: false); stored = (raw["torch_dtype"] as JsonValue)?.TryGetValue<string>(out var d) == true ? d : "float32"; }
            else { var hf = ConfigTranslation.FromHf(raw, cfgPath); c = hf.Config; stored = hf.Notes.TorchDType; }
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException) { throw new InvalidDataException($"{cfgPath}: {e.Message}"); }
        if (seqLen > c.MaxPositionEmbeddings) throw new CliException($"--seq-len {seqLen} exceeds the model's max_position_embeddings = {c.MaxPositionEmbeddings}");
        int storedBytes = 4;
        try { if (stored is not null) storedBytes = TensorDTypes.Parse(stored, "torch_dtype").Size(); } catch (FormatException) { }
        var o = new TrainerOptions { BatchSize = batch, SeqLen = seqLen, Steps = 1 };
        var columns = new List<(string, MemoryEstimate)>
        {
            ("full fine-tune", MemoryEstimator.FineTune(c, o, null)),
            ($"LoRA r={lora.Rank}", MemoryEstimator.FineTune(c, o, lora)),
        };
        if (storedBytes < 4) columns.Add(($"LoRA r={lora.Rank}, {stored} base", MemoryEstimator.FineTune(c, o, lora, baseBytes: storedBytes)));
        double P = c.ParameterEstimate();
        long p = lora.ParameterCount(c);
        Console.WriteLine($"{modelDir}: {c.ModelType}, {c.L} layers, hidden {c.C}, ffn {c.F}, heads {c.H}/{c.KV}, vocab {c.V}: {P:N0} parameters, stored as {stored ?? "(torch_dtype not given)"}");
        Console.WriteLine($"memory of one fine-tuning process, batch {batch} x seq {seqLen} (an estimate from config.json; nothing was loaded):");
        Console.WriteLine(MemoryEstimate.SideBySide(columns));
        Console.WriteLine($"  {"fits in 24 GiB",-28}" + string.Concat(columns.Select(col => $" {(col.Item2.TotalBytes <= 24L << 30 ? "yes" : "no"),24}")));
        Console.WriteLine($"LoRA r = {lora.Rank}{(defaultRank ? " (no --lora-rank given: the usual 8)" : "")}, α = {lora.Alpha:0.###} (scale {lora.Scale:0.###}), " +
                          $"on {lora.TargetText}: {p:N0} trained parameters = {100.0 * p / P:0.###} % of the model");
        if (P > Array.MaxLength)
            Console.WriteLine($"note: this engine trains in one fp32 arena of at most {Array.MaxLength:N0} parameters, so it cannot run this fine-tune itself " +
                              "(full or LoRA); the columns say what the run needs.");
        if (columns.Count > 2)
            Console.WriteLine($"note: the last column keeps the frozen base as stored ({stored}), as LoRA on a GPU does; this engine holds its base in fp32 (the middle column).");
        Console.WriteLine($"available to this process here: {MemoryEstimate.Size(MemoryEstimate.AvailableBytes())}");
        return 0;
    }
}
