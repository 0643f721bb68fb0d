// Optimizer, schedule and loop settings of a training run (JSON snake_case, validated with all errors together).
namespace LightGlm.Training;

public sealed record OptimizerOptions
{
    public double Lr { get; init; } = 3e-4;
    public double WeightDecay { get; init; } = 0.1;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.95;
    public double Eps { get; init; } = 1e-8;
    /// <summary>Global-norm clipping threshold; 0 = off.</summary>
    public double GradClip { get; init; } = 1.0;
}

/// <summary>After warm-up: cosine or linear to Lr·MinLrRatio at the last step, constant, or inverse square root
/// (Vaswani et al. 2017, fairseq's inverse_sqrt: Lr·√(warmup / step), never below Lr·MinLrRatio).</summary>
public enum DecayKind { Cosine, Linear, Constant, InverseSqrt }

public sealed record ScheduleOptions
{
    public int WarmupSteps { get; init; } = 100;
    public DecayKind Decay { get; init; } = DecayKind.Cosine;
    /// <summary>The learning rate decays to Lr·MinLrRatio at the last step.</summary>
    public double MinLrRatio { get; init; } = 0.1;
}

public sealed record TrainerOptions
{
    public OptimizerOptions Optimizer { get; init; } = new();
    public ScheduleOptions Schedule { get; init; } = new();
    public int Steps { get; init; } = 1000;
    /// <summary>Sequences per micro-batch.</summary>
    public int BatchSize { get; init; } = 8;
    public int SeqLen { get; init; } = 128;
    /// <summary>Micro-batches per optimizer step (gradient accumulation).</summary>
    public int GradAccum { get; init; } = 1;
    public ulong Seed { get; init; } = 1234;
    /// <summary>Train with the model's hidden dropout (config hidden_dropout); false = never (distillation's student).</summary>
    public bool Dropout { get; init; } = true;

    public List<string> Problems()
    {
        var p = new List<string>();
        if (Steps < 1) p.Add($"steps = {Steps} must be >= 1");
        if (BatchSize < 1) p.Add($"batch_size = {BatchSize} must be >= 1");
        if (SeqLen < 1) p.Add($"seq_len = {SeqLen} must be >= 1");
        if (GradAccum < 1) p.Add($"grad_accum = {GradAccum} must be >= 1");
        var o = Optimizer;
        if (!(o.Lr > 0)) p.Add($"optimizer.lr = {o.Lr} must be > 0");
        if (!(o.WeightDecay >= 0)) p.Add($"optimizer.weight_decay = {o.WeightDecay} must be >= 0");
        if (!(o.Beta1 is >= 0 and < 1)) p.Add($"optimizer.beta1 = {o.Beta1} must be in [0, 1)");
        if (!(o.Beta2 is >= 0 and < 1)) p.Add($"optimizer.beta2 = {o.Beta2} must be in [0, 1)");
        if (!(o.Eps > 0)) p.Add($"optimizer.eps = {o.Eps} must be > 0");
        if (!(o.GradClip >= 0)) p.Add($"optimizer.grad_clip = {o.GradClip} must be >= 0");
        if (Schedule.WarmupSteps < 0) p.Add($"schedule.warmup_steps = {Schedule.WarmupSteps} must be >= 0");
        if (!(Schedule.MinLrRatio is >= 0 and <= 1)) p.Add($"schedule.min_lr_ratio = {Schedule.MinLrRatio} must be in [0, 1]");
        return p;
    }
}

/// <summary>Learning rate at a step: linear warm-up from Lr/warmup to Lr, then cosine or linear decay to Lr·MinLrRatio.</summary>
public static class LrSchedule
{
    public static double At(int step, int totalSteps, OptimizerOptions o, ScheduleOptions s)
    {
        if (step < s.WarmupSteps) return o.Lr * (step + 1) / s.WarmupSteps;
        double min = o.Lr * s.MinLrRatio;
        int decaySteps = Math.Max(1, totalSteps - s.WarmupSteps - 1);
        double progress = Math.Clamp((double)(step - s.WarmupSteps) / decaySteps, 0, 1);
        return s.Decay switch
        {
            DecayKind.Cosine => min + (o.Lr - min) * 0.5 * (1 + Math.Cos(Math.PI * progress)),
            DecayKind.Linear => o.Lr + (min - o.Lr) * progress,
            DecayKind.InverseSqrt => Math.Max(min, o.Lr * Math.Sqrt(Math.Max(1, s.WarmupSteps) / (double)(step + 1))),
            _ => o.Lr,
        };
    }
}
