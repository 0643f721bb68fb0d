// Importance on a tiny teacher with planted dead structures: every estimator must rank them last; the test oracle = the engine.
using LightGlm.Compression;
using LightGlm.Compression.Importance;
using LightGlm.Compression.Pruning;
using LightGlm.Model;
using static LightGlm.Model.TensorNames;

namespace LightGlm.Tests.Compression;

public class ImportanceTests
{
    const int DeadHead = 2, DeadHeadLayer = 1, DeadNeuron = 7, DeadLayer = 2, DeadHidden = 5, DeadQk = 6, DeadV = 3, DeadGroup = 1;

    /// <summary>GLM-style teacher, H = KV = 4 (so a head owns its k/v), with dead parts planted (weights zeroed).</summary>
    static ModelFiles Planted()
    {
        var m = TinyTeacher.Create(glm: true, seed: 11, L: 4, C: 16, H: 4, KV: 4, D: 8, F: 12, V: 29);
        var w = m.Weights;
        int C = 16, D = 8, H = 4;
        void ZeroRows(string name, int r0, int n, int cols) { if (w.TryGet(name) is { } t) Array.Clear(t.Data, r0 * cols, n * cols); }
        void ZeroCol(string name, int col) { var t = w.Get(name); for (int r = 0; r < t.Rows; r++) t.Data[r * t.Cols + col] = 0; }
        // Dead head: its q/k/v rows, biases and o columns.
        foreach (var n in new[] { Q(DeadHeadLayer), K(DeadHeadLayer), TensorNames.V(DeadHeadLayer) }) ZeroRows(n, DeadHead * D, D, C);
        foreach (var n in new[] { QBias(DeadHeadLayer), KBias(DeadHeadLayer), VBias(DeadHeadLayer) }) ZeroRows(n, DeadHead * D, D, 1);
        for (int d = 0; d < D; d++) ZeroCol(O(DeadHeadLayer), DeadHead * D + d);
        // Dead FFN neuron in layer 0.
        ZeroRows(Gate(0), DeadNeuron, 1, C); ZeroRows(Up(0), DeadNeuron, 1, C); ZeroCol(Down(0), DeadNeuron);
        // Dead layer: its block writes nothing to the residual stream.
        Array.Clear(w.Get(O(DeadLayer)).Data); Array.Clear(w.Get(Down(DeadLayer)).Data);
        // Dead hidden channel: nothing reads or writes it.
        ZeroCol(Embed, DeadHidden); ZeroCol(LmHead, DeadHidden);
        for (int l = 0; l < 4; l++)
        {
            foreach (var n in new[] { Q(l), K(l), TensorNames.V(l), Gate(l), Up(l) }) ZeroCol(n, DeadHidden);
            ZeroRows(O(l), DeadHidden, 1, H * D); ZeroRows(Down(l), DeadHidden, 1, 12);
        }
        // Dead pass-through qk channel (R = 4, so 6 is not rotary) and dead v channel, in every layer's group 1.
        for (int l = 0; l < 4; l++)
        {
            ZeroRows(Q(l), DeadGroup * D + DeadQk, 1, C); ZeroRows(K(l), DeadGroup * D + DeadQk, 1, C);
            ZeroRows(QBias(l), DeadGroup * D + DeadQk, 1, 1); ZeroRows(KBias(l), DeadGroup * D + DeadQk, 1, 1);
            ZeroRows(TensorNames.V(l), DeadGroup * D + DeadV, 1, C); ZeroRows(VBias(l), DeadGroup * D + DeadV, 1, 1);
            ZeroCol(O(l), DeadGroup * D + DeadV);
        }
        return m;
    }

    static List<CalibrationSample> Calibration(int V) => Enumerable.Range(0, 3).Select(i =>
    {
        var t = TinyTeacher.Tokens(10, V, seed: 100 + i);
        return new CalibrationSample(t, t.Skip(1).Append(-1).ToArray(), Prefix: i);
    }).ToList();

    static int ArgMin(double[] a) => Array.IndexOf(a, a.Min());

    [Theory]
    [InlineData("activation")]
    [InlineData("magnitude")]
    [InlineData("taylor")]
    public void PlantedDeadStructuresRankLast(string method)
    {
        var m = Planted();
        var cal = Calibration(m.Config.V);
        var s = method switch
        {
            "activation" => ActivationImportance.Compute(m, cal),
            "magnitude" => WeightImportance.Magnitude(m),
            _ => WeightImportance.Taylor(m, TaylorGradients.Compute(m, cal)),
        };
        Assert.Equal(DeadHead, ArgMin(s.Heads[DeadHeadLayer]));
        Assert.Equal(DeadHead, ArgMin(s.KvHeads[DeadHeadLayer]));
        Assert.Equal(DeadNeuron, ArgMin(s.Ffn[0]));
        Assert.Equal(DeadLayer, ArgMin(s.Layers));
        Assert.Equal(DeadHidden, ArgMin(s.Hidden));
        Assert.Equal(DeadQk, ArgMin(s.QkChannels[0][DeadGroup][4..]) + 4); // among pass-through channels
        Assert.Equal(DeadV, ArgMin(s.VChannels[0][DeadGroup]));
        // And the live ones are not all zero (the test could fail).
        Assert.True(s.Heads[DeadHeadLayer].Max() > 0 && s.Ffn[0].Max() > 0 && s.Hidden.Max() > 0);
    }

    [Fact]
    public void DroppingTheDeadLayerCostsNothing()
    {
        var m = Planted();
        var drop = ActivationImportance.DropLoss(m, Calibration(m.Config.V));
        Assert.Equal(0, drop[DeadLayer], 5);
        Assert.Equal(DeadLayer, ArgMin(drop.Select(Math.Abs).ToArray()));
        Assert.True(drop.Max() > 1e-3);
    }

    [Fact]
    public void LayerSelectionByLossRemovesTheCheapestLayerAndThenKeepsTheBestRemainingSubset()
    {
        var m = Planted();
        var cal = Calibration(m.Config.V);
        var drop = ActivationImportance.DropLoss(m, cal);
        var one = ActivationImportance.LayerSubsetByLoss(m, cal, keep: 3);
        int first = ArgMin(drop); // (a random teacher: a live layer may even cost less than the dead one, whose removal costs 0)
        Assert.Equal(first, ArgMin(one));
        Assert.Equal(3, one.Count(x => x > m.Config.L)); // the kept set scores above every removed layer
        // Keeping 2: the same layer goes first, then the pair kept is the best of the pairs of the three left.
        var two = ActivationImportance.LayerSubsetByLoss(m, cal, keep: 2);
        Assert.Equal(0, two[first]);
        var kept = PlanBuilder.Top(two, 2).Order().ToArray();
        double Loss(IEnumerable<int> layers)
        {
            var mask = PruneMask.Full(m.Config);
            for (int l = 0; l < m.Config.L; l++) mask.Layers[l] = layers.Contains(l);
            return cal.Average(c => ReferenceForward.CrossEntropy(TinyTeacher.Logits(m, c.Tokens, mask, c.Prefix), c.Targets, m.Config.V));
        }
        var left = Enumerable.Range(0, m.Config.L).Where(l => l != first).ToArray();
        double chosen = Loss(kept);
        Assert.All(left, d => Assert.True(chosen <= Loss(left.Where(l => l != d)) + 1e-9, $"kept {string.Join(",", kept)}: {chosen}"));
        Assert.Throws<ArgumentOutOfRangeException>(() => ActivationImportance.LayerSubsetByLoss(m, cal, keep: 0));
    }

    [Fact]
    public void PruningExactlyTheDeadPartsKeepsTheTeachersOutputs()
    {
        var m = Planted();
        var s = ActivationImportance.Compute(m, Calibration(m.Config.V));
        var plan = PlanBuilder.Build(m.Config, s, new PruningTargets { Layers = 3, Hidden = 15 });
        Assert.DoesNotContain(DeadLayer, plan.Layers!);
        Assert.DoesNotContain(DeadHidden, plan.HiddenChannels!);
        var student = StructuredPruner.Prune(m, plan);
        var tokens = TinyTeacher.Tokens(9, m.Config.V);
        // Removing parts that contribute exactly zero changes nothing, except RMSNorm now averages over 15 channels, not 16:
        // compare with the masked teacher for that, and with the plain teacher on the depth-only plan.
        TinyTeacher.AssertClose(TinyTeacher.Logits(m, tokens, PruneMask.FromPlan(ResolvedPlan.Resolve(plan, m.Config))), TinyTeacher.Logits(student, tokens));
        var depthOnly = StructuredPruner.Prune(m, PlanBuilder.Build(m.Config, s, new PruningTargets { Layers = 3 }));
        TinyTeacher.AssertClose(TinyTeacher.Logits(m, tokens), TinyTeacher.Logits(depthOnly, tokens));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ReferenceForwardEqualsTheEngine(bool glm)
    {
        var m = TinyTeacher.Create(glm, seed: 21);
        var tokens = TinyTeacher.Tokens(12, m.Config.V);
        var model = ModelBridge.ToModel(m);
        var batch = Batch.From(1, tokens.Length, tokens);
        batch.PrefixLengths = [glm ? 5 : 0];
        var cache = model.CreateCache(1, tokens.Length);
        model.Forward(cache, batch);
        var engine = cache.Logits.Span.ToArray();
        TinyTeacher.AssertClose(engine, new ReferenceForward(m).Logits(tokens, prefix: glm ? 5 : 0), 5e-4f);
    }

    [Fact]
    public void BudgetShrinksHeadDimAndFfnTogether()
    {
        var t = TinyTeacher.Create(glm: true, C: 24, H: 6, KV: 3, D: 8, F: 24).Config;
        long budget = t.ParameterCount() * 3 / 4;
        var x = PruningTargets.ForBudget(t, budget, new PruningTargets());
        Assert.True(PruningTargets.Params(t, x) <= budget);
        Assert.True(PruningTargets.Params(t, x with { HeadDim = x.HeadDim + 2, Ffn = (int)Math.Round((x.HeadDim!.Value + 2.0) / 8 * 24) }) > budget);
        Assert.Equal((int)Math.Round(x.HeadDim!.Value / 8.0 * 24), x.Ffn);
        var plan = PlanBuilder.Build(t, WeightImportance.Random(t, 1), x);
        var resolved = ResolvedPlan.Resolve(plan, t);
        Assert.True(resolved.ExactRotary);
        Assert.Equal(x.HeadDim, resolved.D);
    }

    [Fact]
    public void FullRotaryHeadDimUsesAStrideSetOrSaysWhyNot()
    {
        var t = TinyTeacher.Create(glm: false, D: 8).Config; // R = 8: 4 pairs
        var plan = PlanBuilder.Build(t, WeightImportance.Random(t, 2), new PruningTargets { HeadDim = 4 });
        Assert.Equal([0, 2, 4, 6], plan.LayerPlans![0].QkChannels![0]);
        var ex = Assert.Throws<InvalidDataException>(() => PlanBuilder.Build(t, WeightImportance.Random(t, 2), new PruningTargets { HeadDim = 6 }));
        Assert.Contains("no stride set", ex.Message);
        var byImportance = PlanBuilder.Build(t, WeightImportance.Random(t, 2), new PruningTargets { HeadDim = 6, Rotary = "importance" });
        Assert.False(ResolvedPlan.Resolve(byImportance, t).ExactRotary);
    }

    [Fact]
    public void BaselinePlans()
    {
        var t = TinyTeacher.Create(glm: false, L: 5).Config;
        Assert.Equal([0, 1, 2], PlanBuilder.TopLayerDrop(t, 3).Layers);
        Assert.Equal([0, 2, 4], PlanBuilder.AlternateLayers(t).Layers);
    }
}
