// A bos/eos/pad token id as a config.json writes it: one integer, or a list of them, kept in that form.
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LightGlm.Model;

/// <summary>
/// The ids of one special token field. Hugging Face writes some as lists ("eos_token_id": [151645, 151643]); generation
/// stops on any eos id (GenerationOptions.EosOf), a place with room for one id (GGUF, tokenizer_config.json) takes
/// <see cref="First"/>, and a saved or exported config writes the field back as it was read: a number stays a number,
/// a list stays the whole list (even of one id).
/// </summary>
[JsonConverter(typeof(Converter))]
public sealed record TokenIds(IReadOnlyList<int> Ids, bool IsList)
{
    /// <summary>The id the engine uses; null for an empty list.</summary>
    public int? First => Ids.Count > 0 ? Ids[0] : null;

    /// <summary>One id written as a number; null stays null (the field is absent).</summary>
    public static TokenIds? One(int? id) => id is { } v ? new([v], false) : null;

    /// <summary>The same form with every id mapped (a vocabulary pruned and renumbered).</summary>
    public TokenIds Map(Func<int, int> map) => this with { Ids = Ids.Select(map).ToArray() };

    sealed class Converter : JsonConverter<TokenIds>
    {
        public override TokenIds Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType == JsonTokenType.Number) return new([reader.GetInt32()], false);
            if (reader.TokenType != JsonTokenType.StartArray)
                throw new JsonException($"expected a token id (integer or list of integers), got {reader.TokenType}");
            var ids = new List<int>();
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                ids.Add(reader.TokenType == JsonTokenType.Number ? reader.GetInt32()
                    : throw new JsonException($"expected a list of integer token ids, found {reader.TokenType} in it"));
            return new(ids, true);
        }

        public override void Write(Utf8JsonWriter writer, TokenIds value, JsonSerializerOptions options)
        {
            if (!value.IsList && value.Ids.Count == 1) { writer.WriteNumberValue(value.Ids[0]); return; }
            writer.WriteStartArray();
            foreach (int id in value.Ids) writer.WriteNumberValue(id);
            writer.WriteEndArray();
        }
    }
}
