// The Sheared-LLaMA test: a pruned student's outputs equal the teacher's with the pruned parts masked, for both rotary layouts.
using LightGlm.Compression;
using LightGlm.Compression.Importance;
using LightGlm.Compression.Pruning;

namespace LightGlm.Tests.Compression;

public class StructuredPrunerTests
{
    // GLM-style teacher: D=8, R=4 interleaved (pairs (0,1), (2,3)), pass-through 4..7, q/k/v bias. H=6, KV=3 (groups of 2).
    static PruningPlan GlmPlan(bool dropLayer = true) => new()
    {
        Layers = dropLayer ? [0, 2] : null,
        HiddenChannels = [0, 1, 2, 3, 5, 8, 9, 11, 13, 14, 16, 17, 20, 21, 22, 23],
        LayerPlans =
        [
            new() { KvHeads = [2, 0], Heads = [5, 0], QkChannels = [[0, 1, 5, 7], [0, 1, 4, 6]], VChannels = [[7, 2, 3, 0], [1, 2, 5, 6]], FfnNeurons = [3, 1, 4, 15, 9, 2, 6, 19, 0, 12] },
            new() { KvHeads = [1, 2], Heads = [3, 4], QkChannels = [[0, 1, 4, 5], [0, 1, 6, 7]], VChannels = [[0, 1, 2, 3], [4, 5, 6, 7]], FfnNeurons = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] },
        ],
    };

    // LLaMA-style teacher: D=8 all rotary, rotate_half pairs (j, j+4); stride set {0, 2} keeps channels [0, 2, 4, 6].
    static PruningPlan LlamaPlan() => new()
    {
        Layers = [0, 1],
        HiddenChannels = Enumerable.Range(0, 24).Where(c => c % 3 != 1).ToList(),
        LayerPlans =
        [
            new() { KvHeads = [0, 1, 2], Heads = [0, 3, 5], QkChannels = [[0, 2, 4, 6], [0, 2, 4, 6], [0, 2, 4, 6]], VChannels = [[1, 2, 3, 4], [0, 5, 6, 7], [7, 6, 5, 4]], FfnNeurons = [.. Enumerable.Range(5, 12)] },
            new() { KvHeads = [1, 0, 2], Heads = [2, 1, 4], QkChannels = [[0, 2, 4, 6], [0, 2, 4, 6], [0, 2, 4, 6]], VChannels = [[0, 1, 2, 3], [4, 5, 6, 7], [3, 2, 1, 0]], FfnNeurons = [.. Enumerable.Range(0, 12)] },
        ],
    };

    [Theory]
    [InlineData(true, false)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    [InlineData(false, true)]
    public void PrunedStudentEqualsMaskedTeacher(bool glm, bool tied)
    {
        var teacher = TinyTeacher.Create(glm, seed: 3, tied: tied);
        var plan = ResolvedPlan.Resolve(glm ? GlmPlan() : LlamaPlan(), teacher.Config);
        var student = StructuredPruner.Prune(teacher, plan);
        var tokens = TinyTeacher.Tokens(11, teacher.Config.V);

        var masked = TinyTeacher.Logits(teacher, tokens, PruneMask.FromPlan(plan));
        var pruned = TinyTeacher.Logits(student, tokens);
        TinyTeacher.AssertClose(masked, pruned);

        // The test can fail: the unmasked teacher is far from the student.
        var full = TinyTeacher.Logits(teacher, tokens);
        Assert.True(TinyTeacher.MaxAbsDiff(full, pruned) > 1e-2f);
        Assert.True(plan.ExactRotary);
    }

    [Fact]
    public void StudentConfigHasTheNewSizes()
    {
        var teacher = TinyTeacher.Create(glm: true);
        var s = StructuredPruner.Prune(teacher, GlmPlan()).Config;
        Assert.Equal((2, 16, 2, 2, 4, 10, 2), (s.L, s.C, s.H, s.KV, s.D, s.F, s.R));
        Assert.True(s.RopeInterleaved);
        Assert.Equal("chatglm", s.ModelType);
        Assert.True(s.ParameterCount() < teacher.Config.ParameterCount() / 2);
    }

    [Fact]
    public void PrefixMaskAlsoMatches()
    {
        var teacher = TinyTeacher.Create(glm: true, seed: 9);
        var p = GlmPlan(dropLayer: false);
        p.LayerPlans = null;
        var plan = ResolvedPlan.Resolve(p, teacher.Config);
        var student = StructuredPruner.Prune(teacher, plan);
        var tokens = TinyTeacher.Tokens(9, teacher.Config.V);
        TinyTeacher.AssertClose(TinyTeacher.Logits(teacher, tokens, PruneMask.FromPlan(plan), prefix: 4),
                                TinyTeacher.Logits(student, tokens, prefix: 4));
    }

    [Fact]
    public void SavedStudentLoadsBackIdentical()
    {
        var teacher = TinyTeacher.Create(glm: false);
        var student = StructuredPruner.Prune(teacher, LlamaPlan());
        var dir = TinyTeacher.TempDir();
        try
        {
            student.Save(dir);
            var back = ModelFiles.Load(dir);
            Assert.Equal(student.Config.ToJson(), back.Config.ToJson());
            var tokens = TinyTeacher.Tokens(6, teacher.Config.V);
            Assert.Equal(TinyTeacher.Logits(student, tokens), TinyTeacher.Logits(back, tokens));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void NonStrideRotaryPairsNeedConsentAndThenDiffer()
    {
        var teacher = TinyTeacher.Create(glm: false, seed: 4);
        var plan = new PruningPlan { LayerPlans = Enumerable.Range(0, 3).Select(_ => new LayerPlan { QkChannels = [[1, 3, 5, 7], [1, 3, 5, 7], [1, 3, 5, 7]], VChannels = [[0, 1, 2, 3], [0, 1, 2, 3], [0, 1, 2, 3]] }).ToList() };
        var ex = Assert.Throws<InvalidDataException>(() => ResolvedPlan.Resolve(plan, teacher.Config));
        Assert.Contains("allow_rope_frequency_change", ex.Message);
        plan.AllowRopeFrequencyChange = true;
        var resolved = ResolvedPlan.Resolve(plan, teacher.Config);
        Assert.False(resolved.ExactRotary);
        var tokens = TinyTeacher.Tokens(10, teacher.Config.V);
        var masked = TinyTeacher.Logits(teacher, tokens, PruneMask.FromPlan(resolved));
        var pruned = TinyTeacher.Logits(StructuredPruner.Prune(teacher, resolved), tokens);
        // Pairs 1 and 3 are re-indexed to 0 and 1 in the student: their frequencies change, so only position 0 still agrees.
        TinyTeacher.AssertClose(masked[..teacher.Config.V], pruned[..teacher.Config.V]);
        Assert.True(TinyTeacher.MaxAbsDiff(masked, pruned) > 1e-4f);
    }

    [Fact]
    public void BadPlansAreRejectedWithEveryProblemNamed()
    {
        var teacher = TinyTeacher.Create(glm: true);
        var plan = new PruningPlan
        {
            Layers = [0, 7],
            LayerPlans = [new() { KvHeads = [0], Heads = [2, 3], QkChannels = [[0, 4, 5, 6]] }, new()],
        };
        var ex = Assert.Throws<InvalidDataException>(() => ResolvedPlan.Resolve(plan, teacher.Config));
        Assert.Contains("layers: indices 7", ex.Message);
        plan.Layers = [1, 0];
        Assert.Contains("must be ascending", Assert.Throws<InvalidDataException>(() => ResolvedPlan.Resolve(plan, teacher.Config)).Message);
        plan.Layers = [0, 1];
        ex = Assert.Throws<InvalidDataException>(() => ResolvedPlan.Resolve(plan, teacher.Config));
        Assert.Contains("heads[0] = 2 belongs to KV head 1", ex.Message);
        Assert.Contains("rotary channels must be kept in whole pairs", ex.Message);
    }

    [Fact]
    public void PlanJsonRoundTrips()
    {
        var dir = TinyTeacher.TempDir();
        try
        {
            var path = Path.Combine(dir, "plan.json");
            GlmPlan().Save(path);
            Assert.Contains("\"qk_channels\"", File.ReadAllText(path));
            var back = PruningPlan.Load(path);
            Assert.Equal(GlmPlan().LayerPlans![0].VChannels![0], back.LayerPlans![0].VChannels![0]);
            File.WriteAllText(path, "{ \"layers\": \"x\" }");
            Assert.Throws<InvalidDataException>(() => PruningPlan.Load(path));
        }
        finally { Directory.Delete(dir, true); }
    }
}
