// Measures our engine on a bench model: training steps (forward + backward + AdamW) and batch-1 KV-cache decoding.
using System.Diagnostics;
using LightGlm.Model;
using LightGlm.Model.Inference;

namespace LightGlm.Evaluation.Bench;

public static class EngineBench
{
    // The same optimizer settings as tests/reference/bench_pytorch.py (speed does not depend on them).
    const double Lr = 3e-4, Beta1 = 0.9, Beta2 = 0.95, Eps = 1e-8, WeightDecay = 0.1;

    /// <summary>Mean ms per training step over <paramref name="steps"/> steps after <paramref name="warmup"/>, on random tokens.</summary>
    /// <remarks>CpuMsPerStep: this process's CPU time per step (all threads, spinning included).</remarks>
    public static (double MsPerStep, double TokensPerS, double CpuMsPerStep) Train(BenchSpec spec, int steps, int warmup = 2)
    {
        var step = TrainStep(spec);
        for (int i = 0; i < warmup; i++) step();
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        long t0 = Stopwatch.GetTimestamp();
        for (int i = 0; i < steps; i++) step();
        double sec = Stopwatch.GetElapsedTime(t0).TotalSeconds / steps;
        double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMilliseconds / steps;
        return (sec * 1e3, spec.TokensPerStep / sec, cpu);
    }

    /// <summary>
    /// Wall ms per op per training step (StepProfiler: a stopwatch around each op) over <paramref name="steps"/> steps
    /// after one warm-up, and the step's total; "other" = total − the ops' sum (zeroing grads, loss bookkeeping, loops).
    /// CpuMs = this process's CPU time per step (all threads, spinning included): steadier than wall time on a loaded machine.
    /// </summary>
    public static (IReadOnlyList<(string Op, double MsPerStep, long CallsPerStep)> Ops, double StepMs, double CpuMs) Profile(BenchSpec spec, int steps)
    {
        var step = TrainStep(spec);
        step();
        StepProfiler.Reset();
        StepProfiler.Enabled = true;
        try
        {
            var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < steps; i++) step();
            double total = Stopwatch.GetElapsedTime(t0).TotalMilliseconds / steps;
            double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMilliseconds / steps;
            var ops = StepProfiler.Snapshot().Select(o => (o.Op, o.Ms / steps, o.Calls / steps)).ToList();
            ops.Add(("other", total - ops.Sum(o => o.Item2), 0));
            return (ops, total, cpu);
        }
        finally { StepProfiler.Enabled = false; StepProfiler.Reset(); }
    }

    /// <summary>One training step of the bench model (zero grads, forward + loss, backward, AdamW) on fixed random tokens.</summary>
    static Action TrainStep(BenchSpec spec)
    {
        var model = GlmModel.Create(spec.Config, seed: 1);
        var rng = new Random(0);
        int n = spec.Batch * spec.Seq, v = spec.Config.V;
        var batch = Batch.From(spec.Batch, spec.Seq,
            Enumerable.Range(0, n).Select(_ => rng.Next(v)).ToArray(), Enumerable.Range(0, n).Select(_ => rng.Next(v)).ToArray());
        var cache = model.CreateCache(spec.Batch, spec.Seq);
        var optimizer = new Training.AdamW(model.Layout); // the trainer's optimizer: norms and biases not decayed
        var options = new Training.OptimizerOptions { Lr = Lr, Beta1 = Beta1, Beta2 = Beta2, Eps = Eps, WeightDecay = WeightDecay, GradClip = 0 };
        return () =>
        {
            using (StepProfiler.Time("zero_grads")) model.ZeroGrads();
            model.ForwardLoss(cache, batch);
            model.Backward(cache, batch);
            optimizer.Step(model.Weights, model.Grads, Lr, options);
        };
    }

    /// <summary>
    /// Batch 1: prefill a random prompt of spec.PromptLength tokens (ms), then spec.GenLength greedy tokens one at a
    /// time with the KV cache (ms/token, argmax included). One warm-up run, then the best of 3, as bench_pytorch.py.
    /// Each of <paramref name="threadSettings"/> is tried (as the PyTorch side probes its settings); each metric
    /// reports its best setting.
    /// </summary>
    public static DecodeResult Decode(BenchSpec spec, WeightFormat format = WeightFormat.Fp32, IReadOnlyList<int>? threadSettings = null)
    {
        var model = GlmModel.Create(spec.Config, seed: 1);
        var weights = InferenceWeights.Create(model, format);
        threadSettings ??= [Kernels.Gemm.Threads];
        int restore = Kernels.Gemm.Threads;
        var best = new DecodeResult(double.PositiveInfinity, double.PositiveInfinity, 0, 0, weights.ProjectionBytes);
        foreach (int t in threadSettings.Distinct())
        {
            SetThreads(t);
            var (p, d) = DecodeOnce(spec, model, weights);
            if (p < best.PrefillMs) best = best with { PrefillMs = p, PrefillThreads = t };
            if (d < best.DecodeMsPerToken) best = best with { DecodeMsPerToken = d, DecodeThreads = t };
        }
        SetThreads(restore);
        return best;
    }

    /// <summary>Best prefill and decode over the thread settings tried, which settings gave them, and the weight bytes.</summary>
    public sealed record DecodeResult(double PrefillMs, double DecodeMsPerToken, int PrefillThreads, int DecodeThreads, long ProjectionBytes);

    static (double PrefillMs, double DecodeMsPerToken) DecodeOnce(BenchSpec spec, GlmModel model, InferenceWeights weights)
    {
        var prompt = Prompt(spec);
        var logits = new float[spec.Config.V];
        (double, double) Run()
        {
            var session = new InferenceSession(model, 1, spec.PromptLength + spec.GenLength + 1, weights: weights);
            long t0 = Stopwatch.GetTimestamp();
            session.Prefill(0, prompt, logits);
            double prefill = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            long t1 = Stopwatch.GetTimestamp();
            int[] slot = [0], token = [0];
            for (int i = 0; i < spec.GenLength; i++)
            {
                token[0] = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(logits);
                session.Decode(slot, token, logits);
            }
            return (prefill, Stopwatch.GetElapsedTime(t1).TotalMilliseconds / spec.GenLength);
        }
        Run();
        var runs = Enumerable.Range(0, 3).Select(_ => Run()).ToArray();
        return (runs.Min(r => r.Item1), runs.Min(r => r.Item2));
    }

    /// <summary>The decode benchmark's prompt: spec.PromptLength random tokens (seed 0), the same for every peer.</summary>
    internal static int[] Prompt(BenchSpec spec)
    {
        var rng = new Random(0);
        return Enumerable.Range(0, spec.PromptLength).Select(_ => rng.Next(spec.Config.V)).ToArray();
    }

    /// <summary>Threads for everything our engine runs: GEMM/GEMV (OpenBLAS or managed) and every other loop (KernelParallel).</summary>
    public static void SetThreads(int threads)
    {
        Kernels.Gemm.Threads = threads;
        Kernels.KernelParallel.Degree = threads;
    }
}
