// Checkpoint averaging (as fairseq's average_checkpoints.py): the element-wise mean of the weights of several
// checkpoints of one training run, a cheap ensemble that often scores above the last checkpoint alone.
namespace LightGlm.Model.Checkpoints;

public static class CheckpointAverage
{
    /// <summary>
    /// The mean of the models in <paramref name="dirs"/> (each a model directory: config.json + weights). Every model
    /// must have the same config (same architecture and sizes); the sum is kept in double so the order does not matter.
    /// </summary>
    public static GlmModel Average(IReadOnlyList<string> dirs)
    {
        if (dirs.Count == 0) throw new ArgumentException("no checkpoints to average");
        var first = ModelDirectory.Load(dirs[0]);
        string config = first.Config.ModelJson();
        var sum = new double[first.Weights.Length];
        Accumulate(sum, first.Weights);
        foreach (var dir in dirs.Skip(1))
        {
            var next = ModelConfig.Load(Path.Combine(dir, ModelDirectory.ConfigFile));
            if (next.ModelJson() != config)
                throw new InvalidDataException($"{dir}: its config.json differs from {dirs[0]}'s; only checkpoints of one model (same architecture and sizes) can be averaged");
            Accumulate(sum, ModelDirectory.Load(dir).Weights);
        }
        var w = first.Weights;
        for (long i = 0; i < w.LongLength; i++) w[i] = (float)(sum[i] / dirs.Count);
        return first;
    }

    static void Accumulate(double[] sum, float[] w)
    {
        for (long i = 0; i < w.LongLength; i++) sum[i] += w[i];
    }

    /// <summary>
    /// The last <paramref name="n"/> checkpoints (step-NNNNNN folders, by step) of a training run's checkpoint folder,
    /// oldest first.
    /// </summary>
    public static List<string> Last(string checkpointDir, int n)
    {
        if (!Directory.Exists(checkpointDir)) throw new DirectoryNotFoundException($"{checkpointDir}: checkpoint folder not found");
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, "the number of checkpoints to average must be at least 1");
        var steps = Directory.GetDirectories(checkpointDir, "step-*")
            .Select(d => (Dir: d, Step: long.TryParse(Path.GetFileName(d)["step-".Length..], out long s) ? s : -1))
            .Where(x => x.Step >= 0 && File.Exists(Path.Combine(x.Dir, ModelDirectory.ConfigFile)))
            .OrderBy(x => x.Step).Select(x => x.Dir).ToList();
        if (steps.Count < n)
            throw new InvalidDataException($"{checkpointDir}: {steps.Count} checkpoint{(steps.Count == 1 ? "" : "s")} (step-*), {n} asked for; " +
                                           "training keeps its last 2 (average fewer, or pass the checkpoint folders themselves)");
        return steps.GetRange(steps.Count - n, n);
    }
}
