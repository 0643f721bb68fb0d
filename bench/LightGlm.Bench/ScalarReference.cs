// Plain scalar loops, the baselines the fast kernels are measured against (same math, no SIMD, no threads).
namespace LightGlm.Bench;

internal static class ScalarReference
{
    public static void Attention(float[] o, float[] att, float[] q, float[] k, float[] v, int B, int T, int H, int KV, int D)
    {
        float scale = 1f / MathF.Sqrt(D);
        for (int b = 0; b < B; b++)
            for (int h = 0; h < H; h++)
            {
                int kh = h / (H / KV);
                for (int i = 0; i < T; i++)
                {
                    int p = ((b * H + h) * T + i) * T;
                    float max = float.NegativeInfinity;
                    for (int j = 0; j <= i; j++)
                    {
                        float s = 0;
                        for (int x = 0; x < D; x++) s += q[((b * T + i) * H + h) * D + x] * k[((b * T + j) * KV + kh) * D + x];
                        att[p + j] = s * scale;
                        max = MathF.Max(max, att[p + j]);
                    }
                    float sum = 0;
                    for (int j = 0; j <= i; j++) sum += att[p + j] = MathF.Exp(att[p + j] - max);
                    for (int j = 0; j < T; j++) att[p + j] = j <= i ? att[p + j] / sum : 0f;
                    for (int x = 0; x < D; x++)
                    {
                        float s = 0;
                        for (int j = 0; j <= i; j++) s += att[p + j] * v[((b * T + j) * KV + kh) * D + x];
                        o[((b * T + i) * H + h) * D + x] = s;
                    }
                }
            }
    }

    public static void SwiGlu(float[] o, float[] g, float[] u)
    {
        for (int i = 0; i < o.Length; i++) o[i] = g[i] / (1f + MathF.Exp(-g[i])) * u[i];
    }

    public static void RmsNorm(float[] o, float[] rstd, float[] x, float[] w, int N, int C)
    {
        for (int n = 0; n < N; n++)
        {
            float ss = 0;
            for (int i = 0; i < C; i++) ss += x[n * C + i] * x[n * C + i];
            float r = 1f / MathF.Sqrt(ss / C + 1e-5f);
            rstd[n] = r;
            for (int i = 0; i < C; i++) o[n * C + i] = x[n * C + i] * r * w[i];
        }
    }

    public static float CrossEntropyFused(float[] d, float[] z, int[] t, int N, int V)
    {
        float loss = 0;
        for (int n = 0; n < N; n++)
        {
            float max = float.NegativeInfinity, sum = 0;
            for (int i = 0; i < V; i++) max = MathF.Max(max, z[n * V + i]);
            for (int i = 0; i < V; i++) sum += d[n * V + i] = MathF.Exp(z[n * V + i] - max);
            loss += MathF.Log(sum) + max - z[n * V + t[n]];
            for (int i = 0; i < V; i++) d[n * V + i] = d[n * V + i] / sum / N;
            d[n * V + t[n]] -= 1f / N;
        }
        return loss;
    }
}
