// Numbers out of JSON nodes, whichever way the node was made. A node parsed from text converts to double from any
// number, but a node built in memory holds the CLR value it was given (an int step, a long byte count) and
// `(double)node` throws for anything but a double — so reports read numbers through here.
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LightGlm.Experiments.Reporting;

public static class JsonNumber
{
    /// <summary>The node's value as a double: any JSON number, parsed or in memory (int, long, float, decimal, …).</summary>
    public static double ToDouble(JsonNode node)
    {
        if (node is JsonValue v)
        {
            if (v.TryGetValue(out double d)) return d;
            if (v.TryGetValue(out long l)) return l;
            if (v.TryGetValue(out int i)) return i;
            if (v.TryGetValue(out float f)) return f;
            if (v.TryGetValue(out decimal m)) return (double)m;
            if (v.TryGetValue(out ulong ul)) return ul;
            if (v.TryGetValue(out uint ui)) return ui;
            if (v.TryGetValue(out short s)) return s;
            if (v.TryGetValue(out byte b)) return b;
            if (v.GetValueKind() == JsonValueKind.Number &&
                double.TryParse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed)) return parsed;
        }
        throw new InvalidDataException($"expected a number, got {node.ToJsonString()}");
    }

    /// <summary>Null stays null; anything else as <see cref="ToDouble"/>.</summary>
    public static double? OrNull(JsonNode? node) => node is null ? null : ToDouble(node);
}
