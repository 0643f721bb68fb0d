// Training checkpoints: model dir + optimizer.safetensors + trainer_state.json + checksums, written to a temp dir then renamed.
using System.Security.Cryptography;
using System.Text.Json;
using LightGlm.IO;
using LightGlm.Model;
using LightGlm.Model.Checkpoints;
using LightGlm.Model.Lora;

namespace LightGlm.Training;

/// <summary>
/// Layout under a run's checkpoint directory: step-000123/ {config.json, model.safetensors, optimizer.safetensors
/// (exp_avg.NAME, exp_avg_sq.NAME), trainer_state.json, tokenizer.json?, checksums.sha256} and a file "latest" naming
/// the newest. A checkpoint is complete or absent: it is built in .step-000123.tmp/ (every file fsynced), then renamed,
/// and only then does "latest" (also written atomically) point to it. Older checkpoints beyond Keep are deleted.
/// checksums.sha256 (sha256sum format) is checked on every restore, so a corrupted file is named, never loaded.
/// A LoRA run (<see cref="Trainer.Lora"/>) keeps the frozen base as model.safetensors (the checkpoint stays a loadable
/// model: the base), the adapters in lora.safetensors, and the optimizer moments of the adapters only.
/// </summary>
public static class TrainingCheckpoint
{
    public const string OptimizerFile = "optimizer.safetensors";
    /// <summary>An objective's own tensor (<see cref="ITrainableObjective"/>): NAME, exp_avg.NAME, exp_avg_sq.NAME.</summary>
    public const string ObjectiveFile = "objective.safetensors";
    public const string StateFile = "trainer_state.json";
    public const string LatestFile = "latest";
    public const string ChecksumFile = "checksums.sha256";

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
        // Leftovers of a writer killed mid-save (one writer per checkpoint dir): half-built checkpoints and temp files.
        foreach (var d in Directory.GetDirectories(checkpointDir, ".step-*.tmp")) Directory.Delete(d, true);
        foreach (var f in Directory.GetFiles(checkpointDir, $".{LatestFile}.tmp-*")) File.Delete(f);
        ModelDirectory.WriteFiles(trainer.Model, tmp, tokenizerJson); // (tmp is published whole below)
        var trained = trainer.TrainedTensors;
        var tensors = SafeTensorsWriter.FromArena(trained, trainer.Optimizer.M, "exp_avg.");
        tensors.AddRange(SafeTensorsWriter.FromArena(trained, trainer.Optimizer.V, "exp_avg_sq."));
        SafeTensorsWriter.Write(Path.Combine(tmp, OptimizerFile), tensors);
        if (trainer.Lora is { } lora) SafeTensorsWriter.Write(Path.Combine(tmp, LoraAdapters.CheckpointFile), lora.ToWrite(), lora.Metadata());
        if (Own(trainer) is { } own)
        {
            long[] shape = [.. own.Tensor.Shape.Select(d => (long)d)];
            string n = own.Tensor.Name;
            SafeTensorsWriter.Write(Path.Combine(tmp, ObjectiveFile), [TensorToWrite.Of(n, shape, own.Weights),
                TensorToWrite.Of("exp_avg." + n, shape, own.Optimizer.M), TensorToWrite.Of("exp_avg_sq." + n, shape, own.Optimizer.V)]);
        }
        trainer.State.AdamStep = trainer.Optimizer.StepCount;
        AtomicFile.WriteAllText(Path.Combine(tmp, StateFile), JsonSerializer.Serialize(trainer.State, Json));
        AtomicFile.WriteAllText(Path.Combine(tmp, ChecksumFile), string.Concat(
            Directory.GetFiles(tmp).Select(Path.GetFileName).Where(f => f != ChecksumFile && !f!.StartsWith('.')).Order(StringComparer.Ordinal)
                .Select(f => $"{Sha256(Path.Combine(tmp, f!))}  {f}\n")));
        AtomicFile.FsyncDirectory(tmp);
        if (Directory.Exists(final)) Directory.Delete(final, true);
        Directory.Move(tmp, final);
        AtomicFile.FsyncDirectory(checkpointDir);
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

    static string Sha256(string path)
    {
        using var f = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(f));
    }


    /// <summary>Checks every file against checksums.sha256; throws naming the damaged or missing file. A checkpoint
    /// written before checksums existed (no such file) is accepted as is.</summary>
    public static void Verify(string dir)
    {
        var sums = Path.Combine(dir, ChecksumFile);
        if (!File.Exists(sums)) return;
        foreach (var line in File.ReadAllLines(sums))
        {
            if (line.Length == 0) continue;
            var parts = line.Split("  ", 2);
            if (parts.Length != 2 || parts[0].Length != 64)
                throw new InvalidDataException($"{sums}: malformed line '{line}' (expected '<sha256>  <file>'): the checkpoint is damaged; resume from an earlier one");
            var file = Path.Combine(dir, parts[1]);
            if (parts[1].Contains('/') || parts[1].Contains('\\') || !File.Exists(file))
                throw new InvalidDataException($"{dir}: checkpoint file '{parts[1]}' listed in {ChecksumFile} is missing: the checkpoint is damaged; resume from an earlier one");
            if (Sha256(file) != parts[0])
                throw new InvalidDataException($"{file}: checksum mismatch (sha256 differs from {ChecksumFile}): the file is corrupted; resume from an earlier checkpoint or delete this one");
        }
    }

    /// <summary>The newest checkpoint that passes <see cref="Verify"/>: "latest" first, then older step-* directories
    /// newest first; each damaged one is reported through <paramref name="log"/>. Null when none is usable.</summary>
    public static string? LatestValid(string checkpointDir, Action<string>? log = null)
    {
        if (!Directory.Exists(checkpointDir)) return null;
        var candidates = new List<string>();
        try { if (Latest(checkpointDir) is { } l) candidates.Add(l); }
        catch (DirectoryNotFoundException e) { log?.Invoke(e.Message); }
        candidates.AddRange(Directory.GetDirectories(checkpointDir, "step-*").OrderDescending(StringComparer.Ordinal));
        foreach (var dir in candidates.Distinct())
        {
            try { Verify(dir); return dir; }
            catch (InvalidDataException e) { log?.Invoke($"skipping damaged checkpoint: {e.Message}"); }
        }
        return null;
    }

    /// <summary>Restores weights, optimizer moments and trainer state from checkpoint <paramref name="dir"/> into a trainer built for the same model config.</summary>
    public static void Restore(Trainer trainer, string dir)
    {
        Verify(dir);
        var loaded = ModelDirectory.Load(dir);
        var cfg = trainer.Model.Config;
        if (loaded.Layout.TotalLength != trainer.Model.Layout.TotalLength || loaded.Config.ModelJson() != cfg.ModelJson())
            throw new InvalidDataException($"{dir}: the checkpoint's config.json differs from this run's model config; resume with the same model or start a new checkpoint dir");
        loaded.Weights.CopyTo(trainer.Model.Weights, 0);
        var opt = Path.Combine(dir, OptimizerFile);
        if (!File.Exists(opt)) throw new FileNotFoundException($"{opt}: optimizer state missing from the checkpoint", opt);
        var loraPath = Path.Combine(dir, LoraAdapters.CheckpointFile);
        if (trainer.Lora is { } lora)
        {
            if (!File.Exists(loraPath))
                throw new FileNotFoundException($"{loraPath}: this run trains LoRA adapters but the checkpoint has none (a full fine-tune's?); resume without LoRA or start a new checkpoint dir", loraPath);
            using (var f = new SafeTensorsFile(loraPath)) lora.Read(f, lora.Weights, checkSettings: true);
            using (var f = new SafeTensorsFile(opt)) { lora.Read(f, trainer.Optimizer.M, "exp_avg."); lora.Read(f, trainer.Optimizer.V, "exp_avg_sq."); }
        }
        else
        {
            if (File.Exists(loraPath))
                throw new InvalidDataException($"{dir}: the checkpoint holds LoRA adapters ({LoraAdapters.CheckpointFile}) but this run trains the whole model; resume with the same LoRA options or start a new checkpoint dir");
            ModelDirectory.ReadArena(opt, trainer.Model.Layout, trainer.Optimizer.M, "exp_avg.");
            ModelDirectory.ReadArena(opt, trainer.Model.Layout, trainer.Optimizer.V, "exp_avg_sq.");
        }
        if (Own(trainer) is { } own)
        {
            var path = Path.Combine(dir, ObjectiveFile);
            if (!File.Exists(path)) throw new FileNotFoundException($"{path}: the objective's {own.Tensor.Name} is missing from the checkpoint (written by another kind of run?)", path);
            using var f = new SafeTensorsFile(path);
            string n = own.Tensor.Name;
            foreach (var (name, arena) in new[] { (n, own.Weights), ("exp_avg." + n, own.Optimizer.M), ("exp_avg_sq." + n, own.Optimizer.V) })
            {
                if (!f.Tensors.TryGetValue(name, out var e) || e.Elements != arena.Length)
                    throw new InvalidDataException($"{path}: tensor '{name}' {own.Tensor.ShapeText} is missing or has another shape");
                f.ReadFloat32(name, arena, 0);
            }
        }
        var statePath = Path.Combine(dir, StateFile);
        if (!File.Exists(statePath)) throw new FileNotFoundException($"{statePath}: trainer state missing from the checkpoint", statePath);
        TrainerState? s;
        try { s = JsonSerializer.Deserialize<TrainerState>(File.ReadAllText(statePath), Json); }
        catch (JsonException e) { throw new InvalidDataException($"{statePath}: not a valid trainer state: {e.Message}", e); }
        if (s is null || s.Rng is not { Length: 4 }) throw new InvalidDataException($"{statePath}: trainer state lacks step/rng fields");
        Apply(trainer, s);
    }

    static void Apply(Trainer t, TrainerState s)
    {
        var st = t.State;
        st.Step = s.Step; st.MicroBatches = s.MicroBatches; st.TokensSeen = s.TokensSeen; st.LastLoss = s.LastLoss; st.Rng = s.Rng;
        st.AdamStep = s.AdamStep; st.LrScale = s.LrScale; st.Rollbacks = s.Rollbacks;
        t.Optimizer.StepCount = s.AdamStep;
        if (Own(t) is { } own) own.Optimizer.StepCount = s.AdamStep;
        t.Engine?.WeightsChanged(); // data-parallel replicas in this process take the restored weights
    }

    static ObjectiveTensor? Own(Trainer t) => (t.Objective as ITrainableObjective)?.Trainable;

    /// <summary>An in-memory copy of everything a checkpoint holds (the NaN guard's rollback point when a run has no checkpoint_dir);
    /// under LoRA the trained weights are the adapters (the frozen base is not copied).</summary>
    public sealed class Snapshot
    {
        readonly float[] _w, _m, _v;
        readonly float[][]? _own;
        readonly string _state;

        public Snapshot(Trainer t)
        {
            _w = (float[])t.TrainedWeights.Clone(); _m = (float[])t.Optimizer.M.Clone(); _v = (float[])t.Optimizer.V.Clone();
            _own = Own(t) is { } o ? [(float[])o.Weights.Clone(), (float[])o.Optimizer.M.Clone(), (float[])o.Optimizer.V.Clone()] : null;
            t.State.AdamStep = t.Optimizer.StepCount;
            _state = JsonSerializer.Serialize(t.State, Json);
            Step = t.State.Step;
        }

        public int Step { get; }

        public void Restore(Trainer t)
        {
            _w.CopyTo(t.TrainedWeights, 0); _m.CopyTo(t.Optimizer.M, 0); _v.CopyTo(t.Optimizer.V, 0);
            if (_own is not null && Own(t) is { } o) { _own[0].CopyTo(o.Weights, 0); _own[1].CopyTo(o.Optimizer.M, 0); _own[2].CopyTo(o.Optimizer.V, 0); }
            Apply(t, JsonSerializer.Deserialize<TrainerState>(_state, Json)!);
        }
    }
}
