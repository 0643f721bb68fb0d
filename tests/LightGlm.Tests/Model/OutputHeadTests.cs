// The LM head on target rows only (training) gives the loss and gradients of the head on every row.
using LightGlm.Model;

namespace LightGlm.Tests.Model;

public class OutputHeadTests
{
    [Theory]
    [InlineData("glm", 0f)]
    [InlineData("glm", 0.1f)]
    [InlineData("llama", 0f)]
    public void HeadOnTargetRowsGivesTheSameLossAndGradients(string kind, float labelSmoothing)
    {
        var c = kind == "glm" ? TinyModels.Glm(vocab: 29) : TinyModels.Llama(vocab: 29);
        var batch = TinyModels.RandomBatch(c, 3, 10, seed: 7, prefix: kind == "glm");
        // A prompt without targets, as a prefix-LM pair's source side: the rows the compacted head skips.
        for (int t = 0; t < 6; t++) batch.Targets[10 + t] = -1;
        batch.NormaliseByOwnCount();
        var objective = new CrossEntropyObjective(labelSmoothing);
        (double Loss, float[] Grads, int Active, double[] RowLoss) Run(bool compact)
        {
            var m = new GlmModel(c) { HeadOnTargetRowsOnly = compact };
            m.Initialise(3, std: 0.2);
            var cache = m.CreateCache(batch.B, batch.T);
            m.ZeroGrads();
            double loss = m.Forward(cache, batch, objective);
            int active = cache.ActiveCount;
            m.Backward(cache, batch);
            return (loss, (float[])m.Grads.Clone(), active, (double[])cache.RowLoss.Clone());
        }
        var all = Run(false);
        var only = Run(true);
        int withTarget = batch.Targets.Count(t => t >= 0);
        Assert.Equal(-1, all.Active);
        Assert.Equal(withTarget, only.Active);
        Assert.True(withTarget < batch.B * batch.T);
        Assert.Equal(all.Loss, only.Loss, 1e-9);
        for (int n = 0; n < all.RowLoss.Length; n++) Assert.Equal(all.RowLoss[n], only.RowLoss[n], 1e-6);
        double maxG = all.Grads.Max(Math.Abs);
        for (int i = 0; i < all.Grads.Length; i++)
            Assert.True(Math.Abs(all.Grads[i] - only.Grads[i]) <= 1e-5 * maxG, $"gradient {i}: {all.Grads[i]} vs {only.Grads[i]}");
    }
}
