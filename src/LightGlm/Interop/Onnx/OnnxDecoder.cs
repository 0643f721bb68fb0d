// Runs an exported model.onnx in ONNX Runtime, one sequence with its KV cache: prefill a prompt (GLM prefix mask or
// causal), then decode one token at a time. The peer of InferenceSession in the parity tests and `bench decode`.
using Microsoft.ML.OnnxRuntime;

namespace LightGlm.Interop.Onnx;

/// <summary>
/// Batch 1. Each call builds input_ids, position_ids (0.. from the cache length) and the additive attention bias
/// (<see cref="AttentionBias"/>), runs the graph and keeps the present K/V as the next call's past (no copy).
/// </summary>
public sealed class OnnxDecoder : IDisposable
{
    /// <summary>The additive bias of a hidden key: exp(score − 1e9) is exactly 0 in fp32, and a row stays finite.</summary>
    public const float Hidden = -1e9f;

    readonly InferenceSession _session;
    readonly RunOptions _run = new();
    readonly int _layers, _kv, _d, _vocab, _maxPositions;
    readonly string[] _inputNames, _outputNames;
    OrtValue[] _past;
    IDisposableReadOnlyCollection<OrtValue>? _lastOutputs;

    /// <summary>Tokens in the cache.</summary>
    public int Length { get; private set; }

    /// <summary>Opens <paramref name="path"/> with <paramref name="threads"/> intra-op threads (0 = ONNX Runtime's default) and all graph optimisations.</summary>
    public OnnxDecoder(string path, int threads = 0)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: ONNX model not found", path);
        var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = threads, InterOpNumThreads = 1 };
        try { _session = new InferenceSession(path, options); }
        catch (OnnxRuntimeException e) { throw new InvalidDataException($"{path}: ONNX Runtime cannot load it: {e.Message}", e); }
        finally { options.Dispose(); }
        var pastKey = _session.InputMetadata.GetValueOrDefault(OnnxDecoderGraph.PastKey(0));
        var logits = _session.OutputMetadata.GetValueOrDefault(OnnxDecoderGraph.Logits);
        if (pastKey is null || logits is null)
            throw new InvalidDataException($"{path}: not a LightGlm decoder graph (no {OnnxDecoderGraph.PastKey(0)} input or {OnnxDecoderGraph.Logits} output)");
        _layers = _session.InputMetadata.Keys.Count(k => k.StartsWith("past_key_values.") && k.EndsWith(".key"));
        (_kv, _d, _vocab) = (pastKey.Dimensions[1], pastKey.Dimensions[3], logits.Dimensions[2]);
        _inputNames = [OnnxDecoderGraph.InputIds, OnnxDecoderGraph.PositionIds, OnnxDecoderGraph.AttentionBias,
            .. Enumerable.Range(0, _layers).SelectMany(l => new[] { OnnxDecoderGraph.PastKey(l), OnnxDecoderGraph.PastValue(l) })];
        _outputNames = [OnnxDecoderGraph.Logits,
            .. Enumerable.Range(0, _layers).SelectMany(l => new[] { OnnxDecoderGraph.PresentKey(l), OnnxDecoderGraph.PresentValue(l) })];
        // The exporter stores our config in the metadata; without it (another exporter's graph) positions go unchecked.
        _maxPositions = _session.ModelMetadata.CustomMetadataMap.TryGetValue("lightglm.config", out var json)
            ? Model.ModelConfig.FromJson(json, $"{path} metadata").MaxPositionEmbeddings : int.MaxValue;
        _past = EmptyPast();
    }

    public int VocabSize => _vocab;

    OrtValue[] EmptyPast() => Enumerable.Range(0, 2 * _layers)
        .Select(_ => OrtValue.CreateTensorValueFromMemory(Array.Empty<float>(), [1, _kv, 0, _d])).ToArray();

    /// <summary>Forgets the sequence.</summary>
    public void Reset()
    {
        ReleaseCache();
        _past = EmptyPast();
        Length = 0;
    }

    /// <summary>
    /// Appends <paramref name="tokens"/> and returns the logits of every one of them (n, V). With
    /// <paramref name="bidirectional"/> they are the GLM prefix: they see each other (and the cache).
    /// </summary>
    public float[] Prefill(ReadOnlySpan<int> tokens, bool bidirectional = false)
    {
        if (tokens.Length == 0) throw new ArgumentException("empty prompt: prefill needs at least one token");
        return Run(tokens, bidirectional);
    }

    /// <summary>One token; its logits (V).</summary>
    public float[] Decode(int token) => Run([token], false);

    float[] Run(ReadOnlySpan<int> tokens, bool bidirectional)
    {
        int n = tokens.Length, past = Length, total = past + n;
        if (total > _maxPositions)
            throw new InvalidOperationException($"{total} tokens exceed max_position_embeddings = {_maxPositions} (the rotary tables of the graph)");
        var ids = new long[n];
        var pos = new long[n];
        for (int i = 0; i < n; i++) { ids[i] = tokens[i]; pos[i] = past + i; }
        // Query i (at position past + i) sees key j iff j ≤ past + i, or the whole new block when it is a prefix.
        var bias = new float[n * total];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < total; j++) bias[i * total + j] = j <= past + i || bidirectional ? 0f : Hidden;
        using var idsValue = OrtValue.CreateTensorValueFromMemory(ids, [1, n]);
        using var posValue = OrtValue.CreateTensorValueFromMemory(pos, [1, n]);
        using var biasValue = OrtValue.CreateTensorValueFromMemory(bias, [1, 1, n, total]);
        OrtValue[] inputs = [idsValue, posValue, biasValue, .. _past];
        var outputs = _session.Run(_run, _inputNames, inputs, _outputNames);
        var logits = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        ReleaseCache();
        _lastOutputs = outputs;
        _past = outputs.Skip(1).ToArray();
        Length = total;
        return logits;
    }

    /// <summary>Disposes the previous step's outputs (the past K/V this step no longer needs).</summary>
    void ReleaseCache()
    {
        if (_lastOutputs is null) foreach (var v in _past) v.Dispose();
        else _lastOutputs.Dispose();
        _lastOutputs = null;
    }

    public void Dispose()
    {
        ReleaseCache();
        _past = [];
        _run.Dispose();
        _session.Dispose();
    }
}
