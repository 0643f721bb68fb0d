// Scores one model on a test split, the way Tables 2-4 report models: BLEU, chrF2, chrF++, TER, terminology
// accuracy, teacher-forced translation accuracy, and size and speed. The one scoring path: `lightglm eval`
// and the recipe's eval stage both call it.
using System.Diagnostics;
using LightGlm.Evaluation.Metrics;
using LightGlm.Model;
using LightGlm.Model.Checkpoints;
using LightGlm.Model.Inference;
using LightGlm.Text.Tokenizers;
using LightGlm.Translation;

namespace LightGlm.Experiments.Stages;

public static class ModelEvaluator
{
    public static ModelScores Evaluate(GlmModel model, ITokenizer tok, string modelDir,
        IReadOnlyList<(string English, string Chinese)> pairs, Glossary? glossary, int maxNewTokens,
        Action<double, string>? progress = null, CancellationToken cancel = default, IReadOnlyList<Direction>? directions = null,
        GlmTranslator? translator = null, TranslationMemory? memory = null, double? fuzzyThreshold = null) =>
        Evaluate(InferenceWeights.Fp32(model), tok, modelDir, pairs, glossary, maxNewTokens, progress, cancel, directions, translator, memory, fuzzyThreshold);

    /// <summary>
    /// The same scores for any weight source (a loaded model, a memory-mapped checkpoint, quantized weights). With a
    /// <paramref name="memory"/>, its exact matches answer first (memory_hits) and, with <paramref name="fuzzyThreshold"/>,
    /// the rest get their fuzzy match in the prompt (fuzzy_hits: the prompts that carried one).
    /// </summary>
    public static ModelScores Evaluate(InferenceWeights weights, ITokenizer tok, string modelDir,
        IReadOnlyList<(string English, string Chinese)> pairs, Glossary? glossary, int maxNewTokens,
        Action<double, string>? progress = null, CancellationToken cancel = default, IReadOnlyList<Direction>? directions = null,
        GlmTranslator? translator = null, TranslationMemory? memory = null, double? fuzzyThreshold = null)
    {
        if (fuzzyThreshold is not null && memory is null) throw new ArgumentException("fuzzy prompts need a translation memory", nameof(fuzzyThreshold));
        directions ??= Directions.Both;
        // Default: greedy fp32; `lightglm eval --beam/--quantize` passes its own (one sentence at a time either way).
        translator ??= new GlmTranslator(weights, tok, new TranslatorOptions { MaxBatch = 1 });
        var scores = new Dictionary<Direction, DirectionScores>();
        int total = pairs.Count * directions.Count, done = 0;
        long newTokens = 0;
        double decodeMs = 0;
        foreach (var d in directions)
        {
            var clock = Stopwatch.StartNew();
            var src = pairs.Select(p => d == Direction.EnToZh ? p.English : p.Chinese).ToList();
            var refs = pairs.Select(p => d == Direction.EnToZh ? p.Chinese : p.English).ToList();
            var hyps = new List<string>(src.Count);
            var lat = new List<double>(src.Count);
            int hits = 0, fuzzyHits = 0;
            // One at a time by default (per-sentence latency); a translator with a larger batch translates that many
            // together (throughput for quality studies; latencies are then per batch and not reported).
            int batch = translator.MaxBatch;
            for (int i = 0; i < src.Count; i += batch)
            {
                cancel.ThrowIfCancellationRequested();
                var chunk = src.Skip(i).Take(batch).ToList();
                // With a translation memory, a stored translation answers first (no model call: not in the latencies).
                var answer = memory is null
                    ? new MemoryTranslation(translator.Translate(chunk, d, maxNewTokens), new MemoryUse[chunk.Count])
                    : memory.Translate(translator, chunk, d, maxNewTokens, fuzzyThreshold: fuzzyThreshold);
                hits += answer.ExactHits;
                fuzzyHits += answer.FuzzyHits;
                for (int j = 0; j < chunk.Count; j++)
                {
                    var t = answer.Results[j];
                    hyps.Add(t.Text);
                    if (answer.Uses[j] == MemoryUse.Exact) continue;
                    newTokens += t.Ids.Length;
                    if (batch == 1) { lat.Add(t.Milliseconds); decodeMs += t.Milliseconds; }
                }
                done += chunk.Count;
                progress?.Invoke(done / (double)total, $"{d.Name()} {done}/{total}");
            }
            double seconds = clock.Elapsed.TotalSeconds;
            var suite = MetricSuite.ForTarget(d.TargetLanguage());
            var m = suite.Corpus(hyps, refs);
            var tf = TeacherForcedAccuracy.Compute(translator.Weights, tok, d, src.Zip(refs).ToList());
            double? term = glossary is null ? null : TerminologyAccuracy.Compute(glossary, d == Direction.EnToZh, src, hyps, refs).Accuracy;
            lat.Sort();
            scores[d] = new DirectionScores
            {
                Bleu = Math.Round(m.Bleu.Score, 2), Chrf = Math.Round(m.Chrf2.Score, 2), Chrf2pp = Math.Round(m.Chrf2pp.Score, 2),
                Ter = Math.Round(m.Ter.Score, 2),
                TermAccuracy = term is double x && double.IsFinite(x) ? Math.Round(x, 4) : null,
                TranslationAccuracy = Math.Round(tf.Accuracy, 4),
                MeanTargetProbability = Math.Round(tf.MeanProbability, 4),
                Sentences = src.Count,
                MemoryHits = memory is null ? null : hits,
                FuzzyHits = fuzzyThreshold is null ? null : fuzzyHits,
                LatencyP50Ms = lat.Count == 0 ? null : Math.Round(Percentile(lat, 0.5), 2),
                LatencyP95Ms = lat.Count == 0 ? null : Math.Round(Percentile(lat, 0.95), 2),
                Batch = batch,
                ThroughputSentencesPerS = Math.Round(src.Count / Math.Max(seconds, 1e-9), 3),
                BleuSignature = suite.Bleu.Signature,
                Samples = src.Take(3).Select((s, i) => new TranslationSample(s, refs[i], hyps[i])).ToList(),
            };
        }
        var (prefill, decode, decodeCpu) = SpeedProbe(translator.Weights, tok, pairs.Count > 0 ? pairs[0].English : "Permission denied");
        double peak = LightGlm.Evaluation.Bench.PeakMemory.ProcessPeakMb(); // the whole process, not one model
        return new ModelScores
        {
            Params = weights.Config.ParameterCount(),
            CheckpointBytes = ModelBytes(modelDir),
            Beam = translator.Options.Beam,
            Weights = InferenceWeights.Name(translator.Weights.Format), // as run: a quantized directory is int8/int4 without --quantize
            ProjectionBytes = translator.Weights.ProjectionBytes,
            // The weights inference holds: fp32 parameters with the projections (and LM head) in the translator's format.
            WeightBytes = translator.Weights.HeldBytes,
            EnZh = scores.GetValueOrDefault(Direction.EnToZh),
            ZhEn = scores.GetValueOrDefault(Direction.ZhToEn),
            MsPerGeneratedToken = newTokens > 0 && decodeMs > 0 ? Math.Round(decodeMs / newTokens, 3) : null,
            PrefillMs = Math.Round(prefill, 3),
            DecodeMsPerToken = Math.Round(decode, 4),
            DecodeCpuMsPerToken = Math.Round(decodeCpu, 4),
            PeakRssMb = double.IsFinite(peak) ? Math.Round(peak, 1) : null,
        };
    }

    /// <summary>
    /// Inference speed that does not depend on what the model happens to generate or on what else the machine runs:
    /// one engine session on one thread (GEMM/GEMV and kernel threads set to 1 for the probe), a fixed prompt prefilled,
    /// then exactly <paramref name="tokens"/> greedy decode steps with no stop token (argmax included); best of 5 after a
    /// warm-up, nothing allocated inside the timed loops, a full collection before them. Reported as wall ms and as
    /// CPU ms of the calling thread (<see cref="LightGlm.Evaluation.Bench.CpuClock.ThreadMs"/>): the time the work
    /// actually ran, which preemption on a shared machine does not inflate — comparisons between models (the
    /// headline's time ratio) use it.
    /// </summary>
    public static (double PrefillMs, double DecodeMsPerToken, double DecodeCpuMsPerToken) SpeedProbe(GlmModel model, ITokenizer tok, string text, int tokens = 64,
        InferenceWeights? weights = null) => SpeedProbe(weights ?? InferenceWeights.Fp32(model), tok, text, tokens);

    public static (double PrefillMs, double DecodeMsPerToken, double DecodeCpuMsPerToken) SpeedProbe(InferenceWeights weights, ITokenizer tok, string text, int tokens = 64)
    {
        var sp = SpecialTokens.From(tok);
        var prompt = TaskFormat.Prompt(sp, Direction.EnToZh, tok.EncodeText(text).Take(24).ToArray());
        return LightGlm.Evaluation.Bench.DecodeBench.Probe(weights, prompt, tokens);
    }

    static long ModelBytes(string dir) => File.Exists(Path.Combine(dir, ModelDirectory.WeightsFile)) ? new FileInfo(Path.Combine(dir, ModelDirectory.WeightsFile)).Length : 0;

    static double Percentile(List<double> sorted, double q) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, Math.Max(0, (int)Math.Ceiling(q * sorted.Count) - 1))];
}
