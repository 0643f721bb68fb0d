// Reads a recipe's JSON tree into typed settings, collecting every problem instead of stopping at the first:
// a wrong kind, a value out of range, a choice not on the list. It remembers what it read, so a setting that no
// typed field reads is reported too (a setting can never be accepted and then ignored).
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LightGlm.Experiments.Recipes;

public sealed class SettingsReader(JsonObject root)
{
    readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public List<string> Problems { get; } = [];

    public void Problem(string message) => Problems.Add(message);

    public string String(string path) => Read(path, "", (string s) => s);

    public bool Bool(string path) => Read(path, false, (bool b) => b);

    public int Int(string path, int min = int.MinValue, int max = int.MaxValue) =>
        Read(path, Math.Max(min, 0), (int v) => v >= min && v <= max ? v : Bad(path, v, Range(min, max), Math.Max(min, 0)));

    /// <param name="above">The value must be greater than this (an open bound), unless null.</param>
    public double Double(string path, double? above = null, double? atLeast = null, double? below = null, double? atMost = null) =>
        Read(path, atLeast ?? 0.0, (double v) => InRange(v, above, atLeast, below, atMost) ? v : Bad(path, v, Range(above, atLeast, below, atMost), atLeast ?? 0.0));

    /// <summary>null or a number in range (e.g. hybrid.alpha: null = from the set sizes).</summary>
    public double? NullableDouble(string path, double? atLeast = null, double? atMost = null)
    {
        if (Node(path) is null) return null;
        return Double(path, atLeast: atLeast, atMost: atMost);
    }

    /// <summary>One of <paramref name="choices"/>; the message lists them, with what each means where given.</summary>
    public string Choice(string path, params string[] choices) =>
        Read(path, choices[0], (string s) => choices.Contains(s) ? s : Bad(path, $"'{s}'", "one of " + string.Join(", ", choices), choices[0]));

    public int[] Ints(string path, int min = int.MinValue) =>
        Read(path, Array.Empty<int>(), (int[] a) => a.Any(v => v < min) ? Bad(path, $"[{string.Join(", ", a)}]", $"integers ≥ {min}", a) : a);

    public double[] Doubles(string path) => Read(path, Array.Empty<double>(), (double[] a) => a);

    public string[] Strings(string path, params string[] choices) =>
        Read(path, Array.Empty<string>(), (string[] a) =>
            choices.Length > 0 && a.FirstOrDefault(s => !choices.Contains(s)) is { } bad
                ? Bad(path, $"'{bad}'", "each one of " + string.Join(", ", choices), a)
                : a);

    /// <summary>The settings no typed field read: each is a problem (an accepted setting would be silently ignored).</summary>
    public void ReportUnread() => Unread(root, "");

    void Unread(JsonObject o, string prefix)
    {
        foreach (var (key, value) in o)
        {
            string path = prefix + key;
            if (value is JsonObject section) Unread(section, path + ".");
            else if (!_read.Contains(path)) Problems.Add($"'{path}' is not a setting any stage reads; remove it");
        }
    }

    JsonNode? Node(string path)
    {
        _read.Add(path);
        JsonNode? cur = root;
        foreach (var part in path.Split('.'))
            if (cur is not JsonObject o || !o.TryGetPropertyValue(part, out cur)) return null;
        return cur;
    }

    T Read<TJson, T>(string path, T fallback, Func<TJson, T> check)
    {
        var node = Node(path);
        if (node is null)
        {
            Problems.Add($"'{path}' is missing or null: it needs a value");
            return fallback;
        }
        TJson? value;
        try { value = node.Deserialize<TJson>(); }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException) { value = default; }
        if (value is null)
        {
            Problems.Add($"'{path}' = {node.ToJsonString()}: expected {KindName(typeof(TJson))}");
            return fallback;
        }
        return check(value);
    }

    T Bad<T>(string path, object value, string expected, T fallback)
    {
        Problems.Add($"'{path}' = {value}: expected {expected}");
        return fallback;
    }

    static bool InRange(double v, double? above, double? atLeast, double? below, double? atMost) =>
        double.IsFinite(v) && !(v <= above) && !(v < atLeast) && !(v >= below) && !(v > atMost);

    static string Range(int min, int max) =>
        max == int.MaxValue ? $"an integer ≥ {min}" : $"an integer in [{min}, {max}]";

    static string Range(double? above, double? atLeast, double? below, double? atMost) =>
        $"a number in {(above is { } a ? "(" + a : atLeast is { } l ? "[" + l : "(-∞")}, {(below is { } b ? b + ")" : atMost is { } m ? m + "]" : "∞)")}";

    static string KindName(Type t) => t switch
    {
        _ when t == typeof(string) => "a string",
        _ when t == typeof(bool) => "true or false",
        _ when t == typeof(int) => "an integer",
        _ when t == typeof(double) => "a number",
        _ when t == typeof(int[]) => "a list of integers",
        _ when t == typeof(double[]) => "a list of numbers",
        _ when t == typeof(string[]) => "a list of strings",
        _ => t.Name,
    };
}
