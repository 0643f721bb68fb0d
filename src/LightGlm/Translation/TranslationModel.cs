// Opens a model directory for translation: its weights (loaded, or memory-mapped when large, 16-bit or Hugging Face's)
// and its tokenizer.
using LightGlm.Interop;
using LightGlm.Interop.Inference;
using LightGlm.Model;
using LightGlm.Model.Checkpoints;
using LightGlm.Model.Inference;
using LightGlm.Text.Tokenizers;

namespace LightGlm.Translation;

/// <summary>A model opened for inference: its weights, its tokenizer, and what must stay open while they are used.</summary>
public sealed class OpenedModel(InferenceWeights weights, ITokenizer tokenizer, IDisposable? mapping) : IDisposable
{
    public InferenceWeights Weights { get; } = weights;
    public ITokenizer Tokenizer { get; } = tokenizer;
    /// <summary>True when the weights are read from files kept open (memory-mapped) rather than loaded whole.</summary>
    public bool Mapped => mapping is not null;
    public void Dispose() => mapping?.Dispose();
}

public static class TranslationModel
{
    /// <summary>Loads the model and picks its tokenizer: its tokenizer.json, or without one the byte tokenizer (UTF-8
    /// bytes + the six specials, 262 ids). Either must have every special token the task needs.</summary>
    public static (GlmModel Model, ITokenizer Tokenizer) Load(string dir)
    {
        var model = ModelDirectory.Load(dir);
        return (model, Tokenizer(dir, model.Config));
    }

    /// <summary>
    /// Any model directory the project writes or imports, for inference: a LightGlm directory with fp32 weights is loaded
    /// into the engine's arena; a Hugging Face directory, shards, bf16/fp16 weights or a model above 500M parameters is
    /// memory-mapped in place (<see cref="MappedWeights.ShouldMap"/>); a quantized checkpoint (`import|export --quantize`) is
    /// read as its int8/int4 projections (<see cref="QuantizedCheckpointWeights"/>); a .gguf file (ours: export --format gguf) is read
    /// with its Q8_0/Q4_0 tensors as our int8/int4 weights. The same forward pass runs over each.
    /// </summary>
    public static OpenedModel Open(string dir)
    {
        if (File.Exists(dir) && dir.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
        {
            // A GGUF file (export --format gguf): its quantized or f16/f32 tensors as they are, our tokenizer from its metadata.
            var file = Interop.Gguf.GgufFile.Read(dir); // header and metadata read once: weights and tokenizer
            var gguf = Interop.Gguf.GgufInferenceWeights.Open(file);
            ITokenizer tok = Interop.Gguf.GgufInferenceWeights.TokenizerJson(file) is { } json
                ? Checked(HfTokenizer.Create(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json))), gguf.Config, dir, "its tokenizer.json")
                : Checked(ByteTokenizer.Instance, gguf.Config, dir, "the byte tokenizer");
            return new OpenedModel(gguf, tok, null);
        }
        var (weights, owner) = OpenWeights(dir);
        try { return new OpenedModel(weights, Tokenizer(dir, weights.Config), owner); }
        catch { owner?.Dispose(); throw; }
    }

    /// <summary>
    /// True when <paramref name="dir"/> is a small fp32 LightGlm model that loads whole into the engine's arena; false for a
    /// quantized checkpoint or one to use mapped (16-bit, sharded, Hugging Face, &gt; 500M parameters: <see cref="MappedWeights.ShouldMap"/>),
    /// which commands run from where it lies (inference, a streamed distillation teacher, a frozen LoRA base).
    /// </summary>
    public static bool LoadsWhole(string dir) => !QuantizedCheckpoint.Is(dir) && !MappedWeights.ShouldMap(dir);

    /// <summary>
    /// The weights of a model directory, as <see cref="Open"/> reads them (without a tokenizer, for generate and the
    /// benches): a quantized checkpoint (`import|export --quantize`) as its int8/int4 projections, else the fp32 arena or
    /// the memory-mapped checkpoint. Owner (when not null) must stay open while the weights are used.
    /// </summary>
    public static (InferenceWeights Weights, IDisposable? Owner) OpenWeights(string dir)
    {
        if (LoadsWhole(dir)) return (InferenceWeights.Fp32(ModelDirectory.Load(dir)), null);
        if (QuantizedCheckpoint.Is(dir))
        {
            var q = QuantizedCheckpointWeights.Open(dir);
            return (q, q);
        }
        var mapped = MappedWeights.Open(dir);
        try { return (MappedInferenceWeights.Create(mapped), mapped); }
        catch { mapped.Dispose(); throw; }
    }

    /// <summary>The tokenizer, once it has every special token the task needs and fits the model's vocabulary.</summary>
    static ITokenizer Checked(ITokenizer tok, ModelConfig config, string source, string what)
    {
        SpecialTokens.From(tok); // names any special token the task needs and the tokenizer lacks
        if (config.VocabSize < tok.VocabSize)
            throw new InvalidDataException($"{source}: vocab_size {config.VocabSize} is smaller than {what}'s {tok.VocabSize} ids");
        return tok;
    }

    static ITokenizer Tokenizer(string dir, ModelConfig config) => Checked(ModelTokenizer.Open(dir, config.VocabSize), config, dir, "its tokenizer");
}
