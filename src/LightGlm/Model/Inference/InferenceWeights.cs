// The weights an inference session multiplies by: every projection of every block and the LM head, either fp32
// (views of the model's arena, no copy) or weight-only int8/int4 with group-wise scales (llama2.c's runq as a sibling
// set of weights, not a flag inside the kernels). Embeddings, norms and biases stay fp32.
using LightGlm.Kernels.Quantized;

namespace LightGlm.Model.Inference;

public enum WeightFormat { Fp32, Int8, Int4 }

public sealed class InferenceWeights
{
    public GlmModel Model { get; }
    public WeightFormat Format { get; }
    /// <summary>Weights per scale (quantized formats only).</summary>
    public int GroupSize { get; }
    internal Projection[] Qkv { get; }
    internal Projection[] O { get; }
    internal Projection[] GateUp { get; }
    internal Projection[] Down { get; }
    internal Projection Head { get; }

    /// <summary>Bytes of all projection weights and the LM head as stored for inference (what decode streams per token).</summary>
    public long ProjectionBytes { get; }

    /// <summary>Bytes of every weight inference holds: the model's fp32 parameters, with the projections and LM head in this
    /// set's format (embeddings, norms and biases fp32).</summary>
    public long HeldBytes { get; }

    /// <summary>Largest input width of any projection, padded to whole quantization groups.</summary>
    internal int MaxPaddedIn { get; }

    InferenceWeights(GlmModel model, WeightFormat format, int groupSize)
    {
        Model = model;
        Format = format;
        GroupSize = groupSize;
        var c = model.Config;
        var lo = model.Layout;
        int C = c.C, HD = c.H * c.D, W = c.QkvDim, F = c.F, V = c.V;
        Projection Make(int offset, int outDim, int inDim, int biasOffset = -1)
        {
            var bias = biasOffset >= 0 ? model.W(biasOffset, outDim) : default;
            var w = model.W(offset, outDim * inDim);
            if (format == WeightFormat.Fp32) return new Fp32Projection(w, outDim, inDim, bias);
            var q = QuantizedMatrix.Quantize(w.Span, outDim, inDim, format == WeightFormat.Int8 ? QuantFormat.Int8 : QuantFormat.Int4, groupSize);
            return new QuantizedProjection(q, bias);
        }
        Qkv = lo.Blocks.Select(b => Make(b.Qkv, W, C, b.QkvBias)).ToArray();
        O = lo.Blocks.Select(b => Make(b.O, C, HD)).ToArray();
        GateUp = lo.Blocks.Select(b => Make(b.GateUp, 2 * F, C)).ToArray();
        Down = lo.Blocks.Select(b => Make(b.Down, C, F)).ToArray();
        Head = Make(lo.LmHead, V, C);
        var all = Qkv.Concat(O).Concat(GateUp).Concat(Down).Append(Head).ToList();
        ProjectionBytes = all.Sum(p => p.Bytes);
        HeldBytes = lo.TotalLength * 4L - all.Sum(p => (long)p.Out * p.In * sizeof(float)) + ProjectionBytes;
        int g = format == WeightFormat.Fp32 ? 1 : groupSize;
        MaxPaddedIn = all.Max(p => (p.In + g - 1) / g * g);
    }

    /// <summary>fp32: the model's own weights, no copy.</summary>
    public static InferenceWeights Fp32(GlmModel model) => new(model, WeightFormat.Fp32, 0);

    /// <summary>
    /// Quantizes every projection and the LM head of <paramref name="model"/> (round to nearest, symmetric, one fp32
    /// scale per <paramref name="groupSize"/> input columns; |w − d·q| ≤ d/2 per weight).
    /// </summary>
    public static InferenceWeights Create(GlmModel model, WeightFormat format, int groupSize = 32)
    {
        if (format != WeightFormat.Fp32 && (groupSize <= 0 || groupSize % 32 != 0))
            throw new ArgumentException($"quantization group size {groupSize} must be a positive multiple of 32", nameof(groupSize));
        return format == WeightFormat.Fp32 ? Fp32(model) : new InferenceWeights(model, format, groupSize);
    }

    /// <summary>"fp32", "int8" or "int4" (the CLI's --quantize; "none" = fp32).</summary>
    public static WeightFormat ParseFormat(string text) => text.Trim().ToLowerInvariant() switch
    {
        "fp32" or "none" or "" => WeightFormat.Fp32,
        "int8" => WeightFormat.Int8,
        "int4" => WeightFormat.Int4,
        _ => throw new ArgumentException($"--quantize '{text}': use int8, int4 or none"),
    };

    public static string Name(WeightFormat f) => f switch { WeightFormat.Int8 => "int8", WeightFormat.Int4 => "int4", _ => "fp32" };
}
