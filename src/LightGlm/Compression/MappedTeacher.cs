// A teacher used in place from a memory-mapped checkpoint (ours in any dtype or sharded, or a Hugging Face directory):
// importance and pruning read one block at a time in fp32, so a 6B teacher never needs its 25 GB fp32 copy.
using LightGlm.Model;
using System.Text.Json.Nodes;
using LightGlm.Compression.Tensors;
using LightGlm.Interop;

namespace LightGlm.Compression;

public sealed class MappedTeacher : IDisposable
{
    public string Directory { get; }
    public MappedWeights Weights { get; }
    public ModelShape Shape { get; }

    MappedTeacher(string dir, MappedWeights w)
    {
        Directory = dir;
        Weights = w;
        // Ours: keep every field of the teacher's config.json; Hugging Face: its contract translation.
        var json = MappedWeights.IsLightGlmConfig(w.RawConfig) ? (JsonObject)w.RawConfig.DeepClone()
            : JsonNode.Parse(w.Config.ToJson())!.AsObject();
        Shape = new ModelShape(json, Path.Combine(dir, "config.json"));
    }

    public static MappedTeacher Open(string dir)
    {
        var w = MappedWeights.Open(dir);
        try { return new MappedTeacher(dir, w); }
        catch { w.Dispose(); throw; }
    }

    /// <summary>True when <paramref name="dir"/> should be used mapped rather than loaded whole (<see cref="MappedWeights.ShouldMap"/>).</summary>
    public static bool ShouldStream(string dir, long maxInMemoryParams = 500_000_000) => MappedWeights.ShouldMap(dir, maxInMemoryParams);

    /// <summary>The tensors of block <paramref name="layer"/> (our names, fp32): what one step of a streamed pass holds.</summary>
    public TensorSet LoadLayer(int layer)
    {
        string prefix = TensorNames.Layer(layer);
        var set = new TensorSet();
        foreach (var name in Weights.Tensors.Keys.Where(n => n.StartsWith(prefix, StringComparison.Ordinal)))
            set.Add(name, Weights[name].Map.OurShape.Select(d => checked((int)d)).ToArray(), Weights.ReadAll(name));
        return set;
    }

    /// <summary>A source that reads the named tensors on demand (the final norm, or a whole matrix when one is needed).</summary>
    public ITensorSource Globals => new OnDemand(this);

    /// <summary>Embedding rows of <paramref name="tokens"/>, (T, C), without reading the rest of the table.</summary>
    public float[] Embed(int[] tokens)
    {
        int C = Shape.C;
        var t = Weights[TensorNames.Embed];
        var x = new float[tokens.Length * C];
        var scratch = new byte[C * 4];
        for (int i = 0; i < tokens.Length; i++)
        {
            if ((uint)tokens[i] >= (uint)Shape.V) throw new ArgumentException($"token {tokens[i]} at position {i} is outside the vocabulary [0, {Shape.V})");
            Weights.ReadRows(t, tokens[i], 1, x.AsSpan(i * C, C), scratch);
        }
        return x;
    }

    public void Dispose() => Weights.Dispose();

    sealed class OnDemand(MappedTeacher t) : ITensorSource
    {
        public NamedTensor? TryGet(string name) =>
            t.Weights.Has(name) ? new NamedTensor(name, t.Weights[name].Map.OurShape.Select(d => checked((int)d)).ToArray(), t.Weights.ReadAll(name)) : null;

        public NamedTensor Get(string name, params int[] shape)
        {
            var n = TryGet(name) ?? throw new InvalidDataException($"{t.Directory}: tensor '{name}' [{string.Join(", ", shape)}] is missing from the teacher");
            if (shape.Length > 0 && !n.Shape.SequenceEqual(shape))
                throw new InvalidDataException($"{t.Directory}: tensor '{name}' has shape [{string.Join(", ", n.Shape)}], the config implies [{string.Join(", ", shape)}]");
            return n;
        }
    }
}
