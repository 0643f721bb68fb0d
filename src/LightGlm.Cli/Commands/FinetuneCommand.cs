// `lightglm finetune`: fine-tune a translation model on parallel pairs; --hybrid mixes the plentiful source direction
// with a scarce target direction, weighted by α (paper §3.3, Eq. 11-12).
using System.CommandLine;
using System.Text.Json.Nodes;
using LightGlm.Model.Checkpoints;
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
        var data = new Option<string>("--data") { Description = "Training pairs: TSV, English<TAB>Chinese per line.", Required = true };
        var output = new Option<string>("--out") { Description = "Directory for the fine-tuned model.", Required = true };
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
        var cmd = new Command("finetune", "Fine-tune a translation model; --hybrid: the source+target mix of the paper's §3.3 (Eq. 11-12).")
        { model, data, output, hybrid, srcDir, tgtDir, fraction, targetData, alpha, wS, wD, weighting, dev, steps, batch, seq, lr, wd, warm, seed, validEvery, log, threads };
        cmd.SetAction(r =>
        {
            ModelThreads.Apply(r.GetValue(threads));
            string modelDir = r.GetValue(model)!;
            var tokPath = ModelDirectory.TokenizerPath(modelDir) ?? throw new CliException($"{modelDir} has no tokenizer.json: fine-tuning needs the model's tokenizer");
            var tok = HfTokenizer.Create(tokPath);
            var sp = LightGlm.Text.Tokenizers.SpecialTokens.From(tok);
            int T = r.GetValue(seq), B = r.GetValue(batch), S = r.GetValue(steps);
            new OptionChecks().AtLeast("--steps", S, 1).AtLeast("--batch", B, 1).AtLeast("--seq-len", T, 2).Positive("--lr", r.GetValue(lr))
                .InRange("--weight-decay", r.GetValue(wd), 0).InRange("--warmup", r.GetValue(warm), 0, 1).InRange("--target-fraction", r.GetValue(fraction), 0, 1)
                .InRange("--w-s", r.GetValue(wS), 0).InRange("--w-d", r.GetValue(wD), 0).InRange("--alpha", r.GetValue(alpha) ?? 0.5, 0, 1)
                .AtLeast("--valid-every", r.GetValue(validEvery), 0).ThrowIfAny();
            var pairs = ParallelTsv.Read(r.GetValue(data)!);
            if (pairs.Count == 0) throw new CliException($"{r.GetValue(data)}: no pairs");
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
            var m = ModelDirectory.Load(modelDir);
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
            ModelDirectory.Save(m, r.GetValue(output)!, tokPath);
            Console.WriteLine($"fine-tuned in {sw.Elapsed.TotalSeconds:F1} s" + (curve.Count > 0 ? $": dev loss {curve[0].Loss:F4} → {curve[^1].Loss:F4}" : "") + $"; wrote {r.GetValue(output)}");
            return 0;
        });
        return cmd;
    }
}
