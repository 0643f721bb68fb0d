// The in-process transport: stages are threads of one process, linked by bounded hand-off
// queues; data-parallel replicas of a stage sum gradients through shared memory and a barrier.
using System.Collections.Concurrent;

namespace LightGlm.Pipeline;

/// <summary>A one-way bounded queue of (micro-batch, floats) between two stage threads.</summary>
internal sealed class HandOff(int capacity)
{
    readonly BlockingCollection<(int Micro, float[] Data, int Length)> _queue = new(capacity);
    readonly ConcurrentBag<float[]> _free = new();

    public long Messages;

    /// <summary>Copies <paramref name="data"/> (so the sender may reuse its buffer) and enqueues it;
    /// blocks while the queue is full.</summary>
    public void Put(int micro, ReadOnlySpan<float> data, CancellationToken cancel)
    {
        if (!_free.TryTake(out var buf) || buf.Length < data.Length) buf = new float[data.Length];
        data.CopyTo(buf);
        _queue.Add((micro, buf, data.Length), cancel);
        Interlocked.Increment(ref Messages);
    }

    public void Take(int micro, Span<float> into, CancellationToken cancel)
    {
        var (m, buf, n) = _queue.Take(cancel);
        if (m != micro || n != into.Length)
            throw new InvalidOperationException($"pipeline hand-off out of order: expected micro-batch {micro} ({into.Length} floats), got {m} ({n} floats)");
        buf.AsSpan(0, n).CopyTo(into);
        _free.Add(buf);
    }
}

/// <summary>The links of one stage thread to its neighbours.</summary>
internal sealed class InProcessStageTransport(HandOff? fromPrev, HandOff? toNext, HandOff? fromNext, HandOff? toPrev, CancellationToken cancel) : IStageTransport
{
    public void SendActivation(int micro, ReadOnlyMemory<float> data) => toNext!.Put(micro, data.Span, cancel);
    public void ReceiveActivation(int micro, Memory<float> into) => fromPrev!.Take(micro, into.Span, cancel);
    public void SendGradient(int micro, ReadOnlyMemory<float> data) => toPrev!.Put(micro, data.Span, cancel);
    public void ReceiveGradient(int micro, Memory<float> into) => fromNext!.Take(micro, into.Span, cancel);
    public void Flush() { } // Put copies, so a send is complete when it returns
}

/// <summary>Shared-memory all-reduce of one stage's D replicas. Every replica gets the sum in replica
/// order 0..D−1 for every element, so the result is bitwise identical on all replicas and runs.</summary>
internal sealed class SharedMemoryReducer : IGradientReducer
{
    readonly Barrier _barrier;
    readonly Memory<float>[] _slots;
    float[] _sum = [];
    readonly CancellationToken _cancel;
    readonly int _replica;

    SharedMemoryReducer(Barrier barrier, Memory<float>[] slots, int replica, CancellationToken cancel, SharedMemoryReducer? owner)
    {
        _barrier = barrier; _slots = slots; _replica = replica; _cancel = cancel; _owner = owner ?? this;
    }

    readonly SharedMemoryReducer _owner; // holds the shared sum buffer

    /// <summary>One reducer per replica, all sharing one barrier and buffer.</summary>
    public static SharedMemoryReducer[] Group(int replicas, CancellationToken cancel)
    {
        var barrier = new Barrier(replicas);
        var slots = new Memory<float>[replicas];
        var group = new SharedMemoryReducer[replicas];
        group[0] = new SharedMemoryReducer(barrier, slots, 0, cancel, null);
        for (int r = 1; r < replicas; r++) group[r] = new SharedMemoryReducer(barrier, slots, r, cancel, group[0]);
        return group;
    }

    public int Replicas => _slots.Length;

    /// <summary>All-reduces this replica took part in.</summary>
    public long Reductions;

    public void Start(Memory<float> gradients)
    {
        Reductions++;
        int d = _slots.Length, n = gradients.Length;
        _slots[_replica] = gradients;
        if (_replica == 0 && _sum.Length < n) _sum = new float[n];
        _barrier.SignalAndWait(_cancel);
        // Replica r sums chunk r: sum[i] = Σ_j slot_j[i], j = 0..D−1 in order.
        var sum = _owner._sum.AsSpan(0, n);
        int lo = (int)((long)n * _replica / d), hi = (int)((long)n * (_replica + 1) / d);
        for (int j = 0; j < d; j++)
        {
            var src = _slots[j].Span;
            if (src.Length != n) throw new InvalidOperationException($"replica {j} has {src.Length} gradients, replica {_replica} has {n}");
            if (j == 0) src[lo..hi].CopyTo(sum[lo..hi]);
            else System.Numerics.Tensors.TensorPrimitives.Add(sum[lo..hi], src[lo..hi], sum[lo..hi]);
        }
        _barrier.SignalAndWait(_cancel);
        sum.CopyTo(gradients.Span);
        // Nobody may overwrite the sum (next step) before every replica copied it out.
        _barrier.SignalAndWait(_cancel);
    }

    public void Finish() { }
}
