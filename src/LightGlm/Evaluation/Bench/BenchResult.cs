// What one side (LightGlm or PyTorch) measured; null = not measured in this run.
using System.Text.Json.Nodes;

namespace LightGlm.Evaluation.Bench;

public sealed record SideResult
{
    public double? TrainMsPerStep { get; init; }
    public double? TrainTokensPerS { get; init; }
    /// <summary>CPU time of the measuring process per training step (all its threads, spin-waiting included).</summary>
    public double? TrainCpuMsPerStep { get; init; }
    public double? DecodeMsPerToken { get; init; }
    public double? PrefillMs { get; init; }
    public double? PeakRssMb { get; init; }
    /// <summary>Our engine with int8/int4 weights: format name → (prefill ms, decode ms/token), same prompt and lengths.</summary>
    public IReadOnlyDictionary<string, (double PrefillMs, double DecodeMsPerToken)>? Quantized { get; init; }
    /// <summary>How the side ran (threads, setting); shown under the table, not in --json.</summary>
    public string Note { get; init; } = "";

    /// <summary>The five keys of `lightglm bench --json`, snake_case as issue 2 specifies (CPU time is in the table only);
    /// with quantized runs, also decode_ms_per_token_int8, prefill_ms_int8 (and int4).</summary>
    public JsonObject ToJson()
    {
        var o = new JsonObject
        {
            ["train_tokens_per_s"] = Round(TrainTokensPerS),
            ["train_ms_per_step"] = Round(TrainMsPerStep),
            ["decode_ms_per_token"] = Round(DecodeMsPerToken),
            ["prefill_ms"] = Round(PrefillMs),
            ["peak_rss_mb"] = Round(PeakRssMb),
        };
        foreach (var (f, (p, d)) in Quantized ?? new Dictionary<string, (double, double)>())
        {
            o[$"decode_ms_per_token_{f}"] = Round(d);
            o[$"prefill_ms_{f}"] = Round(p);
        }
        return o;
    }

    static JsonNode? Round(double? x) => x is { } v && double.IsFinite(v) ? JsonValue.Create(Math.Round(v, 4)) : null;
}

/// <summary>Everything one bench run measured.</summary>
public sealed record BenchReport(BenchSpec Spec, double SgemmPeakGflops, SideResult LightGlm, SideResult? PyTorch)
{
    /// <summary>Our ONNX export decoded in ONNX Runtime (`--vs-onnxruntime`); null = not measured.</summary>
    public SideResult? OnnxRuntime { get; init; }

    /// <summary>Exactly one object: {"sgemm_peak_gflops", "lightglm": {...}, "pytorch": {...} or null}, plus
    /// "onnxruntime": {...} when it was measured.</summary>
    public string ToJson()
    {
        var o = new JsonObject
        {
            ["sgemm_peak_gflops"] = Math.Round(SgemmPeakGflops, 3),
            ["lightglm"] = LightGlm.ToJson(),
            ["pytorch"] = PyTorch?.ToJson(),
        };
        if (OnnxRuntime is not null) o["onnxruntime"] = OnnxRuntime.ToJson();
        return o.ToJsonString();
    }

    /// <summary>Training GFLOP/s of a side: <see cref="BenchSpec.TrainFlopsPerStep"/> / step time.</summary>
    public double? Gflops(SideResult s) => s.TrainMsPerStep is { } ms ? Spec.TrainFlopsPerStep() / (ms / 1e3) / 1e9 : null;

    /// <summary>GFLOP/s as a percentage of the measured sgemm peak.</summary>
    public double? PercentOfPeak(SideResult s) => Gflops(s) is { } g ? 100.0 * g / SgemmPeakGflops : null;
}
