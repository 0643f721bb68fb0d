// Packed training rows: several examples per row must train exactly as if each were alone in its own row.
using LightGlm.Kernels;
using LightGlm.Model;
using LightGlm.Tests.Model;
using LightGlm.Training;
using LightGlm.Translation;

namespace LightGlm.Tests.Training;

public class PackingTests
{
    static TaskExample Example(Rng rng, int prefix, int len, int V)
    {
        var tokens = new int[len];
        var targets = new int[len];
        for (int i = 0; i < len; i++) tokens[i] = 2 + rng.NextInt(V - 2);
        for (int i = 0; i < len; i++) targets[i] = i < prefix - 1 ? -1 : (i + 1 < len ? tokens[i + 1] : 1);
        return new TaskExample(tokens, targets, prefix, Direction.EnToZh);
    }

    /// <summary>
    /// Three examples (prefix LM) packed into one row of 16 give the same summed loss and the same gradients as the
    /// three examples each alone in a padded row: the block-diagonal mask hides the other examples and rotary
    /// positions restart at each example. Fails if either is missing (checked by the control below).
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void APackedRowTrainsLikeItsExamplesAlone(bool positionsRestart)
    {
        var c = TinyModels.Glm();
        var model = GlmModel.Create(c, seed: 11, std: 0.3);
        var rng = new Rng(5);
        var ex = new[] { Example(rng, 3, 5, c.V), Example(rng, 2, 4, c.V), Example(rng, 4, 6, c.V) };
        int T = 16;

        // Alone: one example per row, right padding, per-row prefix.
        var alone = new Batch(3, T);
        Array.Fill(alone.Tokens, 0); Array.Fill(alone.Targets, -1);
        alone.PrefixLengths = new int[3];
        for (int b = 0; b < 3; b++) { ex[b].Tokens.CopyTo(alone.Tokens, b * T); ex[b].Targets.CopyTo(alone.Targets, b * T); alone.PrefixLengths[b] = ex[b].PrefixLength; }
        alone.LossScale = 1f;
        var cacheA = model.CreateCache(3, T);
        model.ZeroGrads();
        double lossA = model.ForwardLoss(cacheA, alone);
        model.Backward(cacheA, alone);
        var gradA = (float[])model.Grads.Clone();

        // Packed: the three back to back in one row.
        var source = new PackedBatchSource(ex, T, padId: 0, seed: 1);
        var packed = new Batch(1, T);
        source.Fill(packed, 0);
        Assert.Equal(15, packed.RealTokens);
        Assert.Equal(alone.TargetCount(), packed.TargetCount());
        if (!positionsRestart)
        {   // control: the same row read as one long sequence (no block-diagonal mask, positions running on)
            packed.SegmentStarts = null; packed.SegmentPrefixEnds = null;
            packed.PrefixLengths = [ex[0].PrefixLength];
        }
        packed.LossScale = 1f;
        var cacheP = model.CreateCache(1, T);
        model.ZeroGrads();
        double lossP = model.ForwardLoss(cacheP, packed);
        model.Backward(cacheP, packed);

        double maxDiff = 0, maxG = 0;
        for (int i = 0; i < gradA.Length; i++) { maxDiff = Math.Max(maxDiff, Math.Abs(gradA[i] - model.Grads[i])); maxG = Math.Max(maxG, Math.Abs(gradA[i])); }
        if (positionsRestart)
        {
            Assert.Equal(lossA, lossP, 1e-4);
            Assert.True(maxDiff <= 1e-4 * Math.Max(1, maxG), $"max gradient difference {maxDiff} (largest gradient {maxG})");
        }
        else Assert.True(Math.Abs(lossA - lossP) > 1e-3 || maxDiff > 1e-3, "the control should differ: packing without segments is not the same computation");
    }

    [Fact]
    public void EveryExampleIsPackedOncePerEpochDeterministically()
    {
        var rng = new Rng(3);
        var ex = Enumerable.Range(0, 500).Select(i => Example(rng, 2 + i % 5, 6 + (i * 7) % 20, 50)).ToArray();
        int T = 48;
        var a = new PackedBatchSource(ex, T, 0, seed: 9);
        var stats = a.FirstEpochStats();
        Assert.Equal(500, stats.Examples);
        Assert.True(stats.PadFraction < 0.05, $"pad fraction {stats.PadFraction:P1}");
        // One epoch of rows, read through Fill: every example's tokens appear once; same seed → same batches.
        var b = new PackedBatchSource(ex, T, 0, seed: 9);
        int B = 4, batches = (stats.Rows + B - 1) / B;
        long real = 0;
        for (int i = 0; i < batches; i++)
        {
            var x = new Batch(B, T); var y = new Batch(B, T);
            a.Fill(x, i); b.Fill(y, i);
            Assert.Equal(x.Tokens, y.Tokens);
            Assert.Equal(x.SegmentStarts, y.SegmentStarts);
            real += x.RealTokens;
            new AttentionSegments(x.SegmentStarts, x.SegmentPrefixEnds).Validate("test", B, T);
        }
        // The last batch may run into the next epoch's rows; the first epoch's tokens are all there.
        Assert.True(real >= ex.Sum(e => (long)e.Length));
        Assert.True(real <= ex.Sum(e => (long)e.Length) + (long)B * T);
    }

    [Fact]
    public void AnExampleLongerThanTheRowIsRefusedWithItsSize()
    {
        var ex = new[] { new TaskExample(new int[60], new int[60], 3, Direction.EnToZh) };
        var e = Assert.Throws<ArgumentException>(() => new PackedBatchSource(ex, 48, 0, 1));
        Assert.Contains("60 tokens", e.Message);
    }

    [Fact]
    public void OverlappingSegmentsAreRefused()
    {
        // Position 2 claims a segment that started at 0 with a prefix to 4, after position 1 started a new one.
        int[] starts = [0, 1, 0, 3], ends = [0, 1, 4, 3];
        var e = Assert.Throws<ArgumentException>(() => new AttentionSegments(starts, ends).Validate("test", 1, 4));
        Assert.Contains("packed row 0", e.Message);
        // A prefix that reaches into the next example.
        int[] s2 = [0, 0, 2, 2], p2 = [3, 3, 2, 2];
        e = Assert.Throws<ArgumentException>(() => new AttentionSegments(s2, p2).Validate("test", 1, 4));
        Assert.Contains("inside the next example", e.Message);
    }
}
