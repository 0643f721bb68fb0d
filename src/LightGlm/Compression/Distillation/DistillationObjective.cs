// The trainer objective of Algorithm 2: soft labels (+ hidden MSE, + cosine) on source rows, hard labels on target rows.
using LightGlm.Model;

namespace LightGlm.Compression.Distillation;

/// <summary>Weights of the loss terms; zero turns a term off. Temperature 1 in the paper.</summary>
public sealed record DistillationWeights(float Soft = 1f, float Hard = 1f, float Hidden = 1f, float Cosine = 0f, float Temperature = 1f)
{
    /// <summary>
    /// Eq. 13, downstream distillation on the target data: L = λ·τ²KL(p_t‖p_s) + (1 − λ)·CE(y, p_s) per target token when
    /// λ weighs the teacher (the paper's formula, our default); <paramref name="lambdaWeighsStudent"/> swaps the two terms
    /// (the paper's text: "larger λ relies more on the student's own predictions"). No hidden-state term.
    /// </summary>
    public static DistillationWeights Downstream(double lambda, float temperature = 1f, bool lambdaWeighsStudent = false)
    {
        if (lambda is < 0 or > 1 || double.IsNaN(lambda)) throw new ArgumentOutOfRangeException(nameof(lambda), $"λ must be in [0, 1], got {lambda}");
        float teacher = (float)(lambdaWeighsStudent ? 1 - lambda : lambda);
        return new DistillationWeights(Soft: teacher, Hard: 1 - teacher, Hidden: 0f, Cosine: 0f, Temperature: temperature);
    }

    /// <summary>Parses "teacher" / "student" (which term λ weighs in Eq. 13).</summary>
    public static bool LambdaWeighsStudent(string which) => which switch
    {
        "teacher" => false,
        "student" => true,
        _ => throw new ArgumentException($"λ weighs 'teacher' (the paper's formula) or 'student' (the paper's text), not '{which}'"),
    };
}

/// <summary>What the teacher said about one micro-batch: logits (N, V) or top-k (N, k) with ids, and its last hidden state (N, Ct).</summary>
public sealed class TeacherOutputs(float[] logits, int[]? topIds, int k, float[] hidden, int ct)
{
    public float[] Logits { get; } = logits;
    public int[]? TopIds { get; } = topIds;
    public int K { get; } = k;
    public float[] Hidden { get; } = hidden;
    public int Ct { get; } = ct;

    /// <summary>The k largest logits of a row, largest first (ties: lower id first), and their ids.</summary>
    public static void TopK(ReadOnlySpan<float> row, int k, Span<float> values, Span<int> ids)
    {
        int n = 0;
        for (int v = 0; v < row.Length; v++)
        {
            float x = row[v];
            if (n == k && !(x > values[k - 1])) continue;
            int i = n < k ? n++ : k - 1;
            while (i > 0 && x > values[i - 1]) { values[i] = values[i - 1]; ids[i] = ids[i - 1]; i--; }
            values[i] = x; ids[i] = v;
        }
    }
}

/// <summary>
/// L = Σ_rows scale·[ soft·τ²KL + hard·CE + hidden·½‖h_t − P h_s‖² + cosine·(1 − cos) ], scale = batch.LossScale·weight.
/// Algorithm 2: a sequence marked source (<see cref="SourceRows"/>) gets the soft, hidden and cosine terms; a target sequence
/// gets the hard term; with <see cref="SoftOnTarget"/> it gets the soft term as well (downstream distillation, Eq. 13:
/// weights from <see cref="DistillationWeights.Downstream"/>). h = the last block's output (before
/// the final norm), so the hidden gradient goes straight into cache.GradHidden.
/// </summary>
public sealed class DistillationObjective(DistillationWeights w, Projection? projection) : ILossObjective
{
    public DistillationWeights Weights { get; } = w;
    public Projection? Projection { get; } = projection;
    /// <summary>Per sequence of the next batch: true = source set (soft labels), false = target set (hard labels).</summary>
    public bool[]? SourceRows { get; set; }
    /// <summary>Soft labels on target rows too (Eq. 13's teacher term); the hidden and cosine terms stay on source rows.</summary>
    public bool SoftOnTarget { get; set; }
    /// <summary>The teacher's outputs for the next batch (set before each forward).</summary>
    public TeacherOutputs? Teacher { get; set; }

    public double Compute(ActivationCache cache, Batch batch)
    {
        var t = Teacher ?? throw new InvalidOperationException("distillation needs the teacher's outputs for this batch");
        int N = cache.N, V = cache.Config.V, C = cache.Config.C;
        var logits = cache.Logits.Span;
        var hs = cache.Hidden(cache.Config.L).Span;
        var dh = cache.GradHidden.Span;
        var dz = new float[V];
        double total = 0;
        var rows = cache.ActiveRows;
        for (int m = 0; m < rows.Length; m++)
        {
            int n = rows[m];
            if (batch.Targets[n] < 0) { logits.Slice(m * V, V).Clear(); continue; }
            float scale = batch.LossScale * (batch.SampleWeights?[n / cache.T] ?? 1f);
            bool source = SourceRows?[n / cache.T] ?? true;
            var z = logits.Slice(m * V, V);
            Array.Clear(dz);
            if (source || SoftOnTarget)
            {
                if (Weights.Soft > 0)
                    total += scale * Weights.Soft * DistillationLoss.SoftKl(z, t.TopIds is null ? t.Logits.AsSpan(n * V, V) : t.Logits.AsSpan(n * t.K, t.K),
                        t.TopIds is null ? default : t.TopIds.AsSpan(n * t.K, t.K), Weights.Temperature, scale * Weights.Soft, dz);
            }
            if (!source && Weights.Hard > 0) total += scale * Weights.Hard * DistillationLoss.HardCe(z, batch.Targets[n], scale * Weights.Hard, dz);
            if (source && Weights.Hidden > 0)
                total += scale * Weights.Hidden * DistillationLoss.HiddenMse(hs.Slice(n * C, C), t.Hidden.AsSpan(n * t.Ct, t.Ct), Projection?.Weights,
                    scale * Weights.Hidden, dh.Slice(n * C, C), Projection is null ? default : Projection.Grads);
            if (source && Weights.Cosine > 0)
                total += scale * Weights.Cosine * DistillationLoss.Cosine(hs.Slice(n * C, C), t.Hidden.AsSpan(n * t.Ct, t.Ct), scale * Weights.Cosine, dh.Slice(n * C, C));
            dz.CopyTo(z);
        }
        return total;
    }
}

/// <summary>The learned projection P (Ct, Cs) of Eq. 10 when the student is narrower; its own weights, gradient and plain SGD/Adam step.</summary>
public sealed class Projection
{
    public int Ct { get; }
    public int Cs { get; }
    public float[] Weights { get; }
    public float[] Grads { get; }
    readonly float[] _m, _v;
    int _step;

    /// <summary>Initialised to the selection matrix of the kept hidden channels (P h_s puts each kept channel back in place), so
    /// a freshly pruned student starts with the masked-teacher residual.</summary>
    public Projection(int ct, int cs, int[]? keptChannels = null)
    {
        Ct = ct; Cs = cs;
        Weights = new float[ct * cs];
        Grads = new float[ct * cs];
        _m = new float[ct * cs];
        _v = new float[ct * cs];
        if (keptChannels is not null) for (int j = 0; j < cs; j++) Weights[keptChannels[j] * cs + j] = 1f;
        else for (int j = 0; j < Math.Min(ct, cs); j++) Weights[j * cs + j] = 1f;
    }

    /// <summary>One Adam step (β = 0.9, 0.999) on the accumulated gradient, then clears it.</summary>
    public void Step(float lr)
    {
        _step++;
        float b1 = 1 - MathF.Pow(0.9f, _step), b2 = 1 - MathF.Pow(0.999f, _step);
        for (int i = 0; i < Weights.Length; i++)
        {
            _m[i] = 0.9f * _m[i] + 0.1f * Grads[i];
            _v[i] = 0.999f * _v[i] + 0.001f * Grads[i] * Grads[i];
            Weights[i] -= lr * (_m[i] / b1) / (MathF.Sqrt(_v[i] / b2) + 1e-8f);
        }
        Array.Clear(Grads);
    }
}
