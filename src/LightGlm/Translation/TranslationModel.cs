// Opens a model directory for translation: config.json + model.safetensors, and its tokenizer.
using LightGlm.Model;
using LightGlm.Model.Checkpoints;
using LightGlm.Text.Tokenizers;

namespace LightGlm.Translation;

public static class TranslationModel
{
    /// <summary>Loads the model and picks its tokenizer: its tokenizer.json, or without one the byte tokenizer (UTF-8
    /// bytes + the six specials, 262 ids). Either must have every special token the task needs.</summary>
    public static (GlmModel Model, ITokenizer Tokenizer) Load(string dir)
    {
        var model = ModelDirectory.Load(dir);
        if (ModelDirectory.TokenizerPath(dir) is { } tj)
        {
            var bpe = HfTokenizer.Create(tj);
            SpecialTokens.From(bpe); // names any special token the task needs and the tokenizer lacks
            if (model.Config.VocabSize < bpe.VocabSize)
                throw new InvalidDataException($"{dir}: vocab_size {model.Config.VocabSize} is smaller than {tj}'s {bpe.VocabSize} ids");
            return (model, bpe);
        }
        var tok = ByteTokenizer.Instance;
        if (model.Config.VocabSize < tok.VocabSize)
            throw new InvalidDataException($"{dir}: vocab_size {model.Config.VocabSize} is smaller than the byte tokenizer's {tok.VocabSize} ids");
        return (model, tok);
    }
}
