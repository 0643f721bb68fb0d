// The trainer objective of Algorithm 2: soft labels (+ hidden MSE, + cosine) on source rows, hard labels on target rows.
using System.Runtime.CompilerServices;
using LightGlm.Model;
using LightGlm.Training;

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
public sealed class DistillationObjective(DistillationWeights w, Projection? projection) : ITrainableObjective
{
    public DistillationWeights Weights { get; } = w;
    public Projection? Projection { get; } = projection;
    public ObjectiveTensor? Trainable => Projection?.State;
    /// <summary>Soft labels on target rows too (Eq. 13's teacher term); the hidden and cosine terms stay on source rows.</summary>
    public bool SoftOnTarget { get; set; }

    sealed record Labels(TeacherOutputs Teacher, bool[]? SourceRows);
    readonly ConditionalWeakTable<Batch, Labels> _labels = [];

    /// <summary>Sets what the teacher said about <paramref name="batch"/> before its forward, and per sequence whether it
    /// is from the source set (soft labels; true) or the target set (hard labels; false). Null = all source.</summary>
    public void Prepare(Batch batch, TeacherOutputs teacher, bool[]? sourceRows) => _labels.AddOrUpdate(batch, new Labels(teacher, sourceRows));

    public double Compute(ActivationCache cache, Batch batch)
    {
        if (!_labels.TryGetValue(batch, out var labels))
            throw new InvalidOperationException("distillation needs the teacher's outputs for this batch (DistillationObjective.Prepare; a pipeline's re-cut micro-batches have none)");
        var t = labels.Teacher;
        var sourceRows = labels.SourceRows;
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
            bool source = sourceRows?[n / cache.T] ?? true;
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

/// <summary>The learned projection P (Ct, Cs) of Eq. 10 when the student is narrower: the objective's own tensor, stepped
/// by the trainer's AdamW and checkpointed with the run (<see cref="ObjectiveTensor"/>).</summary>
public sealed class Projection
{
    public int Ct { get; }
    public int Cs { get; }
    public ObjectiveTensor State { get; }
    public float[] Weights => State.Weights;
    public float[] Grads => State.Grads;

    /// <summary>Initialised to the selection matrix of the kept hidden channels (P h_s puts each kept channel back in place), so
    /// a freshly pruned student starts with the masked-teacher residual.</summary>
    public Projection(int ct, int cs, int[]? keptChannels = null)
    {
        Ct = ct; Cs = cs;
        var w = new float[ct * cs];
        if (keptChannels is not null) for (int j = 0; j < cs; j++) w[keptChannels[j] * cs + j] = 1f;
        else for (int j = 0; j < Math.Min(ct, cs); j++) w[j * cs + j] = 1f;
        State = new ObjectiveTensor("distill.projection", [ct, cs], w);
    }
}
