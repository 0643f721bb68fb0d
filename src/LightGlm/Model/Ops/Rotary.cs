// Rotary position embeddings (partial or full; interleaved pairs as ChatGLM, or rotate_half as LLaMA).
namespace LightGlm.Model.Ops;

/// <summary>cos/sin of t·inv_freq_j for t &lt; maxPositions, j &lt; R/2, inv_freq_j = θ^(−2j/R).</summary>
public sealed class RotaryTable
{
    public int R { get; }
    public bool Interleaved { get; }
    public int MaxPositions { get; }
    readonly float[] _cos, _sin; // (maxPositions, R/2)

    public RotaryTable(ModelConfig c) : this(c.R, c.RopeTheta, c.RopeInterleaved, c.MaxPositionEmbeddings) { }

    public RotaryTable(int r, double theta, bool interleaved, int maxPositions)
    {
        R = r; Interleaved = interleaved; MaxPositions = maxPositions;
        int half = r / 2;
        _cos = new float[maxPositions * half];
        _sin = new float[maxPositions * half];
        for (int j = 0; j < half; j++)
        {
            // As PyTorch: inv_freq in fp32, angle = fp32(t)·inv_freq in fp32, then cos/sin.
            float inv = (float)(1.0 / Math.Pow(theta, 2.0 * j / r));
            for (int t = 0; t < maxPositions; t++)
            {
                float angle = t * inv;
                _cos[t * half + j] = MathF.Cos(angle);
                _sin[t * half + j] = MathF.Sin(angle);
            }
        }
    }

    /// <summary>
    /// Rotates the first R dims of each of <paramref name="heads"/> head vectors (length D) in <paramref name="v"/> at position pos.
    /// Forward: (a, b) → (a·cos − b·sin, a·sin + b·cos). Backward (inverse = transpose): sign = −1.
    /// </summary>
    public void Apply(Span<float> v, int heads, int D, int pos, bool inverse = false)
    {
        if (R == 0) return;
        if ((uint)pos >= (uint)MaxPositions)
            throw new ArgumentOutOfRangeException(nameof(pos), $"position {pos} is beyond max_position_embeddings = {MaxPositions}");
        int half = R / 2;
        var cos = _cos.AsSpan(pos * half, half);
        var sin = _sin.AsSpan(pos * half, half);
        float sign = inverse ? -1f : 1f;
        for (int h = 0; h < heads; h++)
        {
            var x = v.Slice(h * D, D);
            for (int j = 0; j < half; j++)
            {
                int i0 = Interleaved ? 2 * j : j;
                int i1 = Interleaved ? 2 * j + 1 : j + half;
                float c = cos[j], s = sign * sin[j];
                float a = x[i0], b = x[i1];
                x[i0] = a * c - b * s;
                x[i1] = a * s + b * c;
            }
        }
    }
}
