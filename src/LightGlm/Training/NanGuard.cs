// The NaN/Inf guard: a step whose loss or gradient norm is not finite is not applied; the run rolls back to its last
// good checkpoint with a lower learning rate, and gives up with a clear error after too many rollbacks.
namespace LightGlm.Training;

/// <summary>run config "nan_guard": {"max_rollbacks": 3, "lr_factor": 0.5, "inject_at_steps": []}.</summary>
public sealed record NanGuardOptions
{
    /// <summary>Rollbacks allowed over the whole run; the next non-finite step ends the run with an error. 0 = fail at once.</summary>
    public int MaxRollbacks { get; init; } = 3;
    /// <summary>Each rollback multiplies the learning rate by this (0 &lt; f ≤ 1).</summary>
    public double LrFactor { get; init; } = 0.5;
    /// <summary>Fault injection (tests, drills): poison one gradient with NaN at these steps, once each.</summary>
    public List<int> InjectAtSteps { get; init; } = [];

    public List<string> Problems()
    {
        var p = new List<string>();
        if (MaxRollbacks < 0) p.Add($"nan_guard.max_rollbacks = {MaxRollbacks} must be >= 0");
        if (!(LrFactor is > 0 and <= 1)) p.Add($"nan_guard.lr_factor = {LrFactor} must be in (0, 1]");
        if (InjectAtSteps.Any(s => s < 1)) p.Add("nan_guard.inject_at_steps: steps count from 1");
        return p;
    }
}

/// <summary>Thrown when the run still produces NaN/Inf after max_rollbacks rollbacks.</summary>
public sealed class NonFiniteTrainingException(string message) : Exception(message);

/// <summary>
/// Keeps the rollback point and handles non-finite steps. The rollback point is the newest checkpoint on disk, or an
/// in-memory snapshot (<see cref="Remember"/>) while there is none yet or the run has no checkpoint dir.
/// </summary>
public sealed class NanGuard
{
    readonly NanGuardOptions _o;
    readonly string? _checkpointDir;
    readonly Action<string> _log;
    readonly HashSet<int> _pendingInjections;
    TrainingCheckpoint.Snapshot? _snapshot;

    public NanGuard(NanGuardOptions options, string? checkpointDir, Action<string> log)
    {
        _o = options; _checkpointDir = checkpointDir; _log = log;
        _pendingInjections = [.. options.InjectAtSteps];
    }

    /// <summary>Installs the fault injection (if any) on <paramref name="trainer"/>.</summary>
    public void Attach(Trainer trainer)
    {
        if (_pendingInjections.Count == 0) return;
        trainer.AfterBackward = t =>
        {
            int step = t.State.Step + 1;
            if (!_pendingInjections.Remove(step)) return;
            var (from, _) = t.Engine?.Owned ?? (0, 0);
            t.TrainedGrads[from] = float.NaN;
            _log($"nan_guard: injected NaN into gradient {from} at step {step} (nan_guard.inject_at_steps)");
        };
    }

    /// <summary>Marks the trainer's current state as the rollback point: <paramref name="onDisk"/> = it was just saved
    /// to (or restored from) the checkpoint dir; otherwise an in-memory snapshot is taken (start of a fresh run, or a
    /// run without checkpoint_dir).</summary>
    public void Remember(Trainer trainer, bool onDisk)
    {
        _snapshot = onDisk && _checkpointDir is not null ? null : new TrainingCheckpoint.Snapshot(trainer);
    }

    /// <summary>Handles a step that returned NonFinite: rolls back and lowers the learning rate, or throws after too many.
    /// Returns the step the run continues from.</summary>
    public int Recover(Trainer trainer, StepResult r)
    {
        string what = double.IsFinite(r.Loss) ? $"gradient norm {r.GradNorm}" : $"loss {r.Loss}";
        int rollbacks = trainer.State.Rollbacks + 1;
        if (rollbacks > _o.MaxRollbacks)
            throw new NonFiniteTrainingException(
                $"non-finite {what} at step {r.Step} (learning rate {r.Lr:g3}) after {trainer.State.Rollbacks} rollback(s) (nan_guard.max_rollbacks = {_o.MaxRollbacks}): " +
                "giving up; the weights were not updated by the bad step and the last checkpoint is intact. Lower optimizer.lr, raise " +
                "optimizer.grad_clip strictness or warm-up, check the data, then resume.");
        double scale = trainer.State.LrScale * _o.LrFactor;
        string from;
        if (_snapshot is not null)
        {
            _snapshot.Restore(trainer);
            from = $"the in-memory snapshot of step {_snapshot.Step}";
        }
        else if (_checkpointDir is not null && TrainingCheckpoint.LatestValid(_checkpointDir, _log) is { } dir)
        {
            TrainingCheckpoint.Restore(trainer, dir);
            from = dir;
        }
        else throw new InvalidOperationException("nan_guard: no rollback point (call Remember before training)");
        trainer.State.LrScale = scale;
        trainer.State.Rollbacks = rollbacks;
        _log($"nan_guard: non-finite {what} at step {r.Step}; update skipped, rolled back to step {trainer.State.Step} ({from}), " +
             $"learning rate x{scale:g3} (rollback {rollbacks} of at most {_o.MaxRollbacks})");
        return trainer.State.Step;
    }
}
