// A teacher used in place from a memory-mapped checkpoint (ours in any dtype or sharded, or a Hugging Face directory):
// importance runs the one forward pass over it block by block (MappedInferenceWeights) and pruning reads one tensor at a
// time in fp32, so a 6B teacher never needs its 25 GB fp32 copy.
using LightGlm.Model;
using LightGlm.Compression.Tensors;
using LightGlm.Interop;

namespace LightGlm.Compression;

public sealed class MappedTeacher : IDisposable
{
    public string Directory { get; }
    public MappedWeights Weights { get; }
    /// <summary>Ours: the teacher's config.json with every field; Hugging Face: its contract translation.</summary>
    public ModelConfig Config => Weights.Config;

    MappedTeacher(string dir, MappedWeights w)
    {
        Directory = dir;
        Weights = w;
    }

    public static MappedTeacher Open(string dir) => new(dir, MappedWeights.Open(dir));

    /// <summary>True when <paramref name="dir"/> should be used mapped rather than loaded whole (<see cref="MappedWeights.ShouldMap"/>).</summary>
    public static bool ShouldStream(string dir, long maxInMemoryParams = 500_000_000) => MappedWeights.ShouldMap(dir, maxInMemoryParams);

    /// <summary>A source that reads the named tensors on demand (the final norm, or a whole matrix when one is needed).</summary>
    public ITensorSource Globals => new OnDemand(this);

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
