// One side of `bench llama-cpp` / `bench large-decode` measured alone in its own process (so peak RSS is that side's
// alone): load, prefill at each prompt length, greedy decode — one procedure over any ICausalDecoder, token ids in both.
// Our side is here; llama.cpp's (LLamaSharp) is in the CLI, which alone references it.
using System.Diagnostics;
using System.Numerics.Tensors;
using System.Text.Json;
using System.Text.Json.Serialization;
using LightGlm.Interop;
using LightGlm.Interop.Inference;
using LightGlm.Model.Checkpoints;
using LightGlm.Model.Inference;

namespace LightGlm.Evaluation.Bench;

/// <summary>
/// What one side measured. Times are the best of <c>reps</c> runs after one warm-up; RSS is VmHWM of the child process.
/// <see cref="Greedy"/>: this side's own greedy tokens; <see cref="ForcedArgmax"/>: its argmax at each step while fed the
/// other side's greedy tokens instead (so one flipped near-tie does not hide the agreement of every later step).
/// </summary>
public sealed record PeerResult(
    [property: JsonPropertyName("engine")] string Engine,
    [property: JsonPropertyName("format")] string Format,
    [property: JsonPropertyName("load_s")] double LoadS,
    [property: JsonPropertyName("prefill_ms")] Dictionary<int, double> PrefillMs,
    [property: JsonPropertyName("decode_ms_per_token")] double DecodeMsPerToken,
    [property: JsonPropertyName("peak_rss_mb")] double PeakRssMb,
    [property: JsonPropertyName("greedy")] int[] Greedy,
    [property: JsonPropertyName("forced_argmax")] int[]? ForcedArgmax = null)
{
    /// <summary>Where the weights came from (ours: arena, mapped, quantized at load).</summary>
    [JsonPropertyName("source")] public string? Source { get; init; }

    /// <summary>The line a child process prints its result on (llama.cpp may print its own lines too).</summary>
    public const string Marker = "LIGHTGLM-PEER-RESULT ";

    public string ToLine() => Marker + JsonSerializer.Serialize(this);

    public static PeerResult? FromOutput(string stdout) =>
        stdout.Split('\n').Where(l => l.StartsWith(Marker, StringComparison.Ordinal))
            .Select(l => JsonSerializer.Deserialize<PeerResult>(l[Marker.Length..])).LastOrDefault();

    /// <summary>Leading greedy tokens that agree (after the first difference a causal model's continuations diverge anyway).</summary>
    public static int Agreeing(int[] a, int[] b)
    {
        int i = 0;
        while (i < a.Length && i < b.Length && a[i] == b[i]) i++;
        return i;
    }

    /// <summary>Steps where the peer's argmax, fed our greedy tokens, equals ours.</summary>
    public static int ForcedAgreeing(PeerResult ours, PeerResult peer) =>
        peer.ForcedArgmax is { } f ? f.Zip(ours.Greedy).Count(p => p.First == p.Second) : 0;
}

public static class PeerRun
{
    /// <summary>The bench prompt: deterministic ids in [3, V) (past the placeholder vocabulary's unk/bos/eos).</summary>
    public static int[] Prompt(int V, int length) => Enumerable.Range(0, length).Select(i => 3 + (i * 7919 + 11) % Math.Max(1, V - 3)).ToArray();

    /// <summary>
    /// Our engine on <paramref name="modelDir"/>. fp32: a LightGlm directory with one F32 model.safetensors is loaded into
    /// the fp32 arena (what translate and serve run); any other checkpoint (HF, bf16/fp16, sharded) stays mapped and is
    /// widened on the fly. int8/int4: quantized from the map at load, or, from a quantized checkpoint (import|export
    /// --quantize), its quants as stored.
    /// </summary>
    public static PeerResult Ours(string modelDir, WeightFormat format, int threads, int[] promptLengths, int tokens, int reps)
    {
        LightGlm.Kernels.Gemm.Threads = threads;
        LightGlm.Kernels.KernelParallel.Degree = threads;
        var sw = Stopwatch.StartNew();
        IDisposable? mapped;
        InferenceWeights weights;
        string source;
        if (QuantizedCheckpoint.Is(modelDir))
        {   // import|export --quantize: the stored quants, nothing quantized at load
            var q = QuantizedCheckpointWeights.Open(modelDir);
            if (q.Format != format)
            {
                q.Dispose();
                throw new InvalidDataException($"{modelDir}: stored as {q.Quantization}, not {InferenceWeights.Name(format)}");
            }
            (mapped, weights, source) = (q, q, $"quantized checkpoint ({q.Quantization}), quants as stored");
        }
        else
            (mapped, weights, source) = OpenSource(modelDir, format);
        var dec = new SequenceDecoder(weights, promptLengths.Max() + tokens + 1);
        double load = sw.Elapsed.TotalSeconds;
        var r = Measure(dec, promptLengths, tokens, reps);
        GC.KeepAlive(mapped);
        return new PeerResult("lightglm", InferenceWeights.Name(format), load, r.Prefill, r.Decode, PeakMemory.ProcessPeakMb(), r.Greedy) { Source = source };
    }

    /// <summary>A float checkpoint: the fp32 arena (one F32 file of ours), else mapped and quantized at load to <paramref name="format"/>.</summary>
    static (IDisposable? Mapped, InferenceWeights Weights, string Source) OpenSource(string modelDir, WeightFormat format)
    {
        var mapped = MappedWeights.Open(modelDir);
        bool arena = format == WeightFormat.Fp32 && mapped.Architecture is null && mapped.Archive.Files.Count == 1
                     && mapped.Tensors.Values.All(t => t.Entry.DType == TensorDType.F32);
        InferenceWeights weights;
        string source;
        if (arena)
        {
            mapped.Dispose();
            weights = InferenceWeights.Fp32(ModelDirectory.Load(modelDir));
            source = "fp32 arena";
        }
        else
        {
            weights = InferenceWeights.Quantize(MappedInferenceWeights.Create(mapped), format);
            source = format == WeightFormat.Fp32
                ? $"mapped {string.Join("+", mapped.Tensors.Values.Select(t => t.Entry.DType.TorchName()).Distinct().Order())}, widened on the fly"
                : $"quantized from the mapped checkpoint at load";
        }
        return (arena ? null : mapped, weights, source);
    }

    /// <summary>
    /// The procedure both sides run: a warm-up (short prefill + 2 steps); for each prompt length the best of
    /// <paramref name="reps"/> prefills from an empty cache; then greedy decode after the first prompt length — the
    /// argmax of the prefill, then <paramref name="tokens"/> − 1 timed steps — best of <paramref name="reps"/> in ms/token.
    /// With <paramref name="forced"/> each step feeds forced[i − 1] instead of the previous argmax (the argmaxes are returned).
    /// </summary>
    public static (Dictionary<int, double> Prefill, double Decode, int[] Greedy) Measure(ICausalDecoder decoder,
        int[] promptLengths, int tokens, int reps, int[]? forced = null)
    {
        if (forced is not null && forced.Length < tokens) throw new ArgumentException($"{forced.Length} forced tokens for {tokens} steps");
        var prompt = Prompt(decoder.VocabSize, promptLengths.Max());
        int ForwardArgmax(int[] t) => TensorPrimitives.IndexOfMax(decoder.Forward(t));
        decoder.Reset();
        int w = ForwardArgmax(prompt[..Math.Min(8, prompt.Length)]);
        w = ForwardArgmax([w]);
        ForwardArgmax([w]);
        var prefill = new Dictionary<int, double>();
        foreach (int p in promptLengths)
        {
            double best = double.MaxValue;
            for (int rep = 0; rep < reps; rep++)
            {
                decoder.Reset();
                long t0 = Stopwatch.GetTimestamp();
                ForwardArgmax(prompt[..p]);
                best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            }
            prefill[p] = best;
        }
        double decode = double.MaxValue;
        int[] greedy = [];
        for (int rep = 0; rep < reps; rep++)
        {
            decoder.Reset();
            var g = new int[tokens];
            g[0] = ForwardArgmax(prompt[..promptLengths[0]]);
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 1; i < tokens; i++) g[i] = ForwardArgmax([forced is null ? g[i - 1] : forced[i - 1]]);
            decode = Math.Min(decode, Stopwatch.GetElapsedTime(t0).TotalMilliseconds / Math.Max(1, tokens - 1));
            if (rep == 0) greedy = g;
        }
        return (prefill, decode, greedy);
    }
}
