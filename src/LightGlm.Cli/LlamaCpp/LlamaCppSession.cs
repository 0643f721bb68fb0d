// llama.cpp (through LLamaSharp's low-level API) as a peer on a GGUF file we wrote: token ids in, logits out — no text,
// no sampler — so its numbers and greedy tokens compare with our engine's on the very same weights.
using LLama;
using LLama.Common;
using LLama.Native;

namespace LightGlm.Cli.LlamaCpp;

/// <summary>One llama.cpp model + context, one sequence fed causally from position 0 (as our SequenceDecoder).</summary>
public sealed class LlamaCppSession : LightGlm.Model.Inference.ICausalDecoder, IDisposable
{
    readonly LLamaWeights _weights;
    readonly LLamaContext _context;
    readonly LLamaBatch _batch = new();
    readonly float[] _logits;

    /// <summary>Tokens fed since the last <see cref="Reset"/>.</summary>
    public int Length { get; private set; }
    public int MaxTokens { get; }
    public int VocabSize => _logits.Length;

    /// <summary>
    /// Loads <paramref name="ggufPath"/> on the CPU with room for <paramref name="maxTokens"/> positions, all of them in one
    /// batch (prefill is one llama_decode), on <paramref name="threads"/> threads for prefill and decode alike.
    /// <paramref name="fp32Cache"/>: K/V cache in f32 and no flash attention (parity tests: llama.cpp's default f16 cache
    /// rounds every key and value to 11 bits); otherwise llama.cpp's defaults (f16 cache, flash attention auto).
    /// </summary>
    public LlamaCppSession(string ggufPath, int maxTokens, int threads, bool fp32Cache = false)
    {
        Quiet();
        MaxTokens = maxTokens;
        var p = new ModelParams(ggufPath)
        {
            ContextSize = (uint)maxTokens,
            BatchSize = (uint)maxTokens,
            UBatchSize = (uint)maxTokens,
            Threads = threads,
            BatchThreads = threads,
            GpuLayerCount = 0,
        };
        if (fp32Cache)
        {
            p.TypeK = GGMLType.GGML_TYPE_F32;
            p.TypeV = GGMLType.GGML_TYPE_F32;
            p.FlashAttention = false;
        }
        _weights = LLamaWeights.LoadFromFile(p);
        try { _context = _weights.CreateContext(p); }
        catch { _weights.Dispose(); throw; }
        _logits = new float[_context.Vocab.Count];
    }

    /// <summary>Discards llama.cpp's log lines except errors (its load log is hundreds of lines per model).</summary>
    static void Quiet()
    {
        NativeLogConfig.llama_log_set((level, message) =>
        {
            if (level == LLamaLogLevel.Error) Console.Error.Write("llama.cpp: " + message);
        });
    }

    public void Reset()
    {
        _context.NativeHandle.MemoryClear(true);
        Length = 0;
    }

    /// <summary>Appends <paramref name="tokens"/> in one llama_decode; returns the last token's logits (a view until the next call).</summary>
    public ReadOnlySpan<float> Forward(scoped ReadOnlySpan<int> tokens) => Forward(tokens, null);

    /// <summary>As <see cref="Forward(ReadOnlySpan{int})"/>; with <paramref name="every"/> (tokens × V) it also receives every position's logits.</summary>
    public ReadOnlySpan<float> Forward(scoped ReadOnlySpan<int> tokens, float[][]? every)
    {
        if (tokens.Length == 0) throw new ArgumentException("no tokens to feed");
        if (Length + tokens.Length > MaxTokens) throw new ArgumentException($"{tokens.Length} tokens after {Length} exceed the context's {MaxTokens} positions");
        _batch.Clear();
        for (int i = 0; i < tokens.Length; i++)
            _batch.Add(tokens[i], Length + i, LLamaSeqId.Zero, every is not null || i == tokens.Length - 1);
        var result = _context.NativeHandle.Decode(_batch);
        if (result != DecodeResult.Ok) throw new InvalidOperationException($"llama_decode failed: {result} ({tokens.Length} tokens after {Length})");
        if (every is not null)
            for (int i = 0; i < tokens.Length; i++) every[i] = _context.NativeHandle.GetLogitsIth(i).ToArray();
        _context.NativeHandle.GetLogitsIth(tokens.Length - 1).CopyTo(_logits);
        Length += tokens.Length;
        return _logits;
    }

    public void Dispose()
    {
        _context.Dispose();
        _weights.Dispose();
    }
}
