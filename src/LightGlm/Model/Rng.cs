// A small seeded RNG (xoshiro256**) whose whole state is four ulongs, so checkpoints can save and restore it exactly.
namespace LightGlm.Model;

/// <summary>Deterministic across machines and .NET versions (unlike System.Random); state is serialisable.</summary>
public struct Rng
{
    public ulong S0, S1, S2, S3;

    public Rng(ulong seed)
    {
        // SplitMix64 expands the seed into four non-zero words.
        S0 = SplitMix(ref seed); S1 = SplitMix(ref seed); S2 = SplitMix(ref seed); S3 = SplitMix(ref seed);
    }

    public Rng(ulong[] state) { S0 = state[0]; S1 = state[1]; S2 = state[2]; S3 = state[3]; }

    public readonly ulong[] State => [S0, S1, S2, S3];

    static ulong SplitMix(ref ulong x) => Mix(x += 0x9E3779B97F4A7C15UL);

    /// <summary>SplitMix64's finaliser: a well-mixed 64-bit hash of <paramref name="z"/> (for choices keyed by indices, not a stream).</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextULong()
    {
        ulong result = ulong.RotateLeft(S1 * 5, 7) * 9;
        ulong t = S1 << 17;
        S2 ^= S0; S3 ^= S1; S1 ^= S2; S0 ^= S3; S2 ^= t;
        S3 = ulong.RotateLeft(S3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 24 random bits.</summary>
    public float NextFloat() => (NextULong() >> 40) * (1f / (1 << 24));

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextULong() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, n).</summary>
    public int NextInt(int n) => (int)((NextULong() >> 33) % (ulong)n);

    /// <summary>Standard normal (Box–Muller).</summary>
    public double NextGaussian()
    {
        double u1 = 1.0 - NextDouble(), u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>An independent stream derived from this one's seed and a stream id (for per-micro-batch dropout).</summary>
    public static Rng Derive(ulong seed, ulong stream) => new(seed ^ (stream * 0xD1B54A32D192ED03UL + 0x632BE59BD9B4E019UL));
}
