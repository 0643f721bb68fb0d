// Head-dim pruning (d_a → d_a') under every rotary layout the config supports: rotary pairs are kept before pass-through
// channels, a stride set keeps its teacher frequencies, and the student — in memory, streamed from a map, or from a Hugging
// Face checkpoint — computes through the engine exactly what the teacher computes with the pruned parts zeroed.
using LightGlm.Compression;
using LightGlm.Compression.Importance;
using LightGlm.Compression.Pruning;
using LightGlm.Compression.Tensors;
using LightGlm.Interop;
using LightGlm.Model;
using LightGlm.Model.Checkpoints;
using LightGlm.Tests.Interop;
using static LightGlm.Model.TensorNames;

namespace LightGlm.Tests.Compression;

public class RotaryPruningTests(Xunit.Abstractions.ITestOutputHelper output)
{
    // D = 16 everywhere; H = 4 query heads in KV = 2 groups.
    //   glm:        R = 8, interleaved pairs (2j, 2j+1), channels 8..15 pass through (ChatGLM)
    //   llama:      R = 16, rotate_half pairs (j, j+8) (LLaMA / Qwen2)
    //   neox:       R = 8, rotate_half pairs (j, j+4), channels 8..15 pass through (partial rotate_half)
    //   glm-full:   R = 16, interleaved pairs (2j, 2j+1)
    static ModelFiles Teacher(string layout, int seed = 7) => layout switch
    {
        "glm" => TinyTeacher.Create(glm: true, seed, L: 3, C: 24, H: 4, KV: 2, D: 16, F: 20),
        "llama" => TinyTeacher.Create(glm: false, seed, L: 3, C: 24, H: 4, KV: 2, D: 16, F: 20),
        "neox" => TinyTeacher.Create(glm: false, seed, L: 3, C: 24, H: 4, KV: 2, D: 16, F: 20, rotaryFactor: 0.5, interleaved: false),
        "glm-full" => TinyTeacher.Create(glm: true, seed, L: 3, C: 24, H: 4, KV: 2, D: 16, F: 20, rotaryFactor: 1.0, theta: 500.0),
        _ => throw new ArgumentException(layout),
    };

    // (layout, D', the rotary channels every q/k list must start with (student order), R').
    public static TheoryData<string, int, int[]> Cases() => new()
    {
        // all pairs kept, pass-through channels pruned (partial layouts)
        { "glm", 12, [0, 1, 2, 3, 4, 5, 6, 7] },
        { "glm", 8, [0, 1, 2, 3, 4, 5, 6, 7] },
        { "neox", 12, [0, 1, 2, 3, 4, 5, 6, 7] },
        { "neox", 8, [0, 1, 2, 3, 4, 5, 6, 7] },
        // below R: a stride set of pairs, in the student's own layout order
        { "glm", 4, [0, 1, 4, 5] },              // pairs {0, 2}
        { "glm", 2, [0, 1] },                    // pair {0}
        { "neox", 4, [0, 2, 4, 6] },             // pairs {0, 2}: (0, 4), (2, 6) → p₀, p₁, p₀+4, p₁+4
        { "llama", 16, [.. Enumerable.Range(0, 16)] },
        { "llama", 8, [0, 2, 4, 6, 8, 10, 12, 14] }, // pairs {0, 2, 4, 6}: (j, j+8)
        { "llama", 4, [0, 4, 8, 12] },           // pairs {0, 4}
        { "glm-full", 8, [0, 1, 4, 5, 8, 9, 12, 13] },
    };

    static PruningPlan Plan(ModelFiles t, int d, bool pruneHidden) =>
        PlanBuilder.Build(t.Config, WeightImportance.Random(t.Config, 11), new PruningTargets
        {
            Layers = t.Config.L - 1, HeadsPerGroup = 1, HeadDim = d, Ffn = 12, Hidden = pruneHidden ? 18 : null,
        });

    [Theory]
    [MemberData(nameof(Cases))]
    public void PlanKeepsRotaryPairsBeforePassThroughChannels(string layout, int d, int[] rotary)
    {
        var t = Teacher(layout);
        var plan = Plan(t, d, pruneHidden: false);
        foreach (var lp in plan.LayerPlans!)
        {
            Assert.Equal(t.Config.KV, lp.QkChannels!.Count);
            foreach (var qk in lp.QkChannels)
            {
                Assert.Equal(d, qk.Count);
                Assert.Equal(rotary, qk.Take(rotary.Length));
                var pass = qk.Skip(rotary.Length).ToList();
                Assert.All(pass, c => Assert.True(c >= t.Config.R, $"channel {c} after the rotary pairs is not pass-through"));
                Assert.Equal(pass.Order(), pass);
            }
            Assert.All(lp.VChannels!, v => Assert.Equal(d, v.Count));
        }
        var resolved = ResolvedPlan.Resolve(plan, t.Config);
        Assert.True(resolved.ExactRotary);
        var s = StructuredPruner.Prune(t, resolved).Config;
        Assert.Equal((d, rotary.Length), (s.D, s.R));
        Assert.Equal(t.Config.RopeInterleaved, s.RopeInterleaved);
        Assert.Equal(t.Config.RopeTheta, s.RopeTheta); // a stride set needs no new base: θ^(−2k/R') = θ^(−2ks/R)
        var config = ModelConfig.FromJson(s.ToJson()); // as the student's config.json reads back
        Assert.Equal((d, rotary.Length, t.Config.RopeInterleaved, t.Config.RopeTheta), (config.D, config.R, config.RopeInterleaved, config.RopeTheta));
    }

    [Fact]
    public void PartialLayoutsKeepEveryRotaryPairWhileAPassThroughChannelIsLeft()
    {
        // The lost bug: d_a' = d_a/2 on a GLM head kept the pass-through half and dropped every rotary pair (R' = 0),
        // a student with no position information that still "equals the masked teacher".
        foreach (var layout in new[] { "glm", "neox" })
        {
            var t = Teacher(layout);
            for (int d = t.Config.R; d <= t.Config.D; d += 2)
            {
                var s = StructuredPruner.Prune(t, Plan(t, d, pruneHidden: false)).Config;
                Assert.Equal(t.Config.R, s.R);
                Assert.Equal((double)t.Config.R / d, s.PartialRotaryFactor, 12);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void StudentOnTheEngineEqualsTheZeroedTeacher(string layout, int d, int[] rotary)
    {
        var t = Teacher(layout);
        var plan = ResolvedPlan.Resolve(Plan(t, d, pruneHidden: false), t.Config);
        var student = StructuredPruner.Prune(t, plan);
        Assert.Equal(rotary.Length, student.Config.R);
        var tokens = TinyTeacher.Tokens(24, t.Config.V, seed: 3);
        int prefix = t.Config.RopeInterleaved ? 6 : 0;
        var expected = EngineLogits(ModelBridge.ToModel(Zeroed(t, plan)), tokens, prefix);
        var got = EngineLogits(ModelBridge.ToModel(student), tokens, prefix);
        output.WriteLine($"{layout} D'={d} R'={rotary.Length}: max |student − zeroed teacher| = {TinyTeacher.MaxAbsDiff(expected, got):E2} (logits up to {expected.Max(MathF.Abs):F2})");
        TinyTeacher.AssertClose(expected, got, 1e-4f);
        // The comparison can fail: the unpruned teacher differs, and so does the same student without rotary (the lost bug's
        // students) or rotating at other frequencies (pair 0 turns at 1 rad/position whatever θ, so only with R' > 2).
        Assert.True(TinyTeacher.MaxAbsDiff(EngineLogits(ModelBridge.ToModel(t), tokens, prefix), got) > 1e-2f);
        Assert.True(TinyTeacher.MaxAbsDiff(expected, EngineLogits(ModelBridge.ToModel(WithConfig(student, "partial_rotary_factor", 0.0)), tokens, prefix)) > 1e-3f);
        if (rotary.Length > 2)
            Assert.True(TinyTeacher.MaxAbsDiff(expected, EngineLogits(ModelBridge.ToModel(WithConfig(student, "rope_theta", t.Config.RopeTheta * 3)), tokens, prefix)) > 1e-3f);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void StudentEqualsTheMaskedTeacherWithHiddenChannelsPruned(string layout, int d, int[] rotary)
    {
        var t = Teacher(layout);
        var plan = ResolvedPlan.Resolve(Plan(t, d, pruneHidden: true), t.Config);
        var student = StructuredPruner.Prune(t, plan);
        Assert.Equal(rotary.Length, plan.R);
        var tokens = TinyTeacher.Tokens(24, t.Config.V, seed: 4);
        var masked = TinyTeacher.Logits(t, tokens, PruneMask.FromPlan(plan));
        TinyTeacher.AssertClose(masked, TinyTeacher.Logits(student, tokens), 1e-4f);
        TinyTeacher.AssertClose(masked, EngineLogits(ModelBridge.ToModel(student), tokens, 0), 2e-4f);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void StreamedStudentIsTheInMemoryStudent(string layout, int d, int[] rotary)
    {
        var dir = TinyTeacher.TempDir();
        try
        {
            var t = Teacher(layout);
            t.Save(Path.Combine(dir, "t"));
            var plan = Plan(t, d, pruneHidden: true);
            var inMemory = StructuredPruner.Prune(t, plan);
            using (var mapped = MappedTeacher.Open(Path.Combine(dir, "t")))
            {
                var shape = StructuredPruner.PruneTo(mapped, ResolvedPlan.Resolve(plan, mapped.Config), Path.Combine(dir, "s"));
                Assert.Equal(inMemory.Config.ToJson(), shape.ToJson());
            }
            var back = ModelFiles.Load(Path.Combine(dir, "s"));
            Assert.Equal(rotary.Length, back.Config.R);
            foreach (var w in inMemory.Weights.All) Assert.Equal(w.Data, back.Weights.Get(w.Name, w.Shape).Data); // bit-identical
            var tokens = TinyTeacher.Tokens(20, t.Config.V, seed: 5);
            Assert.Equal(EngineLogits(ModelBridge.ToModel(inMemory), tokens, 0), EngineLogits(ModelDirectory.Load(Path.Combine(dir, "s")), tokens, 0));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData("chatglm2", 4)]     // D = 8, R = 4: both pairs kept, the pass-through half pruned
    [InlineData("glm4", 4)]         // the same with rope_ratio 500 (θ = 5e6) and one KV group
    [InlineData("chatglm3-mha", 8)] // D = 12, R = 6: three pairs + 2 of 6 pass-through channels
    [InlineData("llama", 4)]        // D = 8 all rotary: stride pairs {0, 2}
    [InlineData("qwen2", 4)]        // the same with qkv bias
    public void StreamedFromAHuggingFaceCheckpointEqualsTheZeroedTeacher(string name, int d)
    {
        using var tmp = HfGolden.Temp();
        HfImporter.Import(HfGolden.DirOf(name), tmp.Sub("imported"));
        var imported = ModelFiles.Load(tmp.Sub("imported"));
        ResolvedPlan plan;
        using (var mapped = MappedTeacher.Open(HfGolden.DirOf(name)))
        {
            var x = new PruningTargets { HeadDim = d, HeadsPerGroup = mapped.Config.Group > 1 ? mapped.Config.Group / 2 : null };
            plan = ResolvedPlan.Resolve(PlanBuilder.Build(mapped.Config, WeightImportance.Magnitude(mapped), x), mapped.Config);
            StructuredPruner.PruneTo(mapped, plan, tmp.Sub("student"));
        }
        var s = ModelConfig.Load(Path.Combine(tmp.Sub("student"), "config.json"));
        Assert.Equal((d, Math.Min(d, imported.Config.R), imported.Config.RopeInterleaved, imported.Config.RopeTheta), (s.D, s.R, s.RopeInterleaved, s.RopeTheta));
        var tokens = TinyTeacher.Tokens(16, imported.Config.V, seed: 6);
        var got = EngineLogits(ModelDirectory.Load(tmp.Sub("student")), tokens, 0);
        var expected = EngineLogits(ModelBridge.ToModel(Zeroed(imported, plan)), tokens, 0);
        output.WriteLine($"{name} D'={d} R'={s.R}: max |student − zeroed teacher| = {TinyTeacher.MaxAbsDiff(expected, got):E2}");
        TinyTeacher.AssertClose(expected, got, 1e-4f);
        Assert.True(TinyTeacher.MaxAbsDiff(EngineLogits(ModelBridge.ToModel(imported), tokens, 0), got) > 1e-3f);
    }

    [Theory]
    [InlineData(16, 8, 10000.0)]
    [InlineData(16, 4, 10000.0)]
    [InlineData(16, 2, 500.0)]
    [InlineData(128, 32, 5e6)]
    [InlineData(64, 16, 1e6)]
    public void AStrideSetRotatesAtTheTeachersFrequenciesBitForBit(int r, int r2, double theta)
    {
        // The engine's float32 table of the student (R' dims) against the teacher's (R dims) for the pairs a stride set keeps.
        var rot = new RotaryChannels(r, r, Interleaved: true);
        var pairs = rot.StridePairs(r2 / 2)!;
        Assert.True(rot.KeepsFrequencies(pairs));
        var teacher = new LightGlm.Kernels.RotaryTable(512, r, theta);
        var student = new LightGlm.Kernels.RotaryTable(512, r2, theta);
        for (int t = 0; t < 512; t++)
            for (int k = 0; k < r2 / 2; k++)
            {
                Assert.Equal(teacher.Cos[t * r / 2 + pairs[k]], student.Cos[t * r2 / 2 + k]);
                Assert.Equal(teacher.Sin[t * r / 2 + pairs[k]], student.Sin[t * r2 / 2 + k]);
            }
    }

    [Fact]
    public void StudentsOfTheOldPassThroughFirstRuleAreStale()
    {
        var t = Teacher("glm"); // R = 8 of D = 16
        var old = new PruningPlan { LayerPlans = [.. Enumerable.Range(0, t.Config.L).Select(_ => new LayerPlan { QkChannels = [[.. Enumerable.Range(8, 8)], [.. Enumerable.Range(8, 8)]], VChannels = [[.. Enumerable.Range(0, 8)], [.. Enumerable.Range(0, 8)]] })] };
        var oldStudent = StructuredPruner.Prune(t, old).Config; // a legal hand-written plan, but not what the builder makes
        Assert.Equal(0, oldStudent.R);
        Assert.Contains("min(R, D') = 8", PlanBuilder.StaleRotary(t.Config, oldStudent));
        Assert.Null(PlanBuilder.StaleRotary(t.Config, StructuredPruner.Prune(t, Plan(t, 8, false)).Config));
        Assert.Null(PlanBuilder.StaleRotary(t.Config, StructuredPruner.Prune(t, Plan(t, 4, false)).Config));
        Assert.Null(PlanBuilder.StaleRotary(t.Config, t.Config));
    }

    [Fact]
    public void QueryHeadsOfAGroupShareItsChannelsAndGroupsMayDiffer()
    {
        var t = Teacher("glm");
        var plan = ResolvedPlan.Resolve(Plan(t, 12, pruneHidden: false), t.Config);
        Assert.Contains(plan.Layers, l => !l.QkChannels[0].SequenceEqual(l.QkChannels[1])); // importance differs per group
        var q = StructuredPruner.Pieces(t.Config, plan).Single(p => p.Name == Q(0));
        var k = StructuredPruner.Pieces(t.Config, plan).Single(p => p.Name == K(0));
        var l0 = plan.Layers[0];
        int g = l0.Heads.Length / l0.KvHeads.Length, D = t.Config.D, D2 = plan.D;
        for (int i = 0; i < l0.Heads.Length; i++)
            for (int c = 0; c < D2; c++)
            {
                // student q head i, channel c and its KV head's k channel c are the same teacher channel
                Assert.Equal(q.Rows[i * D2 + c] % D, k.Rows[i / g * D2 + c] % D);
                Assert.Equal(l0.Heads[i] / t.Config.Group, k.Rows[i / g * D2 + c] / D);
            }
    }

    [Fact]
    public void HeadDimTargetsThatBreakRotaryPairsAreRejected()
    {
        var glm = Teacher("glm");
        // D' = 6 < R = 8: 3 pairs of 4 is no stride set; D' = 5 splits a pair.
        Assert.Contains("no stride set", Assert.Throws<InvalidDataException>(() => Plan(glm, 6, false)).Message);
        Assert.Contains("even", Assert.Throws<InvalidDataException>(() => Plan(glm, 5, false)).Message);
        Assert.Contains("even", Assert.Throws<InvalidDataException>(() => Plan(glm, 11, false)).Message);
        // With consent the best pairs are kept and the plan says frequencies change.
        var byImportance = PlanBuilder.Build(glm.Config, WeightImportance.Random(glm.Config, 1), new PruningTargets { HeadDim = 6, Rotary = "importance" });
        Assert.True(byImportance.AllowRopeFrequencyChange);
        Assert.All(byImportance.LayerPlans!.SelectMany(l => l.QkChannels!), qk => Assert.All(qk, c => Assert.True(c < glm.Config.R)));
    }

    [Fact]
    public void BudgetOnlyPicksHeadDimsTheStridePolicyCanBuild()
    {
        var t = Teacher("llama").Config; // 8 pairs: stride sets of 1, 2, 4, 8 pairs → D' ∈ {2, 4, 8, 16}
        long budget = PruningTargets.Params(t, new PruningTargets { HeadDim = 12, Ffn = 15 });
        var x = PruningTargets.ForBudget(t, budget, new PruningTargets());
        Assert.Equal(8, x.HeadDim);
        ResolvedPlan.Resolve(PlanBuilder.Build(t, WeightImportance.Random(t, 3), x), t);
        var byImportance = PruningTargets.ForBudget(t, budget, new PruningTargets { Rotary = "importance" });
        Assert.Equal(12, byImportance.HeadDim);
    }

    // ---- helpers ----

    static ModelFiles WithConfig(ModelFiles m, string field, double value)
    {
        var json = System.Text.Json.Nodes.JsonNode.Parse(m.Config.ToJson())!.AsObject();
        json[field] = value;
        return new ModelFiles(ModelConfig.FromJson(json.ToJsonString()), m.Weights);
    }

    static float[] EngineLogits(GlmModel model, int[] tokens, int prefix)
    {
        var batch = Batch.From(1, tokens.Length, tokens);
        batch.PrefixLengths = [prefix];
        var cache = model.CreateCache(1, tokens.Length);
        model.Forward(cache, batch);
        return cache.Logits.Span.ToArray();
    }

    /// <summary>
    /// The teacher with everything the plan prunes set to zero in its weights (hidden channels must all be kept): a dropped
    /// layer's o_proj and down_proj (the block becomes the identity), pruned q/k/v rows and biases, dropped heads' o_proj
    /// columns, dropped neurons' down_proj columns. The engine then runs it at the teacher's D and rotary table.
    /// </summary>
    static ModelFiles Zeroed(ModelFiles teacher, ResolvedPlan plan)
    {
        var t = teacher.Config;
        Assert.Equal(t.C, plan.C);
        var w = teacher.Weights.Clone();
        void ZeroRow(string name, int row) { var m = w.TryGet(name); if (m is null) return; Array.Clear(m.Data, row * m.Cols, m.Cols); }
        void ZeroCol(string name, int col) { var m = w.Get(name); for (int r = 0; r < m.Rows; r++) m.Data[(long)r * m.Cols + col] = 0; }
        for (int l = 0; l < t.L; l++)
        {
            var kept = plan.Layers.SingleOrDefault(x => x.Teacher == l);
            if (kept is null)
            {
                Array.Clear(w.Get(O(l)).Data);
                Array.Clear(w.Get(Down(l)).Data);
                continue;
            }
            for (int g = 0; g < t.KV; g++)
            {
                int i = Array.IndexOf(kept.KvHeads, g);
                for (int c = 0; c < t.D; c++)
                {
                    if (i < 0 || !kept.QkChannels[i].Contains(c))
                    {
                        ZeroRow(K(l), g * t.D + c); ZeroRow(KBias(l), g * t.D + c);
                        for (int h = g * t.Group; h < (g + 1) * t.Group; h++) { ZeroRow(Q(l), h * t.D + c); ZeroRow(QBias(l), h * t.D + c); }
                    }
                    if (i < 0 || !kept.VChannels[i].Contains(c)) { ZeroRow(V(l), g * t.D + c); ZeroRow(VBias(l), g * t.D + c); }
                }
            }
            for (int h = 0; h < t.H; h++)
                if (!kept.Heads.Contains(h))
                    for (int c = 0; c < t.D; c++) ZeroCol(O(l), h * t.D + c);
            for (int n = 0; n < t.F; n++)
                if (!kept.FfnNeurons.Contains(n)) ZeroCol(Down(l), n);
        }
        return new ModelFiles(t, w);
    }
}
