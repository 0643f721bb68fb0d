// tokenizer.json errors name the file, the field, what was expected and what was found (issue 18, class 3) — never
// .NET's "the given key was not present" — and a file with duplicate ids or a dropout outside [0, 1] is refused.
using System.Text;
using System.Text.Json.Nodes;
using LightGlm.Text.Tokenizers;

namespace LightGlm.Tests.Text.Tokenizers;

public sealed class TokenizerJsonErrorTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("lightglm-tokerr-").FullName;
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    const string Valid = """
        {"model": {"type": "BPE", "dropout": null, "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]},
         "added_tokens": [{"id": 3, "content": "<eos>", "special": true}],
         "decoder": {"type": "Strip", "content": " ", "start": 1, "stop": 0}}
        """;

    string Write(Action<JsonObject> change)
    {
        var j = JsonNode.Parse(Valid)!.AsObject();
        change(j);
        var path = Path.Combine(_dir, "tokenizer.json");
        File.WriteAllText(path, j.ToJsonString());
        return path;
    }

    static JsonObject Model(JsonObject j) => j["model"]!.AsObject();

    public static TheoryData<string, string> Cases() => new()
    {
        { "nomodel", "field 'model' is missing" },
        { "model-array", "model must be an object, found an array" },
        { "vocab-string-id", "model.vocab['b'] must be a 32-bit integer, found a string \"1\"" },
        { "vocab-array", "model.vocab must be an object, found an array" },
        { "merges-object", "model.merges must be an array, found an object" },
        { "added-id-string", "added_tokens[0].id must be a 32-bit integer, found a string \"3\"" },
        { "added-special-yes", "added_tokens[0].special must be true or false, found a string \"yes\"" },
        { "added-not-object", "added_tokens[0] must be an object, found the number 5" },
        { "strip-start-string", "decoder Strip.start must be a 32-bit integer, found a string \"1\"" },
        { "decoder-no-type", "field 'type' is missing" },
        { "dup-id", "model.vocab gives id 1 to two tokens, 'b' and 'c'" },
        { "added-takes-id", "added_tokens[0] '<eos>' has id 2, which is already token 'ab'" },
        { "dropout-high", "model.dropout must be null or a number in [0, 1], found the number 1.5" },
        { "dropout-negative", "model.dropout must be null or a number in [0, 1], found the number -0.1" },
        { "dropout-string", "model.dropout must be null or a number in [0, 1], found a string" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ABadFieldIsNamedWithWhatWasExpectedAndFound(string name, string expected)
    {
        var path = Write(j =>
        {
            switch (name)
            {
                case "nomodel": j.Remove("model"); break;
                case "model-array": j["model"] = new JsonArray(); break;
                case "vocab-string-id": Model(j)["vocab"]!["b"] = "1"; break;
                case "vocab-array": Model(j)["vocab"] = new JsonArray(); break;
                case "merges-object": Model(j)["merges"] = new JsonObject(); break;
                case "added-id-string": j["added_tokens"]![0]!["id"] = "3"; break;
                case "added-special-yes": j["added_tokens"]![0]!["special"] = "yes"; break;
                case "added-not-object": j["added_tokens"]![0] = 5; break;
                case "strip-start-string": j["decoder"]!["start"] = "1"; break;
                case "decoder-no-type": j["decoder"]!.AsObject().Remove("type"); break;
                case "dup-id": Model(j)["vocab"]!["c"] = 1; break;
                case "added-takes-id": j["added_tokens"]![0]!["id"] = 2; break;
                case "dropout-high": Model(j)["dropout"] = 1.5; break;
                case "dropout-negative": Model(j)["dropout"] = -0.1; break;
                case "dropout-string": Model(j)["dropout"] = "0.1"; break;
            }
        });
        var e = Assert.Throws<InvalidDataException>(() => HfTokenizer.Create(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain("given key", e.Message);
        Assert.DoesNotContain("requires an element", e.Message);
    }

    [Fact]
    public void ATokenListedTwiceInTheVocabularyIsRefused()
    {
        var path = Path.Combine(_dir, "tokenizer.json");
        File.WriteAllText(path, """{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "a": 2}, "merges": []}}""");
        Assert.Contains("model.vocab lists token 'a' twice (ids 0 and 2)", Assert.Throws<InvalidDataException>(() => HfTokenizer.Create(path)).Message);
    }

    [Fact]
    public void TheValidFileAndAnAddedTokenRestatingTheVocabularyLoad()
    {
        Assert.Equal(4, HfTokenizer.Create(Write(_ => { })).VocabSize);
        var tok = HfTokenizer.Create(Write(j => { j["added_tokens"]![0]!["id"] = 2; j["added_tokens"]![0]!["content"] = "ab"; Model(j)["dropout"] = 0.0; }));
        Assert.Equal(3, tok.VocabSize);
    }
}
