// A pruning plan: which teacher layers, heads, KV groups, head-dim channels, FFN neurons and hidden channels survive.
using System.Text.Json;
using System.Text.Json.Serialization;
using LightGlm.IO;

namespace LightGlm.Compression.Pruning;

/// <summary>
/// All indices are the teacher's. Counts that the config makes global (H', KV', D', F', C') must be equal across kept
/// layers; which indices survive may differ per layer. Null means "keep all". The order of a list is the student's order.
/// </summary>
public sealed class PruningPlan
{
    /// <summary>Teacher layers kept, ascending (depth pruning).</summary>
    public List<int>? Layers { get; set; }

    /// <summary>Hidden (residual stream) channels kept, shared by every layer (width pruning of C).</summary>
    public List<int>? HiddenChannels { get; set; }

    /// <summary>One entry per kept layer (same order as <see cref="Layers"/>), or null to keep every head/channel/neuron.</summary>
    public List<LayerPlan>? LayerPlans { get; set; }

    /// <summary>
    /// Rotary pairs may be dropped only as a stride set {0, s, 2s, ...} (then the student's inv_freq equal the kept
    /// pairs' teacher frequencies exactly). Set true to allow any pairs, accepting that their frequencies are remapped.
    /// </summary>
    public bool AllowRopeFrequencyChange { get; set; }

    /// <summary>Free text: how the plan was made (importance, targets), written by the plan builder.</summary>
    public string? Note { get; set; }

    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    public static PruningPlan Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: pruning plan not found", path);
        try { return JsonSerializer.Deserialize<PruningPlan>(File.ReadAllText(path), JsonOptions) ?? throw new InvalidDataException($"{path}: plan is null"); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a valid pruning plan: {e.Message}", e); }
    }

    public void Save(string path) => AtomicFile.WriteAllText(path, JsonSerializer.Serialize(this, JsonOptions));
}

/// <summary>What survives inside one kept layer.</summary>
public sealed class LayerPlan
{
    /// <summary>KV heads (groups) kept, in student order.</summary>
    public List<int>? KvHeads { get; set; }

    /// <summary>Query heads kept, each inside a kept KV group; listed group by group in <see cref="KvHeads"/> order, the same count per group.</summary>
    public List<int>? Heads { get; set; }

    /// <summary>Per kept KV group: the head-dim channels of q and k kept, in student order (rotary pairs first, see docs/COMPRESSION.md).</summary>
    public List<List<int>>? QkChannels { get; set; }

    /// <summary>Per kept KV group: the head-dim channels of v (and so of o_proj's input per head) kept.</summary>
    public List<List<int>>? VChannels { get; set; }

    /// <summary>FFN neurons kept (rows of gate/up, columns of down).</summary>
    public List<int>? FfnNeurons { get; set; }
}
