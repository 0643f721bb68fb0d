// `experiment compression`: Figure 4 (validation loss over steps, mixed vs random pruning and layer baselines, same steps)
// and Table 4 (size, params, memory, decode/prefill latency, quality) for teacher, students and their int8/int4 versions.
using System.Diagnostics;
using System.Numerics.Tensors;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using LightGlm.Compression.Distillation;
using LightGlm.Compression.Importance;
using LightGlm.Compression.Pruning;
using LightGlm.IO;
using LightGlm.Kernels.Quantized;
using LightGlm.Model;
using LightGlm.Charts;

namespace LightGlm.Compression;

public sealed record CompressionExperimentOptions
{
    public int TeacherSteps { get; init; } = 300;
    public int DistillSteps { get; init; } = 150;
    public int EvalEvery { get; init; } = 15;
    public int BatchSize { get; init; } = 8;
    public int MaxLen { get; init; } = 64;
    public int DecodeTokens { get; init; } = 64;
    public double LearningRate { get; init; } = 2e-3;
}

public static class CompressionExperiment
{
    /// <summary>One student method: how its plan is made and how it is distilled.</summary>
    sealed record Method(string Name, Func<ModelFiles, List<CalibrationSample>, PruningPlan> Plan, DistillationWeights Weights);

    public static JsonObject Run(ModelFiles teacherFiles, List<CalibrationSample> train, List<CalibrationSample> valid, CompressionExperimentOptions o,
        string outDir, Action<string> log)
    {
        Directory.CreateDirectory(outDir);
        var t = teacherFiles.Config;
        var teacher = ModelBridge.ToModel(teacherFiles);
        var dOpts = new DistillOptions { BatchSize = o.BatchSize, MaxLen = o.MaxLen, LearningRate = o.LearningRate, EvalEvery = o.EvalEvery };
        if (o.TeacherSteps > 0)
        {
            log($"training the teacher {t.ParameterCount():N0} params for {o.TeacherSteps} steps (hard labels)");
            Distiller.Run(teacher, teacher, [], train, valid, dOpts with { Steps = o.TeacherSteps, Weights = new DistillationWeights(0, 1, 0, 0) },
                progress: (s, l, v) => log($"  teacher step {s}: valid {v:F4}"));
            teacherFiles = ModelBridge.FromModel(teacher);
        }
        var cal = train.Take(32).ToList();
        // Half width by the paper's rule: d_a' = d_a/2 (the pass-through half of GLM heads), d_ffn' = d_ffn/2.
        var half = new PruningTargets { HeadDim = t.D / 2, Ffn = t.F / 2 };
        var mixed = new DistillationWeights(Soft: 1, Hard: 1, Hidden: 1, Cosine: 0);
        var methods = new List<Method>
        {
            new("mixed (activation importance + KD)", (m, c) => PlanBuilder.Build(m.Config, ActivationImportance.Compute(m, c), half), mixed),
            new("random pruning + KD", (m, _) => PlanBuilder.Build(m.Config, WeightImportance.Random(m.Config, 7), half), mixed),
            new("top-layer drop (mBERT_drop) + KD", (m, _) => PlanBuilder.TopLayerDrop(m.Config, Math.Max(1, m.Config.L / 2)), mixed),
            new("DistilBERT (alternate layers, soft+hard+cos)", (m, _) => PlanBuilder.AlternateLayers(m.Config), new DistillationWeights(Soft: 1, Hard: 1, Hidden: 0, Cosine: 1)),
        };
        var curves = new JsonArray();
        var chart = new List<ChartSeries>();
        var rows = new List<JsonObject> { Measure("teacher fp32", teacherFiles, null, valid, o) };
        rows.Add(Measure("teacher int8", teacherFiles, QuantFormat.Int8, valid, o));
        foreach (var method in methods)
        {
            var plan = method.Plan(teacherFiles, cal);
            var pruned = StructuredPruner.Prune(teacherFiles, plan);
            var sm = ModelBridge.ToModel(pruned);
            log($"{method.Name}: {pruned.Config.ParameterCount():N0} params; distilling {o.DistillSteps} steps");
            var curve = Distiller.Run(teacher, sm, train, [], valid, dOpts with { Steps = o.DistillSteps, Weights = method.Weights },
                plan.HiddenChannels?.ToArray(), (s, l, v) => log($"  step {s}: valid {v:F4}"));
            curves.Add(new JsonObject { ["method"] = method.Name, ["steps"] = new JsonArray(curve.Select(c => (JsonNode)c.Step).ToArray()), ["valid_loss"] = new JsonArray(curve.Select(c => (JsonNode)c.ValLoss).ToArray()) });
            chart.Add(new(method.Name, curve.Select(c => (double)c.Step).ToList(), curve.Select(c => c.ValLoss).ToList()));
            var student = ModelBridge.FromModel(sm);
            rows.Add(Measure(method.Name, student, null, valid, o));
            if (method == methods[0])
            {
                rows.Add(Measure(method.Name + " + int8", student, QuantFormat.Int8, valid, o));
                rows.Add(Measure(method.Name + " + int4", student, QuantFormat.Int4, valid, o));
            }
        }
        var baseRow = rows[0];
        foreach (var r in rows)
        {
            r["decode_speedup"] = Math.Round(r["decode_tok_s"]!.GetValue<double>() / baseRow["decode_tok_s"]!.GetValue<double>(), 3);
            r["accuracy_vs_teacher"] = Math.Round(r["next_token_accuracy"]!.GetValue<double>() / baseRow["next_token_accuracy"]!.GetValue<double>(), 4);
        }
        var result = new JsonObject
        {
            ["teacher"] = JsonNode.Parse(t.ToJson()),
            ["options"] = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(o)),
            ["figure4"] = curves,
            ["table4"] = new JsonArray(rows.Select(r => (JsonNode)r).ToArray()),
            ["note"] = "Measured on a shared 2-core CPU under load; quality = next-token accuracy and loss on the validation split (BLEU needs the translation pipeline).",
        };
        AtomicFile.WriteAllText(Path.Combine(outDir, "compression.json"), result.ToJsonString(new() { WriteIndented = true }));
        var csv = new StringBuilder("method,params,weight_bytes,peak_bytes,decode_tok_s,decode_speedup,prefill_ms,valid_loss,next_token_accuracy,accuracy_vs_teacher\n");
        foreach (var r in rows)
            csv.AppendLine(string.Join(",", new[] { "method", "params", "weight_bytes", "peak_bytes", "decode_tok_s", "decode_speedup", "prefill_ms", "valid_loss", "next_token_accuracy", "accuracy_vs_teacher" }
                .Select(k => k == "method" ? "\"" + r[k]!.GetValue<string>() + "\"" : Convert.ToString(r[k]!.GetValue<double>(), CultureInfo.InvariantCulture))));
        AtomicFile.WriteAllText(Path.Combine(outDir, "table4.csv"), csv.ToString());
        Chart.Line("Figure 4: validation loss while distilling (same steps)", "step", "validation loss", chart).Save(Path.Combine(outDir, "figure4.svg"));
        return result;
    }

    /// <summary>Size, latency and quality of one model (optionally quantized) on the validation split.</summary>
    static JsonObject Measure(string name, ModelFiles m, QuantFormat? q, List<CalibrationSample> valid, CompressionExperimentOptions o)
    {
        var weights = Model.Inference.InferenceWeights.Quantize(m.InferenceWeights(),
            q switch { QuantFormat.Int8 => Model.Inference.WeightFormat.Int8, QuantFormat.Int4 => Model.Inference.WeightFormat.Int4, _ => Model.Inference.WeightFormat.Fp32 });
        var dec = new Model.Inference.SequenceDecoder(weights, Math.Max(o.MaxLen, o.DecodeTokens) + 1);
        // Quality: next-token loss and top-1 accuracy over the validation sequences, through the same (quantized) decoder.
        double loss = 0; long right = 0, n = 0;
        foreach (var s in valid.Take(24))
        {
            dec.Reset();
            int len = Math.Min(o.MaxLen, s.Tokens.Length);
            for (int i = 0; i < len; i++)
            {
                var z = dec.Forward(s.Tokens.AsSpan(i, 1));
                int y = s.Targets[i];
                if (y < 0) continue;
                float max = TensorPrimitives.Max(z);
                double lse = 0;
                foreach (var v in z) lse += Math.Exp(v - max);
                loss += Math.Log(lse) + max - z[y];
                if (TensorPrimitives.IndexOfMax(z) == y) right++;
                n++;
            }
        }
        // Speed: prefill of MaxLen tokens, then DecodeTokens single-token steps (batch 1), best of 3.
        var prompt = valid[0].Tokens.Take(o.MaxLen).ToArray();
        double prefillMs = double.MaxValue, tokS = 0;
        for (int rep = 0; rep < 3; rep++)
        {
            dec.Reset();
            var sw = Stopwatch.StartNew();
            int tok = TensorPrimitives.IndexOfMax(dec.Forward(prompt));
            prefillMs = Math.Min(prefillMs, sw.Elapsed.TotalMilliseconds);
            dec.Reset();
            dec.Forward(prompt.AsSpan(0, 1));
            sw.Restart();
            for (int i = 0; i < o.DecodeTokens - 1; i++) tok = TensorPrimitives.IndexOfMax(dec.Forward([tok]));
            tokS = Math.Max(tokS, (o.DecodeTokens - 1) / sw.Elapsed.TotalSeconds);
        }
        long kvBytes = 2L * m.Config.L * (Math.Max(o.MaxLen, o.DecodeTokens) + 1) * m.Config.KV * m.Config.D * 4;
        return new JsonObject
        {
            ["method"] = name,
            ["params"] = (double)m.Config.ParameterCount(),
            ["weight_bytes"] = (double)weights.HeldBytes,
            ["peak_bytes"] = (double)(weights.HeldBytes + kvBytes),
            ["decode_tok_s"] = Math.Round(tokS, 2),
            ["prefill_ms"] = Math.Round(prefillMs, 2),
            ["valid_loss"] = Math.Round(loss / Math.Max(1, n), 4),
            ["next_token_accuracy"] = Math.Round((double)right / Math.Max(1, n), 4),
        };
    }
}
