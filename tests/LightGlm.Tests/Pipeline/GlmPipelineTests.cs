// The real model through the pipeline (threads): loss, every gradient and the weights after N steps
// equal one-process training of the same global batch, for K ∈ {1,2,4}, M ∈ {1,2,4,8}, D ∈ {1,2}.
using LightGlm.Model;
using LightGlm.Pipeline;
using LightGlm.Tests.Model;

namespace LightGlm.Tests.Pipeline;

public class GlmPipelineTests
{
    internal static ModelConfig Config()
    {
        var c = TinyModels.Glm(vocab: 17);
        c.NumHiddenLayers = 4;
        return c;
    }

    internal static Batch[] Batches(ModelConfig c, int steps, int b = 16, int t = 6) =>
        Enumerable.Range(0, steps).Select(i => TinyModels.RandomBatch(c, b, t, seed: 50 + (ulong)i, prefix: true)).ToArray();

    /// <summary>One process, whole batch, no pipeline: losses, last gradients and final weights.</summary>
    internal static (double[] Loss, float[] Grads, float[] Weights) Reference(ModelConfig c, Batch[] steps, float lr)
    {
        var model = GlmModel.Create(c, seed: 9);
        var cache = model.CreateCache(steps[0].B, steps[0].T);
        var losses = new double[steps.Length];
        for (int i = 0; i < steps.Length; i++)
        {
            model.ZeroGrads();
            losses[i] = model.ForwardLoss(cache, steps[i]);
            model.Backward(cache, steps[i]);
            Sgd(model, lr);
        }
        return (losses, (float[])model.Grads.Clone(), (float[])model.Weights.Clone());
    }

    /// <summary>w −= lr·g over the whole arena (the simplest update: these tests compare gradients).</summary>
    internal static void Sgd(GlmModel m, float lr) =>
        System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(m.Grads, -lr, m.Weights, m.Weights);

    public static IEnumerable<object[]> Configs()
    {
        foreach (int k in new[] { 1, 2, 4 })
            foreach (int m in new[] { 1, 2, 4, 8 })
                foreach (int d in new[] { 1, 2 })
                    foreach (var s in new[] { ScheduleKind.GPipe, ScheduleKind.OneFOneB })
                        yield return [k, m, d, s];
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void PipelineEqualsSingleProcess(int stages, int micro, int replicas, ScheduleKind schedule)
    {
        var c = Config();
        var steps = Batches(c, 3);
        var (refLoss, refGrads, refWeights) = Reference(c, steps, lr: 0.2f);
        var cfg = new PipelineConfig(stages, micro, replicas, schedule).Validate(c.L, steps[0].B);
        var trainer = new InProcessGlmPipeline(GlmModel.Create(c, seed: 9), cfg, StageSplit.Even(c.L, stages));
        for (int i = 0; i < steps.Length; i++)
        {
            var r = trainer.Step(steps[i]);
            Assert.Equal(refLoss[i], r.Loss, 5);
            Sgd(trainer.Model, 0.2f);
            trainer.WeightsChanged();
        }
        InProcessPipelineTests.AssertClose(refGrads, trainer.Model.Grads, $"{cfg} grads", 1e-5f);
        InProcessPipelineTests.AssertClose(refWeights, trainer.Model.Weights, $"{cfg} weights", 1e-5f);
        if (replicas > 1) InProcessPipelineTests.AssertClose(trainer.Model.Weights, trainer.Stage(1, 0).Model.Weights, "replica 1 weights", 0);
        // 1F1B keeps at most K−s caches on stage s, GPipe all M.
        for (int s = 0; s < stages; s++)
            Assert.Equal(schedule == ScheduleKind.GPipe ? micro : Math.Min(stages - s, micro), trainer.Stage(0, s).CachesAllocated);
    }

    [Fact]
    public void StagesOwnDisjointContiguousParameterRangesCoveringTheModel()
    {
        var c = Config();
        var model = GlmModel.Create(c);
        var split = StageSplit.Parse("0,1,3,4", c.L);
        var stages = Enumerable.Range(0, 3).Select(s => new GlmStage(model, split, s)).ToArray();
        Assert.Equal(0, stages[0].ParameterStart);
        Assert.Equal(stages[0].ParameterEnd, stages[1].ParameterStart);
        Assert.Equal(stages[1].ParameterEnd, stages[2].ParameterStart);
        Assert.Equal(model.Weights.Length, stages[2].ParameterEnd);
        Assert.Equal(model.Layout["model.layers.1.input_layernorm.weight"].Offset, stages[1].ParameterStart);
    }

    [Fact]
    public void BadConfigurationsAreRejectedWithTheReason()
    {
        var e = Assert.Throws<ArgumentException>(() => new PipelineConfig(5, 3, 2, ScheduleKind.GPipe).Validate(4, 16));
        Assert.Contains("--pipeline-stages 5 exceeds the model's 4 layers", e.Message);
        Assert.Contains("batch size 16 must be a multiple of --data-parallel x --micro-batches = 6", e.Message);
        var c = Config();
        c.TieWordEmbeddings = true;
        Assert.Throws<NotSupportedException>(() => new GlmStage(GlmModel.Create(c), StageSplit.Even(4, 2), 0));
    }
}
