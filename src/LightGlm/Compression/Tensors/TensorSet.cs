// A model's weights as named fp32 tensors (contract names of docs/ENGINE.md), the unit pruning and quantization work on.
namespace LightGlm.Compression.Tensors;

/// <summary>One fp32 tensor, row-major.</summary>
public sealed class NamedTensor(string name, int[] shape, float[] data)
{
    public string Name { get; } = name;
    public int[] Shape { get; } = shape;
    public float[] Data { get; } = data.LongLength == shape.Aggregate(1L, (a, b) => a * b)
        ? data
        : throw new ArgumentException($"tensor '{name}': shape [{string.Join(", ", shape)}] needs {shape.Aggregate(1L, (a, b) => a * b)} values, got {data.LongLength}");

    public int Rows => Shape[0];
    public int Cols => Shape.Length > 1 ? Shape[1] : 1;
    public long Count => Data.LongLength;

    public NamedTensor Clone() => new(Name, (int[])Shape.Clone(), (float[])Data.Clone());
    public override string ToString() => $"{Name} [{string.Join(", ", Shape)}]";
}

/// <summary>Where the reference forward gets its weights: all in memory (<see cref="TensorSet"/>), or one block at a time from a mapped checkpoint.</summary>
public interface ITensorSource
{
    /// <summary>The tensor, checked against the shape the contract gives it (missing or mis-shaped: an error naming both).</summary>
    NamedTensor Get(string name, params int[] shape);
    NamedTensor? TryGet(string name);
}

/// <summary>Tensors by name, ordinal; lookups that fail name the tensor and the shape expected.</summary>
public sealed class TensorSet : ITensorSource
{
    readonly Dictionary<string, NamedTensor> _byName = new(StringComparer.Ordinal);

    public IEnumerable<NamedTensor> All => _byName.Values;
    public int Count => _byName.Count;
    public bool Contains(string name) => _byName.ContainsKey(name);
    public NamedTensor? TryGet(string name) => _byName.GetValueOrDefault(name);

    public void Add(NamedTensor t) => _byName[t.Name] = t;
    public void Add(string name, int[] shape, float[] data) => Add(new NamedTensor(name, shape, data));

    /// <summary>The tensor, checked against the shape the contract gives it.</summary>
    public NamedTensor Get(string name, params int[] shape)
    {
        if (!_byName.TryGetValue(name, out var t))
            throw new InvalidDataException($"tensor '{name}' [{string.Join(", ", shape)}] is missing from the model's weights");
        if (shape.Length > 0 && !t.Shape.SequenceEqual(shape))
            throw new InvalidDataException($"tensor '{name}' has shape [{string.Join(", ", t.Shape)}], the config implies [{string.Join(", ", shape)}]");
        return t;
    }

    public long ParameterCount => _byName.Values.Sum(t => t.Count);

    public TensorSet Clone()
    {
        var s = new TensorSet();
        foreach (var t in _byName.Values) s.Add(t.Clone());
        return s;
    }
}
