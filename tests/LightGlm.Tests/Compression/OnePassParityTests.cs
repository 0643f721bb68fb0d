// Importance scoring moved from ReferenceForward onto InferenceSession (issue 17, item 1): the new path against the old
// one, kept as a test oracle (ReferenceForward, ReferenceImportance), on tiny teachers, with and without structure masks.
// Equal to float rounding, not bit for bit: the session multiplies by sgemm, rotates with a float32 angle table and
// attends with the blocked kernel; the oracle uses dot products, double-precision angles and a plain softmax loop.
using LightGlm.Compression;
using LightGlm.Compression.Baselines;
using LightGlm.Compression.Importance;
using LightGlm.Compression.Pruning;
using LightGlm.Model;
using LightGlm.Model.Inference;

namespace LightGlm.Tests.Compression;

public class OnePassParityTests
{
    static List<CalibrationSample> Calibration(int V) => Enumerable.Range(0, 3).Select(i =>
    {
        var t = TinyTeacher.Tokens(10 + i, V, seed: 200 + i);
        return new CalibrationSample(t[..^1], t[1..], Prefix: 3 * i); // causal, prefix 3, prefix 6
    }).ToList();

    /// <summary>
    /// none; a pruning plan's mask; or a mask no plan makes: one channel of a rotary pair (the mask zeroes before
    /// rotary), a head, a v channel, a neuron, a hidden channel and a layer.
    /// </summary>
    static StructureMask? Mask(ModelFiles m, string kind)
    {
        if (kind == "none") return null;
        if (kind == "plan")
        {
            var plan = PlanBuilder.Build(m.Config, WeightImportance.Random(m.Config, 3), new PruningTargets { Layers = 2, HeadDim = 4, Ffn = 10, Hidden = 16 });
            return PruneMask.FromPlan(ResolvedPlan.Resolve(plan, m.Config));
        }
        var mask = PruneMask.Full(m.Config);
        mask.PerLayer[0].Qk[1][1] = false;
        mask.PerLayer[0].Heads[4] = false;
        mask.PerLayer[1].V[2][5] = false;
        mask.PerLayer[2].Ffn[3] = false;
        mask.Hidden[7] = false;
        mask.Layers[1] = false;
        return mask;
    }

    [Theory]
    [InlineData(true, "none")]
    [InlineData(true, "plan")]
    [InlineData(true, "hand")]
    [InlineData(false, "none")]
    [InlineData(false, "plan")]
    [InlineData(false, "hand")]
    public void EveryPositionsLogitsEqualTheOracle(bool glm, string mask)
    {
        var m = TinyTeacher.Create(glm, seed: 31);
        var oracle = new ReferenceForward(m);
        foreach (int prefix in new[] { 0, 4, 11 })
        {
            var tokens = TinyTeacher.Tokens(11, m.Config.V, seed: 60 + prefix);
            var expected = oracle.Logits(tokens, Mask(m, mask), prefix: prefix);
            var got = TinyTeacher.Logits(m, tokens, Mask(m, mask), prefix);
            TinyTeacher.AssertClose(expected, got, 5e-4f);
            if (mask != "none") Assert.True(TinyTeacher.MaxAbsDiff(got, TinyTeacher.Logits(m, tokens, prefix: prefix)) > 1e-3f, "the mask changed nothing");
        }
    }

    [Theory]
    [InlineData(true, "none")]
    [InlineData(true, "hand")]
    [InlineData(false, "plan")]
    public void ObservedActivationsEqualTheOracles(bool glm, string mask)
    {
        var m = TinyTeacher.Create(glm, seed: 32);
        var cal = Calibration(m.Config.V);
        var expected = new Sums(m.Config);
        var oracle = new ReferenceForward(m);
        foreach (var c in cal) oracle.Hidden(c.Tokens, Mask(m, mask), new OracleSums(expected), c.Prefix);
        var got = new Sums(m.Config);
        var session = new InferenceSession(m.InferenceWeights(), 1, 12) { Mask = Mask(m, mask), Observer = got };
        foreach (var c in cal) session.ForwardSequence(c.Tokens, c.Prefix, default);
        Assert.Equal(expected.Calls, got.Calls);
        for (int l = 0; l < m.Config.L; l++)
            foreach (var (name, e) in expected.Of(l))
            {
                var g = got.Of(l).Single(x => x.Name == name).Values;
                for (int i = 0; i < e.Length; i++)
                    Assert.True(Math.Abs(e[i] - g[i]) <= 1e-4 * (1 + Math.Abs(e[i])), $"layer {l} {name}[{i}]: oracle {e[i]}, session {g[i]}");
            }
        Assert.True(got.Calls.Sum() > 0 && got.XOut.Sum(a => a.Sum()) > 0, "nothing was observed");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ActivationImportanceEqualsTheOldPath(bool glm)
    {
        var m = TinyTeacher.Create(glm, seed: 33);
        var cal = Calibration(m.Config.V);
        StreamingTests.AssertSameScores(ReferenceImportance.Compute(m, cal), ActivationImportance.Compute(m, cal), 1e-5);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void LayerLossesUnderLayerMasksEqualTheOldPath(bool glm)
    {
        var m = TinyTeacher.Create(glm, seed: 34, L: 4);
        var cal = Calibration(m.Config.V);
        void Close(double[] expected, double[] got)
        {
            Assert.Equal(expected.Length, got.Length);
            for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - got[i]) <= 1e-5 * (1 + Math.Abs(expected[i])), $"[{i}] old {expected[i]}, new {got[i]}");
        }
        var drop = ActivationImportance.DropLoss(m, cal);
        Close(ReferenceImportance.DropLoss(m, cal), drop);
        Assert.True(drop.Max() > 1e-3);
        Close(ReferenceImportance.LayerSubsetByLoss(m, cal, keep: 2), ActivationImportance.LayerSubsetByLoss(m, cal, keep: 2));
    }

    [Fact]
    public void WandaInputNormsEqualTheOldPath()
    {
        var m = TinyTeacher.Create(glm: true, seed: 35);
        var cal = Calibration(m.Config.V);
        var expected = ReferenceImportance.WandaInputNorms(m, cal);
        var got = UnstructuredSparsity.InputNorms(m, cal);
        Assert.Equal(expected.Keys.Order(), got.Keys.Order());
        foreach (var (name, e) in expected)
            for (int j = 0; j < e.Length; j++)
                Assert.True(MathF.Abs(e[j] - got[name][j]) <= 1e-5f * (1 + MathF.Abs(e[j])), $"{name}[{j}]: old {e[j]}, new {got[name][j]}");
    }

    /// <summary>Σ|value| per column of every hook, per layer, and how often each layer's Block hook ran.</summary>
    sealed class Sums(ModelConfig t) : IBlockObserver
    {
        readonly int W = (t.H + 2 * t.KV) * t.D;
        public readonly double[][] N1 = Jag(t.L, t.C), QkvSums = Jag(t.L, (t.H + 2 * t.KV) * t.D), Att = Jag(t.L, t.H * t.D),
            N2 = Jag(t.L, t.C), Act = Jag(t.L, t.F), XIn = Jag(t.L, t.C), XOut = Jag(t.L, t.C);
        public readonly int[] Calls = new int[t.L];

        static double[][] Jag(int a, int b) => Enumerable.Range(0, a).Select(_ => new double[b]).ToArray();
        public static void Add(double[] into, ReadOnlySpan<float> x) { for (int i = 0; i < x.Length; i++) into[i % into.Length] += Math.Abs(x[i]); }

        public IEnumerable<(string Name, double[] Values)> Of(int l) =>
            [("n1", N1[l]), ("qkv", QkvSums[l]), ("att", Att[l]), ("n2", N2[l]), ("act", Act[l]), ("x_in", XIn[l]), ("x_out", XOut[l])];

        public void AttentionInput(int layer, ReadOnlySpan<float> n1, int n) => Add(N1[layer], n1);
        public void Qkv(int layer, ReadOnlySpan<float> qkv, int n) { Assert.Equal(n * W, qkv.Length); Add(QkvSums[layer], qkv); }
        public void HeadOutputs(int layer, ReadOnlySpan<float> att, int n) => Add(Att[layer], att);
        public void FfnInput(int layer, ReadOnlySpan<float> n2, int n) => Add(N2[layer], n2);
        public void FfnActivations(int layer, ReadOnlySpan<float> act, int n) => Add(Act[layer], act);
        public void Block(int layer, ReadOnlySpan<float> xIn, ReadOnlySpan<float> xOut, int n) { Calls[layer]++; Add(XIn[layer], xIn); Add(XOut[layer], xOut); }
    }

    /// <summary>The oracle's hooks (q, k, v separate; both norms at once) summed into the same columns as the session's.</summary>
    sealed class OracleSums(Sums s) : ReferenceObserver
    {
        public override void Norms(int layer, ReadOnlySpan<float> n1, ReadOnlySpan<float> n2, int T) { Sums.Add(s.N1[layer], n1); Sums.Add(s.N2[layer], n2); }
        public override void HeadOutputs(int layer, ReadOnlySpan<float> att, int T) => Sums.Add(s.Att[layer], att);
        public override void FfnActivations(int layer, ReadOnlySpan<float> act, int T) => Sums.Add(s.Act[layer], act);
        public override void Block(int layer, ReadOnlySpan<float> xIn, ReadOnlySpan<float> xOut, int T) { s.Calls[layer]++; Sums.Add(s.XIn[layer], xIn); Sums.Add(s.XOut[layer], xOut); }

        public override void Qkv(int layer, ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, int T)
        {
            var into = s.QkvSums[layer];
            int hd = q.Length / T, kd = k.Length / T;
            for (int t = 0; t < T; t++)
            {
                for (int i = 0; i < hd; i++) into[i] += Math.Abs(q[t * hd + i]);
                for (int i = 0; i < kd; i++) into[hd + i] += Math.Abs(k[t * kd + i]);
                for (int i = 0; i < kd; i++) into[hd + kd + i] += Math.Abs(v[t * kd + i]);
            }
        }
    }
}
