// `lightglm experiment compression`: Figure 4 and Table 4 on our data (JSON + CSV + SVG into --out).
using System.CommandLine;
using System.Text.Json.Nodes;
using LightGlm.Compression;
using LightGlm.Model;

namespace LightGlm.Cli.Commands;

public sealed class ExperimentCompressionCommand : ICliCommand
{
    public string[] Path => ["experiment", "compression"];

    public Command Build()
    {
        var teacher = new Option<string?>("--teacher") { Description = "A trained teacher directory; default: train a byte-level GLM teacher here first." };
        var data = new Option<string?>("--data") { Description = "Text (one sequence per line, UTF-8 bytes) or .jsonl ids; default: /usr/share/common-licenses/GPL-3." };
        var output = new Option<string>("--out") { Description = "Output directory.", DefaultValueFactory = _ => "runs/compression" };
        var teacherSteps = new Option<int>("--teacher-steps") { DefaultValueFactory = _ => 300 };
        var steps = new Option<int>("--steps") { Description = "Distillation steps per student (the same for every method).", DefaultValueFactory = _ => 150 };
        var hidden = new Option<int>("--hidden") { Description = "Hidden size of the built-in teacher.", DefaultValueFactory = _ => 256 };
        var layers = new Option<int>("--layers") { DefaultValueFactory = _ => 4 };
        var cmd = new Command("compression", "Figure 4 (validation loss, mixed compression vs random pruning and layer baselines) and Table 4 (size, memory, latency, quality).")
        { teacher, data, output, teacherSteps, steps, hidden, layers };
        cmd.SetAction(r =>
        {
            string dataPath = r.GetValue(data) ?? "/usr/share/common-licenses/GPL-3";
            ModelFiles t;
            int trainTeacher = r.GetValue(teacherSteps);
            if (r.GetValue(teacher) is { } dir) { t = ModelFiles.Load(dir); trainTeacher = 0; }
            else
            {
                int C = r.GetValue(hidden);
                var cfg = new JsonObject
                {
                    ["model_type"] = "chatglm", ["vocab_size"] = 256, ["hidden_size"] = C, ["num_hidden_layers"] = r.GetValue(layers),
                    ["num_attention_heads"] = C / 64, ["num_key_value_heads"] = Math.Max(1, C / 128), ["head_dim"] = 64, ["intermediate_size"] = C * 8 / 3 / 8 * 8,
                    ["partial_rotary_factor"] = 0.5, ["rope_interleaved"] = true, ["attention_bias"] = true, ["max_position_embeddings"] = 256,
                };
                var shape = new ModelShape(cfg);
                var model = GlmModel.Create(ModelBridge.Config(shape), seed: 1);
                t = ModelBridge.FromModel(model, shape);
            }
            var all = CalibrationData.Read(dataPath, t.Shape.V, 64, 4000);
            var valid = all.Where((_, i) => i % 10 == 0).ToList();
            var train = all.Where((_, i) => i % 10 != 0).ToList();
            Console.WriteLine($"data: {train.Count} train / {valid.Count} valid sequences from {dataPath}");
            var res = CompressionExperiment.Run(t, train, valid, new CompressionExperimentOptions { TeacherSteps = trainTeacher, DistillSteps = r.GetValue(steps) },
                r.GetValue(output)!, Console.WriteLine);
            Console.WriteLine($"{"method",-48} {"params",12} {"MB",8} {"tok/s",8} {"x",6} {"prefill ms",10} {"loss",7} {"acc",6} {"acc/T",6}");
            foreach (var row in res["table4"]!.AsArray())
                Console.WriteLine($"{row!["method"]!.GetValue<string>(),-48} {row["params"]!.GetValue<double>(),12:N0} {row["weight_bytes"]!.GetValue<double>() / 1e6,8:F2} {row["decode_tok_s"]!.GetValue<double>(),8:F1} {row["decode_speedup"]!.GetValue<double>(),6:F2} {row["prefill_ms"]!.GetValue<double>(),10:F1} {row["valid_loss"]!.GetValue<double>(),7:F3} {row["next_token_accuracy"]!.GetValue<double>(),6:F3} {row["accuracy_vs_teacher"]!.GetValue<double>(),6:F3}");
            Console.WriteLine($"wrote {System.IO.Path.Combine(r.GetValue(output)!, "compression.json")}, table4.csv, figure4.svg");
            return 0;
        });
        return cmd;
    }
}
