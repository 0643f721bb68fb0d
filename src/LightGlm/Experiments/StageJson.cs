// The one way stage results are written to and read from stages/NAME.done.json: System.Text.Json with snake_case
// names (the names the files have always used), and reading that tolerates files from older builds.
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace LightGlm.Experiments;

/// <summary>A stage's result type, tied to the stage whose marker holds it (read with <see cref="RunDirectory.Result{T}()"/>).</summary>
public interface IStageResult
{
    static abstract string Stage { get; }
}

/// <summary>What the runner adds to every stage's result: its wall and CPU time, and the run it was taken over from (read alone
/// as a StageResult for any stage).</summary>
public record StageResult
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? WallSeconds { get; init; }
    /// <summary>The process's CPU seconds while the stage ran (the runner writes it last, over a stage's own value).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? CpuSeconds { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? SharedFrom { get; init; }
}

public static class StageJson
{
    /// <summary>snake_case names; a `required` member is required of the code that makes a result (the compiler checks
    /// it) but not of a file: a run started by an older build lacks the fields added since, and reads them as null/0.</summary>
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null, // model names and directions are keys as they are ("teacher-hybrid", "en-zh")
        WriteIndented = true,
        TypeInfoResolver = new DefaultJsonTypeInfoResolver
        {
            Modifiers = { info => { foreach (var p in info.Properties) p.IsRequired = false; } },
        },
    };

    public static JsonObject ToJson<T>(T value) => JsonSerializer.SerializeToNode(value, Options)!.AsObject();

    /// <summary>Sets the runner's fields (those not null) on a stage's result, whatever its type; returns the result.</summary>
    public static JsonObject Merge(JsonObject result, StageResult runner)
    {
        foreach (var (key, value) in ToJson(runner)) result[key] = value?.DeepClone();
        return result;
    }

    /// <summary>Any part of a result (a curve, a list) as a JSON node, null as null.</summary>
    public static JsonNode? ToNode<T>(T value) => value is null ? null : JsonSerializer.SerializeToNode(value, Options);

    /// <summary>The result of <paramref name="what"/> (a stage marker's name, for the message) as <typeparamref name="T"/>.</summary>
    public static T Read<T>(JsonNode node, string what)
    {
        try { return node.Deserialize<T>(Options) ?? throw new InvalidDataException($"{what}: the result is null"); }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{what}: the stage result does not read as {typeof(T).Name} ({e.Message}); " +
                                           "run that stage again with --redo STAGE", e);
        }
    }
}
