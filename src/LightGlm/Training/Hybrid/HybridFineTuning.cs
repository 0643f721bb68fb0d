// The fine-tuning loop shared by `lightglm finetune` and `lightglm experiment hybrid`: trainer steps with a validation
// loss at step 0, every N steps and at the end, so that every variant's curve has the same x positions.
namespace LightGlm.Training.Hybrid;

public static class HybridFineTuning
{
    /// <summary>Runs <paramref name="trainer"/> to its step count; returns the validation curve [(step, loss)].</summary>
    /// <param name="validate">Validation loss (e.g. the target direction's dev loss); null = none.</param>
    /// <param name="onStep">Called after every step with the validation loss when one was taken.</param>
    public static List<(int Step, double Loss)> Run(Trainer trainer, Func<double>? validate, int validEvery,
        Action<StepResult, double?>? onStep = null, CancellationToken cancel = default)
    {
        var curve = new List<(int, double)>();
        if (validate is not null) curve.Add((trainer.State.Step, validate()));
        while (!trainer.Done)
        {
            cancel.ThrowIfCancellationRequested();
            var r = trainer.Step();
            if (!double.IsFinite(r.Loss))
                throw new InvalidOperationException($"fine-tuning diverged: loss {r.Loss} at step {r.Step} (learning rate {r.Lr:g3}); lower the learning rate");
            double? v = null;
            if (validate is not null && (trainer.Done || (validEvery > 0 && r.Step % validEvery == 0)))
            {
                v = validate();
                curve.Add((r.Step, v.Value));
            }
            onStep?.Invoke(r, v);
        }
        return curve;
    }
}
