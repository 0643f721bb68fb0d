// How to pick tokens: greedy, temperature/top-k/top-p sampling, or beam search; when to stop.
namespace LightGlm.Generation;

public sealed record GenerationOptions
{
    public int MaxNewTokens { get; init; } = 64;
    /// <summary>Argmax at every step (ignores temperature/top-k/top-p).</summary>
    public bool Greedy { get; init; } = true;
    public float Temperature { get; init; } = 1f;
    /// <summary>Keep only the k most likely tokens (0 = all).</summary>
    public int TopK { get; init; }
    /// <summary>Keep the smallest set of tokens whose probability reaches p (1 = all).</summary>
    public float TopP { get; init; } = 1f;
    /// <summary>Seed of each sequence's sampling RNG (every prompt starts from the same seed, so batching does not change samples).</summary>
    public ulong Seed { get; init; } = 42;
    /// <summary>Generation of a sequence ends when one of these is produced (it is not returned).</summary>
    public int[] StopTokens { get; init; } = [];

    /// <summary>Every end-of-sequence id of <paramref name="config"/> (LLaMA-3, Qwen2 and GLM-4 list several): the stop tokens of a model.</summary>
    public static int[] EosOf(LightGlm.Model.ModelConfig config) => [.. config.EosTokenIds?.Ids ?? []];
    /// <summary>Beam width; 1 = no beam search.</summary>
    public int BeamWidth { get; init; } = 1;
    /// <summary>Beam score = Σ log p / (generated length)^LengthPenalty (as Hugging Face).</summary>
    public float LengthPenalty { get; init; } = 1f;
    /// <summary>GLM prefix LM: the prompt attends bidirectionally (only for models trained that way).</summary>
    public bool BidirectionalPrompt { get; init; }
    /// <summary>
    /// Only ids below this are generated (0 = every id of the model): a tokenizer smaller than the model's padded
    /// embedding (ChatGLM pads 64,794 pieces to 65,024 rows) cannot decode the rest.
    /// </summary>
    public int Vocabulary { get; init; }

    /// <summary>Sets the logits of ids ≥ <see cref="Vocabulary"/> to −∞ in each of the rows of width V.</summary>
    internal void MaskUnknownIds(Span<float> logits, int V)
    {
        if (Vocabulary <= 0 || Vocabulary >= V) return;
        for (int row = 0; row + V <= logits.Length; row += V) logits.Slice(row + Vocabulary, V - Vocabulary).Fill(float.NegativeInfinity);
    }

    public void Validate()
    {
        var p = new List<string>();
        if (MaxNewTokens < 0) p.Add($"max new tokens = {MaxNewTokens} must be >= 0");
        if (!Greedy && !(Temperature > 0)) p.Add($"temperature = {Temperature} must be > 0");
        if (TopK < 0) p.Add($"top-k = {TopK} must be >= 0");
        if (!(TopP > 0 && TopP <= 1)) p.Add($"top-p = {TopP} must be in (0, 1]");
        if (Vocabulary < 0) p.Add($"vocabulary = {Vocabulary} must be >= 0");
        if (BeamWidth < 1 || BeamWidth > BeamHypotheses.MaxWidth) p.Add($"beam width = {BeamWidth} must be in [1, {BeamHypotheses.MaxWidth}]");
        if (p.Count > 0) throw new ArgumentException("invalid generation options: " + string.Join("; ", p));
    }
}
