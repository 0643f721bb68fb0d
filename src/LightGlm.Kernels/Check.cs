// Boundary validation shared by all kernels: messages name the kernel, the argument, the needed and the given sizes.
namespace LightGlm.Kernels;

internal static class Check
{
    public static void Dims(string kernel, params ReadOnlySpan<(string Name, int Value)> dims)
    {
        foreach (var (name, value) in dims)
            if (value < 0) throw new ArgumentOutOfRangeException(name, value, $"{kernel}: {name} must be >= 0, got {value}.");
    }

    public static void Positive(string kernel, string name, int value)
    {
        if (value <= 0) throw new ArgumentOutOfRangeException(name, value, $"{kernel}: {name} must be > 0, got {value}.");
    }

    /// <summary>Throws unless the span holds at least <paramref name="need"/> elements.</summary>
    public static void Len<T>(string kernel, string name, ReadOnlySpan<T> span, long need)
    {
        if (span.Length < need)
            throw new ArgumentException($"{kernel}: {name} needs {need} elements, got {span.Length}. Check the shape arguments.", name);
    }

    /// <summary>Two spans must be identical or disjoint (partial overlap would read values already written).</summary>
    public static void SameOrDisjoint<T>(string kernel, string a, ReadOnlySpan<T> x, string b, ReadOnlySpan<T> y, long used)
    {
        int n = (int)Math.Min(used, Math.Min(x.Length, y.Length));
        if (n == 0) return;
        var xs = x[..n];
        var ys = y[..n];
        if (xs.Overlaps(ys, out int offset) && offset != 0)
            throw new ArgumentException($"{kernel}: {a} and {b} overlap partially (offset {offset}); pass the same span or disjoint spans.");
    }

    /// <summary>Two spans must not overlap at all.</summary>
    public static void Disjoint<T>(string kernel, string a, ReadOnlySpan<T> x, string b, ReadOnlySpan<T> y)
    {
        if (x.Length > 0 && y.Length > 0 && x.Overlaps(y))
            throw new ArgumentException($"{kernel}: {a} and {b} must not overlap.");
    }

    public static void Targets(string kernel, ReadOnlySpan<int> targets, int n, int v)
    {
        for (int i = 0; i < n; i++)
        {
            int t = targets[i];
            if (t < -1 || t >= v)
                throw new ArgumentOutOfRangeException(nameof(targets), t, $"{kernel}: targets[{i}] = {t} is outside [0, {v}) and is not the ignore index -1.");
        }
    }
}
