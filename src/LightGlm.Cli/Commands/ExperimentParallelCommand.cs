// `lightglm experiment parallel`: the paper's Figure 3 on this machine — training time per epoch against
// batch (sample-block) size for single-process, data-parallel, model-parallel (stages, no micro-batching)
// and pipeline-parallel training, with measured pipeline utilisation beside the ideal M/(M+K−1).
using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using LightGlm.IO;
using LightGlm.Model;
using LightGlm.Pipeline;
using LightGlm.Pipeline.Planning;

namespace LightGlm.Cli.Commands;

public sealed class ExperimentParallelCommand : ICliCommand
{
    public string[] Path => ["experiment", "parallel"];

    public Command Build()
    {
        var model = new Option<string?>("--model") { Description = "config.json or model directory; default: a built-in 4-block GLM-style config (C=128, V=1024)" };
        var batches = new Option<string>("--batches") { Description = "Comma-separated batch sizes (sequences per step)", DefaultValueFactory = _ => "8,16,32" };
        var seq = new Option<int>("--seq") { Description = "Sequence length", DefaultValueFactory = _ => 32 };
        var epoch = new Option<int>("--epoch") { Description = "Sequences per epoch (random tokens)", DefaultValueFactory = _ => 128 };
        var stages = new Option<string>("--stages") { Description = "Pipeline depths K to run (model- and pipeline-parallel)", DefaultValueFactory = _ => "2,4" };
        var micro = new Option<int>("--micro-batches") { Description = "M for the pipeline-parallel runs", DefaultValueFactory = _ => 4 };
        var outDir = new Option<string>("--out") { Description = "Directory for parallel.json and parallel.csv", DefaultValueFactory = _ => "runs/experiment-parallel" };
        var cmd = new Command("parallel", "Figure 3: time per epoch vs batch size for data-, model- and pipeline-parallel training.")
        {
            model, batches, seq, epoch, stages, micro, outDir,
        };
        cmd.SetAction(r =>
        {
            var config = LoadConfig(r.GetValue(model));
            int T = r.GetValue(seq), N = r.GetValue(epoch), M = r.GetValue(micro);
            int[] bs, ks;
            try
            {
                bs = r.GetValue(batches)!.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
                ks = r.GetValue(stages)!.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            }
            catch (FormatException) { throw new CliException("--batches and --stages take comma-separated integers, e.g. 8,16,32"); }
            if (bs.Any(b => b < 1 || N % b != 0)) throw new CliException($"every batch size must divide --epoch {N}: got {string.Join(',', bs)}");
            if (ks.Any(k => k < 2 || k > config.L)) throw new CliException($"--stages must be between 2 and the model's {config.L} blocks");
            if (T > config.MaxPositionEmbeddings) throw new CliException($"--seq {T} exceeds max_position_embeddings {config.MaxPositionEmbeddings}");

            var rows = new List<Row>();
            foreach (int B in bs)
            {
                foreach (var (mode, cfg) in PlanMeasurement.Figure3Modes(B, ks, M))
                {
                    var row = RunEpoch(config, mode, cfg, B, T, N);
                    rows.Add(row);
                    Console.WriteLine($"  B={B,3} {mode,-18} K={cfg.Stages} M={cfg.MicroBatches} D={cfg.Replicas}  {row.EpochSeconds,8:F3} s/epoch  " +
                                      $"utilisation {row.Utilisation:F3} (ideal {row.IdealEfficiency:F3})");
                }
            }
            var single = rows.Where(x => x.Mode == "single").ToDictionary(x => x.Batch, x => x.EpochSeconds);
            foreach (var row in rows) row.SpeedUp = single[row.Batch] / row.EpochSeconds;
            Write(r.GetValue(outDir)!, config, T, N, rows);
            return 0;
        });
        return cmd;
    }

    internal sealed class Row
    {
        public string Mode = "";
        public int Batch, Stages, MicroBatches, Replicas, Steps;
        public double EpochSeconds, StepSeconds, Utilisation, IdealEfficiency, SpeedUp;
        public long PeakActivationBytes;
    }

    static ModelConfig LoadConfig(string? path)
    {
        if (path is null)
            return new ModelConfig
            {
                ModelType = "chatglm", VocabSize = 1024, HiddenSize = 128, NumHiddenLayers = 4, NumAttentionHeads = 4, NumKeyValueHeads = 2,
                IntermediateSize = 352, PartialRotaryFactor = 0.5, RopeInterleaved = true, AttentionBias = true, PrefixLm = true, MaxPositionEmbeddings = 256,
            };
        var file = Directory.Exists(path) ? System.IO.Path.Combine(path, "config.json") : path;
        if (!File.Exists(file)) throw new CliException($"--model: no config.json at '{file}'");
        return ModelConfig.Load(file);
    }

    /// <summary>One epoch of N random sequences in batches of B through the configuration (PlanMeasurement.Time: one
    /// untimed warm-up step, then N/B timed steps).</summary>
    static Row RunEpoch(ModelConfig config, string mode, PipelineConfig cfg, int B, int T, int N)
    {
        int steps = N / B;
        var t = PlanMeasurement.Time(config, cfg, StageSplit.Even(config.L, cfg.Stages), B, T, steps, new Training.RandomTokenSource(config.V));
        return new Row
        {
            Mode = mode, Batch = B, Stages = cfg.Stages, MicroBatches = cfg.MicroBatches, Replicas = cfg.Replicas, Steps = steps,
            EpochSeconds = t.TotalSeconds, StepSeconds = t.TotalSeconds / steps, Utilisation = t.Utilisation,
            IdealEfficiency = PipelineSchedule.IdealEfficiency(cfg.Stages, cfg.MicroBatches), PeakActivationBytes = t.PeakActivationBytes,
        };
    }

    static void Write(string dir, ModelConfig config, int T, int N, List<Row> rows)
    {
        Directory.CreateDirectory(dir);
        var csv = new StringBuilder("mode,batch,stages,micro_batches,data_parallel,steps,epoch_seconds,step_seconds,speed_up_vs_single,utilisation,ideal_efficiency,peak_activation_bytes\n");
        foreach (var r in rows)
            csv.AppendLine(string.Join(',', r.Mode, r.Batch, r.Stages, r.MicroBatches, r.Replicas, r.Steps,
                F(r.EpochSeconds), F(r.StepSeconds), F(r.SpeedUp), F(r.Utilisation), F(r.IdealEfficiency), r.PeakActivationBytes));
        AtomicFile.WriteAllText(System.IO.Path.Combine(dir, "parallel.csv"), csv.ToString());
        var json = JsonSerializer.Serialize(new
        {
            experiment = "figure3-parallel", machine = new { cores = Environment.ProcessorCount, note = "shared machine: timings are noisy" },
            model = new { config.L, config.C, config.V, config.H }, seq = T, epoch_sequences = N, data = "random tokens",
            rows = rows.Select(r => new
            {
                r.Mode, batch = r.Batch, stages = r.Stages, micro_batches = r.MicroBatches, data_parallel = r.Replicas, steps = r.Steps,
                epoch_seconds = r.EpochSeconds, step_seconds = r.StepSeconds, speed_up_vs_single = r.SpeedUp, utilisation = r.Utilisation,
                ideal_efficiency = r.IdealEfficiency, peak_activation_bytes = r.PeakActivationBytes,
            }),
        }, new JsonSerializerOptions { WriteIndented = true });
        AtomicFile.WriteAllText(System.IO.Path.Combine(dir, "parallel.json"), json);
        Console.WriteLine($"experiment parallel: wrote {System.IO.Path.Combine(dir, "parallel.json")} and parallel.csv");
    }

    static string F(double x) => x.ToString("G6", CultureInfo.InvariantCulture);
}
