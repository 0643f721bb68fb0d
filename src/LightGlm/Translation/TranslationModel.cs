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
    /// <summary>True when the weights are memory-mapped in their stored dtype rather than loaded into the fp32 arena.</summary>
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
    /// memory-mapped in place (<see cref="MappedWeights.ShouldMap"/>); a .gguf file (ours: export --format gguf) is read
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
        if (!MappedWeights.ShouldMap(dir))
        {
            var (model, tok) = Load(dir);
            return new OpenedModel(InferenceWeights.Fp32(model), tok, null);
        }
        var mapped = MappedWeights.Open(dir);
        try
        {
            var weights = MappedInferenceWeights.Create(mapped);
            return new OpenedModel(weights, Tokenizer(dir, weights.Config), mapped);
        }
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

    static ITokenizer Tokenizer(string dir, ModelConfig config) =>
        ModelDirectory.TokenizerPath(dir) is { } tj ? Checked(HfTokenizer.Create(tj), config, dir, tj)
            : Checked(ByteTokenizer.Instance, config, dir, "the byte tokenizer");
}
