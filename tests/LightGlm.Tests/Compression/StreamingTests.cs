// Large-teacher path: importance and pruning over a memory-mapped teacher, one block at a time, equal the in-memory path.
using LightGlm.Compression;
using LightGlm.Compression.Importance;
using LightGlm.Compression.Pruning;
using LightGlm.Interop;
using LightGlm.Model.Checkpoints;
using LightGlm.Model;
using LightGlm.Model.Inference;
using LightGlm.Tests.Interop;

namespace LightGlm.Tests.Compression;

public class StreamingTests
{
    static List<CalibrationSample> Calibration(int V) =>
        [.. Enumerable.Range(0, 3).Select(i => { var t = TinyTeacher.Tokens(9 + i, V, seed: 40 + i); return new CalibrationSample(t[..^1], t[1..], i == 1 ? 3 : 0); })];

    internal static void AssertSameScores(ImportanceScores a, ImportanceScores b, double tol)
    {
        void Eq(double[] x, double[] y) { Assert.Equal(x.Length, y.Length); for (int i = 0; i < x.Length; i++) Assert.True(Math.Abs(x[i] - y[i]) <= tol * (1 + Math.Abs(x[i])), $"[{i}] {x[i]} vs {y[i]}"); }
        Eq(a.Layers, b.Layers); Eq(a.Hidden, b.Hidden);
        for (int l = 0; l < a.Layers.Length; l++)
        {
            Eq(a.Heads[l], b.Heads[l]); Eq(a.KvHeads[l], b.KvHeads[l]); Eq(a.Ffn[l], b.Ffn[l]);
            for (int g = 0; g < a.QkChannels[l].Length; g++) { Eq(a.QkChannels[l][g], b.QkChannels[l][g]); Eq(a.VChannels[l][g], b.VChannels[l][g]); }
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void MappedTeacherGivesTheInMemoryScoresAndStudent(bool glm)
    {
        var dir = TinyTeacher.TempDir();
        try
        {
            var teacher = TinyTeacher.Create(glm, seed: 3);
            teacher.Save(Path.Combine(dir, "t"));
            var cal = Calibration(teacher.Config.V);
            using var mapped = MappedTeacher.Open(Path.Combine(dir, "t"));
            var layersSeen = new List<int>();
            var streamed = ActivationImportance.Compute(mapped, cal, (l, _) => layersSeen.Add(l));
            Assert.Equal([0, 1, 2], layersSeen);
            // Same weights in memory: equal scores, to float rounding (the mapped source multiplies ≤ 8 rows with its own
            // dot products, in memory it is sgemm). And the sequence-at-a-time forward (all layers per sequence) gives
            // the same FFN sums as the layer-outer stream over the same weight source.
            var inMemory = ActivationImportance.Compute(teacher, cal);
            AssertSameScores(inMemory, streamed, 1e-5);
            var ffn = new FfnSums(teacher.Config);
            var session = new InferenceSession(teacher.InferenceWeights(), 1, cal.Max(c => c.Tokens.Length)) { Observer = ffn };
            foreach (var c in cal) session.ForwardSequence(c.Tokens, c.Prefix, default);
            for (int l = 0; l < teacher.Config.L; l++)
                for (int n = 0; n < teacher.Config.F; n++) Assert.Equal(ffn.Sums[l][n], inMemory.Ffn[l][n], 9);
            AssertSameScores(WeightImportance.Magnitude(teacher), WeightImportance.Magnitude(mapped), 1e-9);

            var plan = PlanBuilder.Build(teacher.Config, streamed, new PruningTargets { Layers = 2, HeadDim = 4, Ffn = 10, Hidden = 16 });
            var pruned = StructuredPruner.Prune(teacher, plan);
            var shape = StructuredPruner.PruneTo(mapped, ResolvedPlan.Resolve(plan, mapped.Config), Path.Combine(dir, "s"));
            Assert.Equal(pruned.Config.ToJson(), shape.ToJson());
            var back = ModelFiles.Load(Path.Combine(dir, "s"));
            Assert.Equal(pruned.Weights.Count, back.Weights.Count);
            foreach (var t in pruned.Weights.All) Assert.Equal(t.Data, back.Weights.Get(t.Name, t.Shape).Data); // bit-identical
            ModelDirectory.Load(Path.Combine(dir, "s")); // the student is a normal model for the engine
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void StreamingOverAHuggingFaceCheckpointEqualsPruningItsImport()
    {
        // chatglm2 golden: fp16, 2 shards, fused query_key_value and dense_h_to_4h, multi-query groups.
        using var tmp = HfGolden.Temp();
        HfImporter.Import(HfGolden.DirOf("chatglm2"), tmp.Sub("imported"));
        var imported = ModelFiles.Load(tmp.Sub("imported"));
        using var mapped = MappedTeacher.Open(HfGolden.DirOf("chatglm2"));
        Assert.True(MappedTeacher.ShouldStream(HfGolden.DirOf("chatglm2")));
        Assert.False(MappedTeacher.ShouldStream(tmp.Sub("imported")));
        var cal = Calibration(imported.Config.V);
        var scores = ActivationImportance.Compute(mapped, cal);
        AssertSameScores(ActivationImportance.Compute(imported, cal), scores, 1e-5); // fp16 widened inside the dot products vs sgemm on the import
        var plan = PlanBuilder.Build(mapped.Config, scores, new PruningTargets { HeadDim = mapped.Config.D / 2 });
        var expected = StructuredPruner.Prune(imported, plan);
        StructuredPruner.PruneTo(mapped, ResolvedPlan.Resolve(plan, mapped.Config), tmp.Sub("student"));
        var got = ModelFiles.Load(tmp.Sub("student"));
        foreach (var t in expected.Weights.All) Assert.Equal(t.Data, got.Weights.Get(t.Name, t.Shape).Data);
        Assert.True(File.Exists(Path.Combine(tmp.Sub("student"), "tokenizer.model")) == File.Exists(Path.Combine(HfGolden.DirOf("chatglm2"), "tokenizer.model")));
    }

    sealed class FfnSums(ModelConfig t) : IBlockObserver
    {
        public double[][] Sums { get; } = Enumerable.Range(0, t.L).Select(_ => new double[t.F]).ToArray();
        public void FfnActivations(int layer, ReadOnlySpan<float> act, int T) { for (int i = 0; i < act.Length; i++) Sums[layer][i % t.F] += Math.Abs(act[i]); }
    }
}
