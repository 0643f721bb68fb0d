// Batch-1 greedy decode timing of any inference weight source through the one forward pass: the eval stage's speed
// probe, `bench student-decode`'s interleaved rounds, `bench vocab-prune`'s tokens/s and `bench mapped-decode`'s
// per-step times. The CLI parses and prints.
using System.Diagnostics;
using System.Numerics.Tensors;
using LightGlm.Model.Inference;

namespace LightGlm.Evaluation.Bench;

public static class DecodeBench
{
    /// <summary>The probe behind <see cref="LightGlm.Experiments.Stages.ModelEvaluator.SpeedProbe(InferenceWeights, LightGlm.Text.Tokenizers.ITokenizer, string, int)"/> for any prompt ids (also `bench student-decode`): bidirectional prefill of
    /// <paramref name="prompt"/>, then <paramref name="tokens"/> greedy decode steps through one engine session, best of
    /// <paramref name="reps"/> after a warm-up, with the kernels on <paramref name="threads"/> threads (restored afterwards).</summary>
    public static (double PrefillMs, double DecodeMsPerToken, double DecodeCpuMsPerToken) Probe(InferenceWeights weights, int[] prompt, int tokens,
        int reps = 5, int threads = 1)
    {
        if (tokens < 1 || reps < 1 || threads < 1) throw new ArgumentOutOfRangeException(nameof(tokens), "tokens, reps and threads must be ≥ 1");
        int V = weights.Config.V;
        var session = new InferenceSession(weights, 1, Math.Min(weights.Config.MaxPositionEmbeddings, prompt.Length + tokens + 1));
        var logits = new float[V];
        int[] slot = [0], next = [0];
        double prefill = double.MaxValue, wall = double.MaxValue, cpu = double.MaxValue;
        int gemmThreads = LightGlm.Kernels.Gemm.Threads, kernelThreads = LightGlm.Kernels.KernelParallel.Degree;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        try
        {
            LightGlm.Kernels.Gemm.Threads = threads;
            LightGlm.Kernels.KernelParallel.Degree = threads;
            for (int rep = 0; rep <= reps; rep++) // rep 0 warms up
            {
                session.Cache.Reset(0);
                long t0 = Stopwatch.GetTimestamp();
                session.Prefill(0, prompt, logits, bidirectional: true);
                double p = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                next[0] = ArgMax(logits);
                double c0 = CpuMs(threads);
                long t1 = Stopwatch.GetTimestamp();
                for (int i = 0; i < tokens; i++)
                {
                    session.Decode(slot, next, logits);
                    next[0] = ArgMax(logits);
                }
                double w = Stopwatch.GetElapsedTime(t1).TotalMilliseconds, c = CpuMs(threads) - c0;
                if (rep == 0) continue;
                prefill = Math.Min(prefill, p); wall = Math.Min(wall, w / tokens);
                cpu = double.IsNaN(c) ? wall : Math.Min(cpu, c / tokens);
            }
        }
        finally
        {
            LightGlm.Kernels.Gemm.Threads = gemmThreads;
            LightGlm.Kernels.KernelParallel.Degree = kernelThreads;
        }
        return (prefill, wall, cpu);
    }

    /// <summary>One thread: the calling thread's CPU time; more: the process's (all kernel threads; idle pool threads cost nothing).</summary>
    static double CpuMs(int threads) => threads == 1 ? CpuClock.ThreadMs() : CpuClock.ProcessMs();

    static int ArgMax(ReadOnlySpan<float> x) => System.Numerics.Tensors.TensorPrimitives.IndexOfMax(x);

    /// <summary>
    /// <see cref="Probe"/> of several weight sources fairly: every source warms up first (<paramref name="warmupReps"/>
    /// probe repetitions: the JIT's tiers made a model timed cold up to 1.4x slower than when timed after the others), then
    /// <paramref name="rounds"/> rounds go source by source so drift on the machine touches all alike; per source the
    /// best decode wall and CPU ms/token.
    /// </summary>
    public static (double Ms, double CpuMs)[] BestOfRounds(IReadOnlyList<InferenceWeights> sources, int[] prompt, int tokens, int rounds,
        int threads, int warmupReps = 20)
    {
        foreach (var w in sources) Probe(w, prompt, tokens, reps: warmupReps, threads: threads);
        var best = sources.Select(_ => (Ms: double.MaxValue, CpuMs: double.MaxValue)).ToArray();
        for (int round = 0; round < rounds; round++)
            for (int i = 0; i < sources.Count; i++)
            {
                var (_, ms, cpu) = Probe(sources[i], prompt, tokens, reps: 1, threads: threads);
                best[i] = (Math.Min(best[i].Ms, ms), Math.Min(best[i].CpuMs, cpu));
            }
        return best;
    }

    /// <summary>Greedy decode at batch 1 through a one-slot <see cref="SequenceDecoder"/>: the best of <paramref name="reps"/>
    /// runs of <paramref name="tokens"/> − 1 timed steps after a first, untimed token (<paramref name="first"/>), in tokens/s.</summary>
    public static double GreedyTokensPerSecond(InferenceWeights weights, int first, int tokens, int reps)
    {
        var dec = new SequenceDecoder(weights, tokens + 1);
        double best = 0;
        for (int rep = 0; rep < reps; rep++)
        {
            dec.Reset();
            int tok = TensorPrimitives.IndexOfMax(dec.Forward([first]));
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < tokens - 1; i++) tok = TensorPrimitives.IndexOfMax(dec.Forward([tok]));
            best = Math.Max(best, (tokens - 1) / sw.Elapsed.TotalSeconds);
        }
        return best;
    }

    /// <summary>What <see cref="Steps"/> measured: the prefill's seconds, each decode step's, the CPU seconds of all steps
    /// (all threads), <see cref="PeakMemory.Describe"/> after the prefill and after the steps, and the last greedy token.</summary>
    public sealed record StepTimes(double PrefillS, string MemoryAfterPrefill, double[] StepS, double CpuS, string MemoryAfterSteps, int Next)
    {
        public double MedianS => StepS.Order().ElementAt(StepS.Length / 2);
    }

    /// <summary>`bench mapped-decode`: a prefill of <paramref name="prompt"/> (one GEMM per projection over its rows; the first
    /// touch pages mapped weights in from disk), then <paramref name="steps"/> greedy decode steps, each timed.</summary>
    public static StepTimes Steps(InferenceWeights weights, int[] prompt, int steps)
    {
        var dec = new SequenceDecoder(weights, prompt.Length + steps + 1);
        long t0 = Stopwatch.GetTimestamp();
        int next = TensorPrimitives.IndexOfMax(dec.Forward(prompt));
        double prefill = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        string afterPrefill = PeakMemory.Describe();
        var times = new double[steps];
        double cpu0 = CpuClock.ProcessMs();
        for (int i = 0; i < steps; i++)
        {
            long t1 = Stopwatch.GetTimestamp();
            next = TensorPrimitives.IndexOfMax(dec.Step(next));
            times[i] = Stopwatch.GetElapsedTime(t1).TotalSeconds;
        }
        double cpu = (CpuClock.ProcessMs() - cpu0) / 1e3;
        return new(prefill, afterPrefill, times, cpu, steps > 0 ? PeakMemory.Describe() : "", next);
    }
}
