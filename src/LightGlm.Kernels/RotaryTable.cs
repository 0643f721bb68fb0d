// Precomputed cos/sin of rotary angles t·inv_freq_j, inv_freq_j = theta^(−2j/R), for positions 0..maxPositions−1.
namespace LightGlm.Kernels;

/// <summary>cos/sin tables (maxPositions, R/2) for rotary embeddings over R rotary dims.</summary>
public sealed class RotaryTable
{
    /// <summary>Number of rotated dims R (even) at the start of each head.</summary>
    public int RotaryDim { get; }
    /// <summary>Positions covered: 0..MaxPositions−1.</summary>
    public int MaxPositions { get; }
    public double Theta { get; }
    /// <summary>(MaxPositions, R/2) cos(t·inv_freq_j).</summary>
    public float[] Cos { get; }
    /// <summary>(MaxPositions, R/2) sin(t·inv_freq_j).</summary>
    public float[] Sin { get; }

    public RotaryTable(int maxPositions, int rotaryDim, double theta = 10000.0)
    {
        if (maxPositions < 1) throw new ArgumentOutOfRangeException(nameof(maxPositions), maxPositions, "RotaryTable: maxPositions must be >= 1.");
        if (rotaryDim < 2 || rotaryDim % 2 != 0) throw new ArgumentOutOfRangeException(nameof(rotaryDim), rotaryDim, "RotaryTable: rotaryDim must be even and >= 2.");
        if (!(theta > 0)) throw new ArgumentOutOfRangeException(nameof(theta), theta, "RotaryTable: theta must be > 0.");
        RotaryDim = rotaryDim;
        MaxPositions = maxPositions;
        Theta = theta;
        int half = rotaryDim / 2;
        Cos = new float[(long)maxPositions * half];
        Sin = new float[(long)maxPositions * half];
        // As PyTorch: inv_freq = 1 / theta^(arange(0,R,2).float()/R) in float32, angle = float32(t)·inv_freq in float32.
        var inv = new float[half];
        for (int j = 0; j < half; j++) inv[j] = (float)(1.0 / Math.Pow(theta, (float)(2 * j) / rotaryDim));
        for (int t = 0; t < maxPositions; t++)
            for (int j = 0; j < half; j++)
            {
                float angle = t * inv[j];
                Cos[(long)t * half + j] = (float)Math.Cos(angle);
                Sin[(long)t * half + j] = (float)Math.Sin(angle);
            }
    }
}
