// The tokenizer of a model directory, found the one way every command finds it: tokenizer.json (ours or Hugging
// Face's), else tokenizer.model (a SentencePiece ModelProto: ChatGLM2/3, LLaMA-2), else the byte tokenizer when the
// vocabulary is the byte tokenizer's. generate, translate, eval, serve and the benches all open models through this.
using LightGlm.Text.Tokenizers.SentencePiece;

namespace LightGlm.Text.Tokenizers;

public static class ModelTokenizer
{
    /// <summary>
    /// The tokenizer that belongs to the model in <paramref name="dir"/> (vocabulary <paramref name="vocabSize"/>);
    /// names the directory and what to do when none fits.
    /// </summary>
    public static ITokenizer Open(string dir, int vocabSize)
    {
        string json = Path.Combine(dir, "tokenizer.json"), model = Path.Combine(dir, "tokenizer.model");
        ITokenizer tok;
        string what;
        if (File.Exists(json)) (tok, what) = (HfTokenizer.Create(json), json);
        else if (File.Exists(model))
        {
            if (!IsSentencePiece(model))
                throw new InvalidDataException($"{model} is not a SentencePiece model (GLM-4's tokenizer.model holds tiktoken ranks, which need " +
                    "the pattern and special tokens of tokenizer_config.json): add the model's tokenizer.json beside it");
            (tok, what) = (SentencePieceTokenizer.Create(model), model);
        }
        else if (ByteTokenizer.Fits(vocabSize)) return ByteTokenizer.Instance;
        else throw new InvalidDataException($"{dir}: no tokenizer.json or tokenizer.model, and vocab_size = {vocabSize} is not the byte tokenizer's " +
            $"{ByteTokenizer.Size} (or {ByteTokenizer.LegacyGenerationSize} for older byte models): add the model's tokenizer.json");
        if (tok.VocabSize > vocabSize)
            throw new InvalidDataException($"{what} has {tok.VocabSize} ids but the model's vocab_size is {vocabSize}: they do not belong together");
        return tok;
    }

    /// <summary>A serialized ModelProto starts with field 1 (its pieces), tag 0x0A; tiktoken ranks (GLM-4) start with base64 text.</summary>
    public static bool IsSentencePiece(string path)
    {
        using var fs = File.OpenRead(path);
        return fs.ReadByte() == 0x0A;
    }
}
