// `lightglm prune`: importance on calibration data → pruning plan → a real smaller dense model (or a sparsity baseline).
using System.CommandLine;
using LightGlm.Compression;
using LightGlm.Text.Tokenizers;
using LightGlm.Compression.Baselines;
using LightGlm.Compression.Importance;
using LightGlm.Compression.Pruning;

namespace LightGlm.Cli.Commands;

public sealed class PruneCommand : ICliCommand
{
    public string[] Path => ["prune"];

    public Command Build()
    {
        var teacher = new Option<string>("--teacher") { Description = "Teacher model directory (config.json + model.safetensors).", Required = true };
        var output = new Option<string>("--out") { Description = "Directory for the pruned student.", Required = true };
        var plan = new Option<string?>("--plan") { Description = "A pruning plan JSON (indices kept); skips importance." };
        var target = new Option<long?>("--target-params") { Description = "Parameter budget: shrink head_dim and FFN together (paper's rule) to fit." };
        var importance = new Option<string>("--importance") { Description = "taylor (first-order |w·dL/dw|, the default: best measured) | activation | magnitude | random", DefaultValueFactory = _ => "taylor" };
        var calibration = new Option<string?>("--calibration") { Description = "Calibration data: .jsonl token ids, or text (one sequence per line, encoded by the teacher's tokenizer)." };
        var layers = new Option<int?>("--layers") { Description = "Layers to keep (depth)." };
        var hidden = new Option<int?>("--hidden") { Description = "Hidden channels to keep." };
        var kvHeads = new Option<int?>("--kv-heads") { Description = "KV heads to keep." };
        var headsPerGroup = new Option<int?>("--heads-per-group") { Description = "Query heads per kept KV head." };
        var headDim = new Option<int?>("--head-dim") { Description = "head_dim d_a' (FFN shrinks in proportion unless --ffn). Pass-through channels go first; rotary pairs only below the rotary dims (see --rotary)." };
        var ffn = new Option<int?>("--ffn") { Description = "FFN neurons to keep." };
        var rotary = new Option<string>("--rotary") { Description = "stride (exact frequencies) | importance (frequencies remapped)", DefaultValueFactory = _ => "stride" };
        var baseline = new Option<string?>("--baseline") { Description = "top-layer-drop | alternate | magnitude-sparsity | wanda-sparsity (baselines)." };
        var sparsity = new Option<double>("--sparsity") { Description = "Fraction zeroed by the sparsity baselines.", DefaultValueFactory = _ => 0.5 };
        var seed = new Option<int>("--seed") { Description = "Seed of random importance.", DefaultValueFactory = _ => 1 };
        var savePlan = new Option<string?>("--save-plan") { Description = "Write the plan used here as JSON." };
        var stream = new Option<bool>("--stream") { Description = "Use the teacher memory-mapped, one block in fp32 at a time (automatic for Hugging Face, sharded, 16-bit or > 500M-parameter teachers)." };
        var cmd = new Command("prune", "Prune a teacher into a smaller dense student (structured), or apply a sparsity baseline.")
        { teacher, output, plan, target, importance, calibration, layers, hidden, kvHeads, headsPerGroup, headDim, ffn, rotary, baseline, sparsity, seed, savePlan, stream };
        cmd.SetAction(r =>
        {
            string teacherDir = r.GetValue(teacher)!;
            bool streamed = r.GetValue(stream) || MappedTeacher.ShouldStream(teacherDir);
            using var mapped = streamed ? MappedTeacher.Open(teacherDir) : null;
            var t = streamed ? null : ModelFiles.Load(teacherDir);
            var shape = mapped?.Config ?? t!.Config;
            ModelFiles InMemory(string what) => t ?? throw new CliException(
                $"{what} needs the whole teacher in memory; {teacherDir} is used streamed (mapped); use --importance activation|magnitude|random or a plan");
            List<CalibrationSample> Cal() => r.GetValue(calibration) is { } c ? CalibrationData.Read(c, ModelTokenizer.Open(teacherDir, shape.V), shape.V)
                : throw new CliException("--calibration FILE is needed for --importance activation|taylor and --baseline wanda-sparsity");
            string outDir = r.GetValue(output)!;
            string? b = r.GetValue(baseline);
            if (b is "magnitude-sparsity" or "wanda-sparsity")
            {
                var full = InMemory($"--baseline {b}");
                var s = b == "wanda-sparsity" ? UnstructuredSparsity.Wanda(full, r.GetValue(sparsity), Cal()) : UnstructuredSparsity.Magnitude(full, r.GetValue(sparsity));
                s.Save(outDir, r.GetValue(teacher));
                Console.WriteLine($"{b}: {UnstructuredSparsity.Sparsity(s):P1} of block weights are zero; still a dense model ({s.Weights.ParameterCount:N0} stored values) -> {outDir}");
                return 0;
            }
            PruningPlan p;
            if (b == "top-layer-drop") p = PlanBuilder.TopLayerDrop(shape, r.GetValue(layers) ?? throw new CliException("--baseline top-layer-drop needs --layers N"));
            else if (b == "alternate") p = PlanBuilder.AlternateLayers(shape);
            else if (b is not null) throw new CliException($"--baseline '{b}' is not top-layer-drop, alternate, magnitude-sparsity or wanda-sparsity");
            else if (r.GetValue(plan) is { } planPath) p = PruningPlan.Load(planPath);
            else
            {
                var x = new PruningTargets
                {
                    Layers = r.GetValue(layers), Hidden = r.GetValue(hidden), KvHeads = r.GetValue(kvHeads), HeadsPerGroup = r.GetValue(headsPerGroup),
                    HeadDim = r.GetValue(headDim), Ffn = r.GetValue(ffn), Rotary = r.GetValue(rotary)!,
                };
                if (x.HeadDim is { } d && x.Ffn is null) x = x with { Ffn = Math.Max(1, (int)Math.Round((double)d / shape.D * shape.F)) };
                if (r.GetValue(target) is { } budget) x = PruningTargets.ForBudget(shape, budget, x);
                var method = r.GetValue(importance)!;
                var scores = method switch
                {
                    "activation" when mapped is not null => ActivationImportance.Compute(mapped, Cal(),
                        (l, sec) => Console.WriteLine($"importance: block {l + 1}/{shape.L} streamed in {sec:F1} s")),
                    "activation" => ActivationImportance.Compute(t!, Cal()),
                    "taylor" => WeightImportance.Taylor(InMemory("--importance taylor"), TaylorGradients.Compute(InMemory("--importance taylor"), Cal())),
                    "magnitude" => mapped is not null ? WeightImportance.Magnitude(mapped) : WeightImportance.Magnitude(t!),
                    "random" => WeightImportance.Random(shape, r.GetValue(seed)),
                    _ => throw new CliException($"--importance '{method}' is not activation, taylor, magnitude or random"),
                };
                p = PlanBuilder.Build(shape, scores, x);
            }
            if (r.GetValue(savePlan) is { } sp) p.Save(sp);
            Model.ModelConfig ss;
            if (mapped is not null) ss = StructuredPruner.PruneTo(mapped, ResolvedPlan.Resolve(p, shape), outDir);
            else
            {
                var student = StructuredPruner.Prune(t!, p);
                student.Save(outDir, teacherDir);
                ss = student.Config;
            }
            Console.WriteLine($"teacher {shape.ParameterCount():N0} params (L={shape.L} C={shape.C} H={shape.H} KV={shape.KV} D={shape.D} F={shape.F})");
            Console.WriteLine($"student {ss.ParameterCount():N0} params (L={ss.L} C={ss.C} H={ss.H} KV={ss.KV} D={ss.D} F={ss.F}, R={ss.R}) = {(double)ss.ParameterCount() / shape.ParameterCount():P1} -> {outDir}");
            if (p.Note is not null) Console.WriteLine($"plan: {p.Note}");
            return 0;
        });
        return cmd;
    }
}
