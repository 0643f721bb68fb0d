// Writes a byte-level BPE tokenizer.json (Split regex + ByteLevel pre-tokenizer, ByteLevel decoder, BPE model), the
// one format both of our producers write: BpeTrainer (our vocabularies) and TiktokenConverter (tiktoken's ranks).
using System.Text.Json;

namespace LightGlm.Text.Tokenizers;

public static class ByteLevelBpeJson
{
    /// <summary>A token's bytes as the ByteLevel alphabet's characters (the vocabulary's and merges' strings).</summary>
    public static string Str(byte[] bytes) => new(bytes.Select(b => ByteLevel.ByteToChar[b]).ToArray());

    /// <param name="vocab">Tokens in id order, ids from <paramref name="firstId"/>.</param>
    /// <param name="merges">Pairs of vocabulary strings, highest priority first.</param>
    /// <param name="addedTokens">Special tokens (content, id), written as added_tokens.</param>
    /// <param name="ignoreMerges">A pre-token found whole in the vocabulary is one id without merging (tiktoken's rule).</param>
    public static void Write(Stream output, IReadOnlyList<string> vocab, int firstId, IEnumerable<(string L, string R)> merges,
        IEnumerable<(string Content, int Id)> addedTokens, string pattern, bool ignoreMerges)
    {
        using var w = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        w.WriteStartObject();
        w.WriteString("version", "1.0");
        w.WriteNull("truncation");
        w.WriteNull("padding");
        w.WriteStartArray("added_tokens");
        foreach (var (content, id) in addedTokens)
        {
            w.WriteStartObject();
            w.WriteNumber("id", id);
            w.WriteString("content", content);
            w.WriteBoolean("single_word", false); w.WriteBoolean("lstrip", false); w.WriteBoolean("rstrip", false);
            w.WriteBoolean("normalized", false); w.WriteBoolean("special", true);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteNull("normalizer");
        w.WritePropertyName("pre_tokenizer");
        w.WriteRawValue("""{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":""" + JsonSerializer.Serialize(pattern)
            + """},"behavior":"Isolated","invert":false},{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":false,"use_regex":false}]}""");
        w.WriteNull("post_processor");
        w.WritePropertyName("decoder");
        w.WriteRawValue("""{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":false,"use_regex":false}""");
        w.WriteStartObject("model");
        w.WriteString("type", "BPE");
        w.WriteNull("dropout");
        w.WriteNull("unk_token");
        w.WriteString("continuing_subword_prefix", "");
        w.WriteString("end_of_word_suffix", "");
        w.WriteBoolean("fuse_unk", false);
        w.WriteBoolean("byte_fallback", false);
        w.WriteBoolean("ignore_merges", ignoreMerges);
        w.WriteStartObject("vocab");
        for (int i = 0; i < vocab.Count; i++) w.WriteNumber(vocab[i], firstId + i);
        w.WriteEndObject();
        w.WriteStartArray("merges");
        foreach (var (l, r) in merges) w.WriteStringValue(l + " " + r);
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
