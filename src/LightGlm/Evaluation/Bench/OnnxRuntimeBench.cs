// `bench decode --vs-onnxruntime`: the bench model exported by `export --format onnx` and decoded in ONNX Runtime
// (in process), measured exactly as EngineBench.Decode measures ours, with its greedy tokens checked against ours.
using System.Diagnostics;
using System.Numerics.Tensors;
using LightGlm.Interop.Onnx;
using LightGlm.Model;
using LightGlm.Model.Inference;

namespace LightGlm.Evaluation.Bench;

public static class OnnxRuntimeBench
{
    /// <summary>Best prefill and decode over the thread settings, which setting gave each, the .onnx size, and how many
    /// greedy tokens equal our engine's (same model, same prompt).</summary>
    public sealed record Result(double PrefillMs, double DecodeMsPerToken, int PrefillThreads, int DecodeThreads, long FileBytes, int TokensAgreeing, int Tokens);

    /// <summary>
    /// The model of EngineBench.Decode (seed 1) exported to a temp .onnx; batch 1, a causal prompt of spec.PromptLength
    /// random tokens (EngineBench.Prompt), then spec.GenLength greedy tokens through the KV cache (argmax included). One warm-up
    /// run, then the best of 3, for each intra-op thread count in <paramref name="threadSettings"/>.
    /// </summary>
    public static Result Decode(BenchSpec spec, IReadOnlyList<int> threadSettings)
    {
        var model = GlmModel.Create(spec.Config, seed: 1);
        var prompt = EngineBench.Prompt(spec);
        var path = Path.Combine(Path.GetTempPath(), $"lightglm-bench-{Environment.ProcessId}-{Guid.NewGuid():N}.onnx");
        try
        {
            long bytes = OnnxExporter.Write(model, path);
            var best = new Result(double.PositiveInfinity, double.PositiveInfinity, 0, 0, bytes, 0, spec.GenLength);
            int[] theirs = [];
            foreach (int t in threadSettings.Distinct())
            {
                using var ort = new OnnxDecoder(path, t);
                Run(ort, spec, prompt, out theirs);
                var runs = Enumerable.Range(0, 3).Select(_ => Run(ort, spec, prompt, out theirs)).ToArray();
                double p = runs.Min(r => r.PrefillMs), d = runs.Min(r => r.DecodeMs);
                if (p < best.PrefillMs) best = best with { PrefillMs = p, PrefillThreads = t };
                if (d < best.DecodeMsPerToken) best = best with { DecodeMsPerToken = d, DecodeThreads = t };
            }
            var ours = OurTokens(model, spec, prompt);
            return best with { TokensAgreeing = ours.Zip(theirs).TakeWhile(p => p.First == p.Second).Count() };
        }
        finally { File.Delete(path); }
    }

    static (double PrefillMs, double DecodeMs) Run(OnnxDecoder ort, BenchSpec spec, int[] prompt, out int[] tokens)
    {
        int V = spec.Config.V;
        tokens = new int[spec.GenLength];
        ort.Reset();
        long t0 = Stopwatch.GetTimestamp();
        var rows = ort.Prefill(prompt);
        double prefill = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        var logits = rows.AsSpan((prompt.Length - 1) * V, V).ToArray();
        long t1 = Stopwatch.GetTimestamp();
        for (int i = 0; i < spec.GenLength; i++)
        {
            tokens[i] = TensorPrimitives.IndexOfMax(logits);
            logits = ort.Decode(tokens[i]);
        }
        return (prefill, Stopwatch.GetElapsedTime(t1).TotalMilliseconds / spec.GenLength);
    }

    static int[] OurTokens(GlmModel model, BenchSpec spec, int[] prompt)
    {
        var session = new InferenceSession(model, 1, spec.PromptLength + spec.GenLength + 1);
        var logits = new float[spec.Config.V];
        var tokens = new int[spec.GenLength];
        session.Prefill(0, prompt, logits);
        for (int i = 0; i < spec.GenLength; i++)
        {
            tokens[i] = TensorPrimitives.IndexOfMax(logits);
            session.Decode([0], [tokens[i]], logits);
        }
        return tokens;
    }
}
