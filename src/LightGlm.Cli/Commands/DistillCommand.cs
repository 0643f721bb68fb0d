// `lightglm distill`: Algorithm 2 — a pruned student learns from its teacher (soft labels + hidden MSE) and from hard labels.
using System.CommandLine;
using System.Text.Json;
using LightGlm.Compression;
using LightGlm.Text.Tokenizers;
using LightGlm.Compression.Distillation;
using LightGlm.Compression.Pruning;
using LightGlm.IO;
using LightGlm.Model.Checkpoints;

namespace LightGlm.Cli.Commands;

public sealed class DistillCommand : ICliCommand
{
    public string[] Path => ["distill"];

    public Command Build()
    {
        var teacher = new Option<string>("--teacher") { Description = "Teacher model directory.", Required = true };
        var student = new Option<string>("--student") { Description = "Student model directory (e.g. from `lightglm prune`).", Required = true };
        var output = new Option<string>("--out") { Description = "Directory for the distilled student.", Required = true };
        var source = new Option<string?>("--source") { Description = "Source-set sequences: soft labels (.jsonl ids, or text encoded by the teacher's tokenizer)." };
        var target = new Option<string?>("--target") { Description = "Target-set sequences: hard labels." };
        var valid = new Option<string?>("--valid") { Description = "Validation sequences (hard CE logged)." };
        var plan = new Option<string?>("--plan") { Description = "The pruning plan; its hidden channels initialise the Eq. 10 projection." };
        var steps = new Option<int>("--steps") { DefaultValueFactory = _ => 200 };
        var batch = new Option<int>("--batch") { DefaultValueFactory = _ => 8 };
        var maxLen = new Option<int>("--max-len") { DefaultValueFactory = _ => 64 };
        var lr = new Option<double>("--lr") { DefaultValueFactory = _ => 1e-3 };
        var schedule = new Option<string>("--schedule") { Description = "Learning rate: constant, or cosine / linear decay to 10% after --warmup of the steps.", DefaultValueFactory = _ => "constant" };
        var warmup = new Option<double>("--warmup") { Description = "Fraction of the steps warming up (with --schedule cosine|linear).", DefaultValueFactory = _ => 0.05 };
        var temp = new Option<float>("--temperature") { DefaultValueFactory = _ => 1f };
        var ws = new Option<float>("--w-soft") { DefaultValueFactory = _ => 1f };
        var wh = new Option<float>("--w-hard") { DefaultValueFactory = _ => 1f };
        var wd = new Option<float>("--w-hidden") { DefaultValueFactory = _ => 1f };
        var wc = new Option<float>("--w-cos") { DefaultValueFactory = _ => 0f };
        var topk = new Option<int>("--top-k") { Description = "Keep only the teacher's top-k logits per position (0 = all).", DefaultValueFactory = _ => 0 };
        var log = new Option<string?>("--log") { Description = "Write the validation curve as JSON." };
        var downstream = new Option<bool>("--downstream") { Description = "Downstream distillation (Eq. 13): soft labels on the --target set too, L = λ·soft + (1−λ)·hard; replaces --w-soft/--w-hard." };
        var lambda = new Option<double>("--lambda") { Description = "Eq. 13's λ (with --downstream).", DefaultValueFactory = _ => 0.65 };
        var lambdaWeighs = new Option<string>("--lambda-weighs") { Description = "Which term λ weighs: teacher (the paper's formula) or student (its text).", DefaultValueFactory = _ => "teacher" };
        var cachePath = new Option<string?>("--teacher-cache") { Description = "File for the teacher's outputs: computed once, reused by later runs (rebuilt when teacher or data change). Use with --top-k for a small file." };
        var clip = new Option<double>("--grad-clip") { Description = "Global-norm gradient clipping (0 = off), as training's.", DefaultValueFactory = _ => 1.0 };
        var ckDir = new Option<string?>("--checkpoint-dir") { Description = "Checkpoints of the student (and projection): a run with the same directory resumes from the newest." };
        var ckEvery = new Option<int>("--checkpoint-every") { Description = "Steps between checkpoints (with --checkpoint-dir; the last step is always saved).", DefaultValueFactory = _ => 100 };
        var cmd = new Command("distill", "Distil a teacher into a student (Algorithm 2: soft labels on the source set, hard labels on the target set; --downstream: Eq. 13 on the target set).")
        { teacher, student, output, source, target, valid, plan, steps, batch, maxLen, lr, schedule, warmup, temp, ws, wh, wd, wc, topk, log, downstream, lambda, lambdaWeighs, cachePath, clip, ckDir, ckEvery };
        cmd.SetAction(r =>
        {
            new OptionChecks().AtLeast("--steps", r.GetValue(steps), 1).AtLeast("--batch", r.GetValue(batch), 1).AtLeast("--max-len", r.GetValue(maxLen), 2)
                .Positive("--lr", r.GetValue(lr)).Positive("--temperature", r.GetValue(temp)).AtLeast("--top-k", r.GetValue(topk), 0)
                .InRange("--w-soft", r.GetValue(ws), 0).InRange("--w-hard", r.GetValue(wh), 0).InRange("--w-hidden", r.GetValue(wd), 0)
                .InRange("--w-cos", r.GetValue(wc), 0).InRange("--lambda", r.GetValue(lambda), 0, 1).InRange("--warmup", r.GetValue(warmup), 0, 0.99)
                .InRange("--grad-clip", r.GetValue(clip), 0).AtLeast("--checkpoint-every", r.GetValue(ckEvery), 1).ThrowIfAny();
            string kind = r.GetValue(schedule)!;
            if (kind is not ("constant" or "cosine" or "linear")) throw new CliException($"--schedule {kind}: use constant, cosine or linear");
            using var t = DistillationTeacher.Open(r.GetValue(teacher)!);
            var s = ModelDirectory.Load(r.GetValue(student)!);
            if (t.Streams)
            {
                Console.WriteLine($"teacher: {t.Description}");
                if (r.GetValue(cachePath) is null)
                    Console.WriteLine("note: a streamed teacher runs for every step's batch; --teacher-cache FILE (with --top-k) runs it once per sequence");
            }
            int ml = r.GetValue(maxLen);
            var tok = ModelTokenizer.Open(r.GetValue(teacher)!, t.Config.V);
            List<Compression.Importance.CalibrationSample> Read(Option<string?> o) => r.GetValue(o) is { } p ? CalibrationData.Read(p, tok, t.Config.V, ml, int.MaxValue) : [];
            var src = Read(source); var tgt = Read(target); var val = Read(valid);
            if (src.Count + tgt.Count == 0) throw new CliException("give --source and/or --target sequences");
            int[]? kept = r.GetValue(plan) is { } pp ? PruningPlan.Load(pp).HiddenChannels?.ToArray() : null;
            var weights = new DistillationWeights(r.GetValue(ws), r.GetValue(wh), r.GetValue(wd), r.GetValue(wc), r.GetValue(temp));
            bool ds = r.GetValue(downstream);
            if (ds)
            {
                if (tgt.Count == 0) throw new CliException("--downstream distils on the target data: give --target sequences");
                try
                {
                    var w = DistillationWeights.Downstream(r.GetValue(lambda), r.GetValue(temp), DistillationWeights.LambdaWeighsStudent(r.GetValue(lambdaWeighs)!));
                    // Source sequences, if any, keep Algorithm 2's soft + hidden terms at the --w-soft/--w-hidden weights.
                    weights = w with { Hidden = src.Count > 0 ? r.GetValue(wd) : 0f, Cosine = src.Count > 0 ? r.GetValue(wc) : 0f };
                    if (src.Count > 0 && r.GetValue(ws) != w.Soft)
                        Console.WriteLine($"note: with --downstream the soft weight is λ-derived ({w.Soft:G3}) on source and target sequences alike");
                }
                catch (ArgumentException e) { throw new CliException(e.Message); }
                Console.WriteLine($"downstream distillation: soft (teacher) weight {weights.Soft:G3}, hard (student) weight {weights.Hard:G3}, T = {weights.Temperature:G3}");
            }
            var opts = new DistillOptions
            {
                Steps = r.GetValue(steps), BatchSize = r.GetValue(batch), MaxLen = ml, LearningRate = r.GetValue(lr), TopK = r.GetValue(topk),
                Weights = weights, SoftOnTarget = ds, TeacherCachePath = r.GetValue(cachePath),
                GradClip = r.GetValue(clip), CheckpointDir = r.GetValue(ckDir), CheckpointEvery = r.GetValue(ckEvery),
                Schedule = kind == "constant" ? null : new Training.ScheduleOptions
                {
                    WarmupSteps = (int)Math.Round(r.GetValue(steps) * r.GetValue(warmup)), MinLrRatio = 0.1,
                    Decay = kind == "cosine" ? Training.DecayKind.Cosine : Training.DecayKind.Linear,
                },
            };
            var curve = Distiller.Run(t, s, src, tgt, val, opts, kept, (step, loss, vl) => Console.WriteLine($"step {step,5}  train {loss,8:F4}  valid {vl,8:F4}"),
                Console.WriteLine);
            ModelDirectory.SaveWithTokenizerOf(s, r.GetValue(output)!, r.GetValue(student)!);
            if (r.GetValue(log) is { } lp)
                AtomicFile.WriteAllText(lp, JsonSerializer.Serialize(curve.Select(c => new { step = c.Step, valid_loss = double.IsNaN(c.ValLoss) ? (double?)null : c.ValLoss })));
            return 0;
        });
        return cmd;
    }
}
