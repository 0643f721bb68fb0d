// Training checkpoints: model dir + optimizer.safetensors + trainer_state.json, written to a temp dir then renamed.
using System.Text.Json;
using LightGlm.Model;
using LightGlm.Model.Checkpoints;

namespace LightGlm.Training;

/// <summary>
/// Layout under a run's checkpoint directory: step-000123/ {config.json, model.safetensors, optimizer.safetensors
/// (exp_avg.NAME, exp_avg_sq.NAME), trainer_state.json, tokenizer.json?} and a file "latest" naming the newest.
/// A checkpoint is complete or absent: it is built in .step-000123.tmp/ (every file fsynced), then renamed, and only
/// then does "latest" (also written atomically) point to it. Older checkpoints beyond Keep are deleted.
/// </summary>
public static class TrainingCheckpoint
{
    public const string OptimizerFile = "optimizer.safetensors";
    public const string StateFile = "trainer_state.json";
    public const string LatestFile = "latest";

    static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static string Save(Trainer trainer, string checkpointDir, int keep = 2, string? tokenizerJson = null)
    {
        Directory.CreateDirectory(checkpointDir);
        string name = $"step-{trainer.State.Step:D6}";
        string final = Path.Combine(checkpointDir, name);
        string tmp = Path.Combine(checkpointDir, $".{name}.tmp");
        if (Directory.Exists(tmp)) Directory.Delete(tmp, true);
        ModelDirectory.Save(trainer.Model, tmp, tokenizerJson);
        var layout = trainer.Model.Layout;
        var tensors = SafeTensorsWriter.FromArena(layout, trainer.Optimizer.M, "exp_avg.");
        tensors.AddRange(SafeTensorsWriter.FromArena(layout, trainer.Optimizer.V, "exp_avg_sq."));
        SafeTensorsWriter.Write(Path.Combine(tmp, OptimizerFile), tensors);
        trainer.State.AdamStep = trainer.Optimizer.StepCount;
        AtomicFile.WriteAllText(Path.Combine(tmp, StateFile), JsonSerializer.Serialize(trainer.State, Json));
        if (Directory.Exists(final)) Directory.Delete(final, true);
        Directory.Move(tmp, final);
        AtomicFile.WriteAllText(Path.Combine(checkpointDir, LatestFile), name + "\n");
        foreach (var old in Directory.GetDirectories(checkpointDir, "step-*").Order(StringComparer.Ordinal).SkipLast(Math.Max(1, keep)))
            Directory.Delete(old, true);
        return final;
    }

    /// <summary>The newest complete checkpoint under <paramref name="checkpointDir"/>, or null.</summary>
    public static string? Latest(string checkpointDir)
    {
        var latest = Path.Combine(checkpointDir, LatestFile);
        if (!File.Exists(latest)) return null;
        var dir = Path.Combine(checkpointDir, File.ReadAllText(latest).Trim());
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"{latest} names {dir}, which does not exist: the checkpoint directory was changed by hand");
        return dir;
    }

    /// <summary>Restores weights, optimizer moments and trainer state from checkpoint <paramref name="dir"/> into a trainer built for the same model config.</summary>
    public static void Restore(Trainer trainer, string dir)
    {
        var loaded = ModelDirectory.Load(dir);
        var cfg = trainer.Model.Config;
        if (loaded.Layout.TotalLength != trainer.Model.Layout.TotalLength || loaded.Config.ToJson() != cfg.ToJson())
            throw new InvalidDataException($"{dir}: the checkpoint's config.json differs from this run's model config; resume with the same model or start a new checkpoint dir");
        loaded.Weights.CopyTo(trainer.Model.Weights, 0);
        var opt = Path.Combine(dir, OptimizerFile);
        if (!File.Exists(opt)) throw new FileNotFoundException($"{opt}: optimizer state missing from the checkpoint", opt);
        ModelDirectory.ReadArena(opt, trainer.Model.Layout, trainer.Optimizer.M, "exp_avg.");
        ModelDirectory.ReadArena(opt, trainer.Model.Layout, trainer.Optimizer.V, "exp_avg_sq.");
        var statePath = Path.Combine(dir, StateFile);
        if (!File.Exists(statePath)) throw new FileNotFoundException($"{statePath}: trainer state missing from the checkpoint", statePath);
        TrainerState? s;
        try { s = JsonSerializer.Deserialize<TrainerState>(File.ReadAllText(statePath), Json); }
        catch (JsonException e) { throw new InvalidDataException($"{statePath}: not a valid trainer state: {e.Message}", e); }
        if (s is null || s.Rng is not { Length: 4 }) throw new InvalidDataException($"{statePath}: trainer state lacks step/rng fields");
        var st = trainer.State;
        st.Step = s.Step; st.MicroBatches = s.MicroBatches; st.TokensSeen = s.TokensSeen; st.LastLoss = s.LastLoss; st.Rng = s.Rng;
        st.AdamStep = s.AdamStep;
        trainer.Optimizer.StepCount = s.AdamStep;
    }
}
