// A recipe: every setting of a run, as one JSON tree. Presets are overlays on defaults.json;
// a user's JSON or YAML file overlays a preset. Unknown keys and wrong kinds are errors, all reported together;
// Settings binds the tree to typed records and checks the values (RecipeSettings).
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.Serialization;
using LightGlm.IO;

namespace LightGlm.Experiments.Recipes;

public sealed class Recipe
{
    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public JsonObject Root { get; }

    Recipe(JsonObject root) => Root = root;

    public static IReadOnlyList<string> PresetNames =>
        typeof(Recipe).Assembly.GetManifestResourceNames()
            .Where(n => n.Contains(".Presets.", StringComparison.Ordinal) && !n.EndsWith("defaults.json", StringComparison.Ordinal))
            .Select(n => n.Split('.')[^2]).Order(StringComparer.Ordinal).ToArray();

    /// <summary>Loads a preset by name (e.g. "quick", "paper") or a JSON/YAML file whose settings overlay a preset.</summary>
    public static Recipe Load(string nameOrPath)
    {
        var defaults = (JsonObject)JsonNode.Parse(ReadResource("defaults.json"))!;
        if (PresetNames.Contains(nameOrPath))
            return new Recipe(Overlay(defaults, ParseObject(ReadResource(nameOrPath + ".json"), $"preset '{nameOrPath}'"), nameOrPath));
        if (!File.Exists(nameOrPath))
            throw new FileNotFoundException($"recipe '{nameOrPath}' is neither a preset ({string.Join(", ", PresetNames)}) nor an existing file");
        string text = File.ReadAllText(nameOrPath);
        string ext = Path.GetExtension(nameOrPath).ToLowerInvariant();
        JsonObject user = ext is ".yaml" or ".yml" ? YamlToJson(text, nameOrPath) : ParseObject(text, nameOrPath);
        // A file may name the preset it builds on: { "base": "paper", ... }.
        string basePreset = (string?)user["base"] ?? "quick";
        if (!PresetNames.Contains(basePreset))
            throw new InvalidDataException($"{nameOrPath}: \"base\": \"{basePreset}\" is not a preset ({string.Join(", ", PresetNames)})");
        user.Remove("base");
        var baseRecipe = Overlay(defaults, ParseObject(ReadResource(basePreset + ".json"), basePreset), basePreset);
        return new Recipe(Overlay(baseRecipe, user, nameOrPath));
    }

    public static Recipe FromJson(string json) =>
        new(Overlay((JsonObject)JsonNode.Parse(ReadResource("defaults.json"))!, ParseObject(json, "recipe"), "recipe"));

    public string Name => Get<string>("name");

    RecipeSettings? _settings;

    /// <summary>Every setting, typed and checked: kinds, ranges, choices and the rules between settings. Throws once with
    /// every problem listed (a run checks this before its first stage, so no bad value waits hours for its stage).</summary>
    public RecipeSettings Settings
    {
        get
        {
            if (_settings is not null) return _settings;
            var (settings, problems) = RecipeSettings.Bind(Root);
            if (problems.Count > 0)
                throw new InvalidDataException($"recipe {Root["name"]?.ToJsonString()}: {problems.Count} problem(s):\n  " + string.Join("\n  ", problems));
            return _settings = settings;
        }
    }

    /// <summary>The problems <see cref="Settings"/> would report; empty when the recipe can run.</summary>
    public IReadOnlyList<string> Problems() => RecipeSettings.Bind(Root).Problems;

    /// <summary>One setting by its path in the tree ("teacher.seq_len"), for tools and tests that address settings by name;
    /// the stages read <see cref="Settings"/>.</summary>
    public T Get<T>(string path)
    {
        var node = Find(path) ?? throw new KeyNotFoundException($"recipe has no setting '{path}'");
        try { return node.GetValue<T>(); }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            try { return node.Deserialize<T>()!; }
            catch (JsonException) { throw new InvalidDataException($"recipe setting '{path}' = {node.ToJsonString()} is not a {typeof(T).Name}"); }
        }
    }

    public T? GetOrDefault<T>(string path, T? fallback = default) => Find(path) is { } n && n.GetValueKind() != JsonValueKind.Null ? Get<T>(path) : fallback;

    public JsonNode? Find(string path)
    {
        JsonNode? cur = Root;
        foreach (var part in path.Split('.'))
        {
            if (cur is not JsonObject o || !o.TryGetPropertyValue(part, out cur)) return null;
        }
        return cur;
    }

    /// <summary>A copy with one setting replaced; the value is parsed as JSON when it can be, else taken as a string.</summary>
    public Recipe With(string path, string value)
    {
        var copy = (JsonObject)Root.DeepClone();
        var parts = path.Split('.');
        JsonObject cur = copy;
        foreach (var part in parts[..^1])
            cur = cur[part] as JsonObject ?? throw new InvalidDataException($"recipe setting '{path}': '{part}' is not a section");
        if (!cur.ContainsKey(parts[^1]))
            throw new InvalidDataException($"recipe has no setting '{path}'; settings here are: {string.Join(", ", cur.Select(kv => kv.Key))}");
        JsonNode? parsed;
        try { parsed = JsonNode.Parse(value); }
        catch (JsonException) { parsed = JsonValue.Create(value); }
        var old = cur[parts[^1]];
        if (old is not null && parsed is not null && !KindsCompatible(old.GetValueKind(), parsed.GetValueKind()))
            throw new InvalidDataException($"recipe setting '{path}': {value} is a {parsed.GetValueKind()}, expected a {old.GetValueKind()} like {old.ToJsonString()}");
        cur[parts[^1]] = parsed;
        return new Recipe(copy);
    }

    public string ToJson() => Root.ToJsonString(Indented);

    public void Save(string path) => AtomicFile.WriteAllText(path, ToJson() + "\n");

    /// <summary>Overlays <paramref name="over"/> on a copy of <paramref name="under"/>, rejecting keys the defaults do not have.</summary>
    static JsonObject Overlay(JsonObject under, JsonObject over, string source)
    {
        var result = (JsonObject)under.DeepClone();
        var errors = new List<string>();
        Merge(result, over, "", errors);
        if (errors.Count > 0)
            throw new InvalidDataException($"{source}: {errors.Count} problem(s):\n  " + string.Join("\n  ", errors));
        return result;
    }

    static void Merge(JsonObject target, JsonObject over, string prefix, List<string> errors)
    {
        foreach (var (key, value) in over)
        {
            string path = prefix + key;
            if (!target.TryGetPropertyValue(key, out var existing))
            {
                errors.Add($"unknown setting '{path}' (known here: {string.Join(", ", target.Select(kv => kv.Key))})");
                continue;
            }
            if (existing is JsonObject eo && value is JsonObject vo) { Merge(eo, vo, path + ".", errors); continue; }
            if (existing is not null && value is not null && !KindsCompatible(existing.GetValueKind(), value.GetValueKind()))
            {
                errors.Add($"'{path}' = {value.ToJsonString()}: expected a {existing.GetValueKind()} like {existing.ToJsonString()}");
                continue;
            }
            target[key] = value?.DeepClone();
        }
    }

    static bool KindsCompatible(JsonValueKind a, JsonValueKind b) =>
        a == b || a == JsonValueKind.Null || b == JsonValueKind.Null ||
        (a is JsonValueKind.True or JsonValueKind.False && b is JsonValueKind.True or JsonValueKind.False);

    static JsonObject ParseObject(string text, string source)
    {
        try
        {
            var o = JsonNode.Parse(text, documentOptions: new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }) as JsonObject
                    ?? throw new InvalidDataException($"{source}: a recipe must be a JSON object");
            Walk(o); // JsonObject finds duplicate keys lazily: find them here, at the boundary
            return o;
        }
        catch (JsonException e) { throw new InvalidDataException($"{source}: not valid JSON: {e.Message}"); }
        catch (ArgumentException e) { throw new InvalidDataException($"{source}: {e.Message.Replace(" (Parameter 'key')", "")} (a setting appears twice)"); }

        static void Walk(JsonNode? n)
        {
            if (n is JsonObject o) foreach (var kv in o) Walk(kv.Value);
            else if (n is JsonArray a) foreach (var x in a) Walk(x);
        }
    }

    static JsonObject YamlToJson(string yaml, string source)
    {
        object? graph;
        try { graph = new DeserializerBuilder().Build().Deserialize<object>(yaml); }
        catch (YamlDotNet.Core.YamlException e) { throw new InvalidDataException($"{source}: not valid YAML at line {e.Start.Line}: {e.Message}"); }
        return ToNode(graph) as JsonObject ?? throw new InvalidDataException($"{source}: a recipe must be a mapping at the top level");
    }

    /// <summary>YAML scalars arrive as strings; numbers and booleans are recognised here.</summary>
    static JsonNode? ToNode(object? o) => o switch
    {
        null => null,
        IDictionary<object, object> map => new JsonObject(map.Select(kv => KeyValuePair.Create(kv.Key.ToString()!, ToNode(kv.Value)))),
        IList<object> list => new JsonArray(list.Select(ToNode).ToArray()),
        string s when s is "true" or "false" => JsonValue.Create(s == "true"),
        string s when s is "null" or "~" => null,
        string s when long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) => JsonValue.Create(l),
        string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => JsonValue.Create(d),
        string s => JsonValue.Create(s),
        _ => JsonValue.Create(o.ToString()),
    };

    static string ReadResource(string file)
    {
        var asm = Assembly.GetExecutingAssembly();
        string name = asm.GetManifestResourceNames().FirstOrDefault(n => n.EndsWith(".Presets." + file, StringComparison.Ordinal))
                      ?? throw new InvalidDataException($"built-in recipe '{file}' is missing from the assembly");
        using var s = asm.GetManifestResourceStream(name)!;
        return new StreamReader(s).ReadToEnd();
    }
}
