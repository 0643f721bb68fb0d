// Cuts a global batch into data-parallel shards and micro-batches of equal shape, each carrying the
// global loss scale, so that Σ over micro-batches and replicas of the gradients = the global batch's.
using LightGlm.Model;

namespace LightGlm.Pipeline;

public static class MicroBatches
{
    /// <summary>Replica <paramref name="replica"/>'s <paramref name="micro"/> micro-batches of <paramref name="global"/>:
    /// rows are cut contiguously, first over replicas, then over micro-batches; B must divide by D·M.
    /// LossScale = global.LossScale (normalise the global batch first, e.g. by its own target count).</summary>
    public static Batch[] Split(Batch global, int replicas, int replica, int micro)
    {
        int parts = replicas * micro;
        if (global.B % parts != 0)
            throw new ArgumentException($"batch size {global.B} must be a multiple of data-parallel x micro-batches = {replicas} x {micro} = {parts}");
        int b = global.B / parts, T = global.T;
        var result = new Batch[micro];
        for (int m = 0; m < micro; m++)
        {
            int row0 = (replica * micro + m) * b;
            var mb = new Batch(b, T)
            {
                LossScale = global.LossScale, Training = global.Training, DropoutSeed = global.DropoutSeed,
                PrefixLengths = global.PrefixLengths?[row0..(row0 + b)],
                SampleWeights = global.SampleWeights?[row0..(row0 + b)],
                SegmentStarts = global.SegmentStarts?[(row0 * T)..((row0 + b) * T)],
                SegmentPrefixEnds = global.SegmentPrefixEnds?[(row0 * T)..((row0 + b) * T)],
            };
            global.Tokens.AsSpan(row0 * T, b * T).CopyTo(mb.Tokens);
            global.Targets.AsSpan(row0 * T, b * T).CopyTo(mb.Targets);
            result[m] = mb;
        }
        return result;
    }
}
