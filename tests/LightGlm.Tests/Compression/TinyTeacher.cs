// Random tiny teachers in the contract layout for compression tests (no training, no files unless asked).
using LightGlm.Model;
using System.Text.Json.Nodes;
using LightGlm.Compression;
using LightGlm.Compression.Tensors;
using LightGlm.Model.Inference;
using static LightGlm.Model.TensorNames;

namespace LightGlm.Tests.Compression;

internal static class TinyTeacher
{
    /// <summary>
    /// GLM-style (chatglm: half of each head rotary, interleaved pairs, qkv bias) or LLaMA-style (all rotary, rotate_half);
    /// <paramref name="rotaryFactor"/> / <paramref name="interleaved"/> override the rotary layout (e.g. partial rotate_half).
    /// </summary>
    public static ModelFiles Create(bool glm, int seed = 1, int L = 3, int C = 24, int H = 6, int KV = 3, int D = 8, int F = 20, int V = 37, bool tied = false,
        double? rotaryFactor = null, bool? interleaved = null, double theta = 10000.0)
    {
        var json = new JsonObject
        {
            ["model_type"] = glm ? "chatglm" : "llama",
            ["vocab_size"] = V, ["hidden_size"] = C, ["num_hidden_layers"] = L,
            ["num_attention_heads"] = H, ["num_key_value_heads"] = KV, ["head_dim"] = D,
            ["intermediate_size"] = F, ["rms_norm_eps"] = 1e-5, ["rope_theta"] = theta,
            ["partial_rotary_factor"] = rotaryFactor ?? (glm ? 0.5 : 1.0), ["rope_interleaved"] = interleaved ?? glm,
            ["attention_bias"] = glm, ["tie_word_embeddings"] = tied, ["max_position_embeddings"] = 64,
        };
        var shape = ModelConfig.FromJson(json.ToJsonString());
        var rng = new Random(seed);
        float[] Rand(long n, float s) { var a = new float[n]; for (long i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1) * s; return a; }
        float[] Norm(int n) { var a = new float[n]; for (int i = 0; i < n; i++) a[i] = 1f + (float)(rng.NextDouble() - 0.5) * 0.4f; return a; }
        var w = new TensorSet();
        float sc = 1f / MathF.Sqrt(C);
        w.Add(Embed, [V, C], Rand(V * C, 1f));
        for (int l = 0; l < L; l++)
        {
            w.Add(InputNorm(l), [C], Norm(C));
            w.Add(PostNorm(l), [C], Norm(C));
            w.Add(Q(l), [H * D, C], Rand(H * D * C, sc * 2));
            w.Add(K(l), [KV * D, C], Rand(KV * D * C, sc * 2));
            w.Add(TensorNames.V(l), [KV * D, C], Rand(KV * D * C, sc));
            if (glm)
            {
                w.Add(QBias(l), [H * D], Rand(H * D, 0.1f));
                w.Add(KBias(l), [KV * D], Rand(KV * D, 0.1f));
                w.Add(VBias(l), [KV * D], Rand(KV * D, 0.1f));
            }
            w.Add(O(l), [C, H * D], Rand(C * H * D, 1f / MathF.Sqrt(H * D)));
            w.Add(Gate(l), [F, C], Rand(F * C, sc));
            w.Add(Up(l), [F, C], Rand(F * C, sc));
            w.Add(Down(l), [C, F], Rand(C * F, 1f / MathF.Sqrt(F)));
        }
        w.Add(FinalNorm, [C], Norm(C));
        if (!tied) w.Add(LmHead, [V, C], Rand(V * C, sc));
        return new ModelFiles(shape, w);
    }

    public static int[] Tokens(int n, int V, int seed = 5)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => rng.Next(V)).ToArray();
    }

    public static string TempDir()
    {
        var d = Path.Combine(Path.GetTempPath(), "lightglm-compression-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(d);
        return d;
    }

    /// <summary>Logits (T, V) of every position through the one forward pass (InferenceSession), optionally masked.</summary>
    public static float[] Logits(ModelFiles m, int[] tokens, StructureMask? mask = null, int prefix = 0)
    {
        var session = new InferenceSession(m.InferenceWeights(), 1, tokens.Length) { Mask = mask };
        var logits = new float[tokens.Length * m.Config.V];
        session.ForwardSequence(tokens, prefix, logits);
        return logits;
    }

    public static void AssertClose(float[] expected, float[] actual, float tol = 2e-4f)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(MathF.Abs(expected[i] - actual[i]) <= tol * (1 + MathF.Abs(expected[i])), $"[{i}] expected {expected[i]}, got {actual[i]}");
    }

    public static float MaxAbsDiff(float[] a, float[] b) => a.Zip(b, (x, y) => MathF.Abs(x - y)).Max();
}
