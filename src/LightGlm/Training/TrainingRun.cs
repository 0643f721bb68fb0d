// Runs a RunConfig end to end: tokenize, build or load the model, resume, train with checkpoints, evaluate, save.
using System.Diagnostics;
using LightGlm.Generation;
using LightGlm.Model;
using LightGlm.Model.Checkpoints;

namespace LightGlm.Training;

/// <summary>What a run reports while it goes (the CLI draws the progress bar from it).</summary>
public interface ITrainingProgress
{
    void Started(Trainer trainer, int tokensInData, bool resumed);
    void Stepped(Trainer trainer, StepResult step);
    void Message(string text);
}

public sealed record TrainingSummary(int Steps, double FirstLoss, double LastLoss, double ValidLoss, double Seconds, double TokensPerSecond, string? OutputDir);

public static class TrainingRun
{
    public static ITokenizer LoadTokenizer(string spec)
    {
        if (spec == "byte") return ByteTokenizer.Instance;
        throw new InvalidDataException($"data.tokenizer = '{spec}': only \"byte\" is supported by the trainer so far");
    }

    public static TrainingSummary Run(RunConfig rc, ITrainingProgress progress, CancellationToken cancel = default)
    {
        var tok = LoadTokenizer(rc.Data.Tokenizer);
        var files = rc.Data.Files().ToList();
        var stream = TokenStreamSource.Tokenize(files, tok);
        int validCount = (int)(stream.Length * rc.Data.ValidFraction);
        var train = stream[..(stream.Length - validCount)];
        var valid = stream[(stream.Length - validCount)..];
        if (train.Length < rc.SeqLen + 1)
            throw new InvalidDataException($"data.train ({files.Count} files) gives {train.Length} training tokens, fewer than seq_len + 1 = {rc.SeqLen + 1}");

        GlmModel model;
        if (rc.InitFrom is { } init) model = ModelDirectory.Load(init);
        else
        {
            var cfg = rc.Model!.Clone();
            if (cfg.VocabSize == 0) cfg.VocabSize = tok.VocabSize;
            cfg.EosTokenId ??= tok.EosId; cfg.BosTokenId ??= tok.BosId; cfg.PadTokenId ??= tok.PadId;
            if (cfg.VocabSize < tok.VocabSize) throw new InvalidDataException($"model.vocab_size = {cfg.VocabSize} is smaller than the tokenizer's {tok.VocabSize}");
            model = GlmModel.Create(cfg, rc.InitSeed);
        }
        var trainer = new Trainer(model, rc.ToTrainerOptions(), new TokenStreamSource(train, rc.Seed));
        bool resumed = false;
        if (rc.CheckpointDir is { } ck && rc.Resume && TrainingCheckpoint.Latest(ck) is { } last)
        {
            TrainingCheckpoint.Restore(trainer, last);
            resumed = true;
            progress.Message($"resumed from {last} at step {trainer.State.Step}");
        }
        progress.Started(trainer, stream.Length, resumed);

        var validSource = valid.Length > rc.SeqLen + 1 ? new TokenStreamSource(valid, rc.Seed + 1) : null;
        int evalBatches = validSource is null ? 0 : Math.Clamp(valid.Length / (rc.BatchSize * rc.SeqLen), 1, 8);
        var sw = Stopwatch.StartNew();
        double first = double.NaN, lastLoss = double.NaN;
        long tokens = 0;
        while (!trainer.Done && !cancel.IsCancellationRequested)
        {
            var r = trainer.Step();
            if (double.IsNaN(first)) first = r.Loss;
            lastLoss = r.Loss;
            tokens += r.Tokens;
            progress.Stepped(trainer, r);
            if (!double.IsFinite(r.Loss)) throw new InvalidOperationException($"loss became {r.Loss} at step {r.Step}: lower optimizer.lr or raise grad clipping");
            if (rc.CheckpointDir is { } dir && rc.CheckpointEvery > 0 && r.Step % rc.CheckpointEvery == 0 && !trainer.Done)
                progress.Message($"checkpoint {TrainingCheckpoint.Save(trainer, dir, rc.KeepCheckpoints)}");
            if (validSource is not null && rc.EvalEvery > 0 && r.Step % rc.EvalEvery == 0)
                progress.Message($"step {r.Step}: held-out loss {trainer.Evaluate(validSource, evalBatches):F4}");
            if (rc.MaxSeconds > 0 && sw.Elapsed.TotalSeconds > rc.MaxSeconds)
            {
                progress.Message($"time budget of {rc.MaxSeconds:F0} s reached at step {r.Step}");
                break;
            }
        }
        double seconds = sw.Elapsed.TotalSeconds;
        double validLoss = validSource is null ? double.NaN : trainer.Evaluate(validSource, evalBatches);
        if (rc.CheckpointDir is { } finalDir) TrainingCheckpoint.Save(trainer, finalDir, rc.KeepCheckpoints);
        if (rc.OutputDir is { } outDir)
        {
            ModelDirectory.Save(model, outDir, rc.Data.Tokenizer == "byte" ? null : rc.Data.Tokenizer);
            progress.Message($"saved model to {outDir}");
        }
        return new TrainingSummary(trainer.State.Step, first, lastLoss, validLoss, seconds, tokens / Math.Max(seconds, 1e-9), rc.OutputDir);
    }
}
