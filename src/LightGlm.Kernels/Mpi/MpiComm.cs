// A communicator and the point-to-point and collective calls LightGlm's pipeline needs,
// over the function pointers of MpiLibrary. Buffers are spans (blocking) or pinned Memory (non-blocking).
using System.Buffers;
using System.Runtime.InteropServices;

namespace LightGlm.Kernels.Mpi;

/// <summary>An MPI communicator (MPI_COMM_WORLD or one split from it).</summary>
public sealed unsafe class MpiComm : IDisposable
{
    const int ThreadSerialized = 2;
    static MpiComm? _world;
    static readonly Lock Gate = new();

    readonly MpiLibrary _mpi;
    nint _handle;
    readonly bool _owned;

    public int Rank { get; }
    public int Size { get; }
    public MpiLibrary Library => _mpi;

    /// <summary>Counts every point-to-point message and collective started on any communicator of
    /// this process, so a test can prove ranks really exchanged data.</summary>
    public static long MessagesSent, MessagesReceived, BytesSent, Collectives;

    MpiComm(MpiLibrary mpi, nint handle, bool owned)
    {
        _mpi = mpi; _handle = handle; _owned = owned;
        int r, s;
        mpi.Check(mpi.CommRank(handle, &r), "MPI_Comm_rank");
        mpi.Check(mpi.CommSize(handle, &s), "MPI_Comm_size");
        Rank = r; Size = s;
    }

    /// <summary>Initialises MPI once (thread level SERIALIZED: one thread calls MPI at a time) and
    /// returns MPI_COMM_WORLD. Throws <see cref="MpiUnavailableException"/> without MPI.</summary>
    public static MpiComm World()
    {
        lock (Gate)
        {
            if (_world is not null) return _world;
            var mpi = MpiLibrary.Load();
            int flag;
            mpi.Check(mpi.Initialized(&flag), "MPI_Initialized");
            if (flag == 0)
            {
                int provided;
                mpi.Check(mpi.InitThread(null, null, ThreadSerialized, &provided), "MPI_Init_thread");
            }
            return _world = new MpiComm(mpi, mpi.H.CommWorld, owned: false);
        }
    }

    /// <summary>True once <see cref="World"/> has initialised MPI in this process.</summary>
    public static bool IsInitialized => _world is not null;

    /// <summary>Finalises MPI if it was initialised (call once, at process end, on every rank).</summary>
    public static void FinalizeWorld()
    {
        lock (Gate)
        {
            if (_world is null) return;
            int done;
            _world._mpi.Check(_world._mpi.Finalized(&done), "MPI_Finalized");
            if (done == 0) _world._mpi.Check(_world._mpi.Finalize(), "MPI_Finalize");
        }
    }

    /// <summary>MPI_Comm_split: ranks with equal <paramref name="color"/> form a communicator ordered by
    /// <paramref name="key"/>. A negative color leaves this rank out and returns null.</summary>
    public MpiComm? Split(int color, int key)
    {
        long cell = 0; // MPI_Comm out-parameter: a pointer (Open MPI) or an int (MPICH)
        Collectives++;
        _mpi.Check(_mpi.CommSplit(_handle, color < 0 ? _mpi.H.Undefined : color, key, &cell), "MPI_Comm_split");
        nint h = _mpi.H.HandleBytes == 4 ? (int)cell : (nint)cell;
        return h == _mpi.H.CommNull ? null : new MpiComm(_mpi, h, owned: true);
    }

    /// <summary>The longest any message or collective of this process may wait (null: forever, MPI's own blocking calls).
    /// With a limit every call is started non-blocking and polled with MPI_Test against the deadline, so a hung peer —
    /// stopped, deadlocked, cut off — ends in an <see cref="MpiTimeoutException"/> instead of a wait without end.</summary>
    public static TimeSpan? Timeout { get; set; }

    public void Send(ReadOnlySpan<float> data, int dest, int tag)
    {
        fixed (float* p = data)
        {
            if (Timeout is null) _mpi.Check(_mpi.Send(p, data.Length, _mpi.H.Float, dest, tag, _handle), "MPI_Send");
            else { long c = 0; _mpi.Check(_mpi.Isend(p, data.Length, _mpi.H.Float, dest, tag, _handle, &c), "MPI_Isend"); Await(&c, $"a send of {data.Length} floats to rank {dest} (tag {tag})"); }
        }
        MessagesSent++; BytesSent += data.Length * 4L;
    }

    public void Recv(Span<float> data, int source, int tag)
    {
        fixed (float* p = data)
        {
            if (Timeout is null) _mpi.Check(_mpi.Recv(p, data.Length, _mpi.H.Float, source, tag, _handle, (void*)_mpi.H.StatusIgnore), "MPI_Recv");
            else { long c = 0; _mpi.Check(_mpi.Irecv(p, data.Length, _mpi.H.Float, source, tag, _handle, &c), "MPI_Irecv"); Await(&c, $"a message of {data.Length} floats from rank {source} (tag {tag})"); }
        }
        MessagesReceived++;
    }

    /// <summary>Starts a send; <paramref name="data"/> must not change until the request completes.</summary>
    public MpiRequest Isend(ReadOnlyMemory<float> data, int dest, int tag)
    {
        var req = new MpiRequest(_mpi, data.Pin(), Describe($"a send of {data.Length} floats to rank {dest} (tag {tag})"));
        _mpi.Check(_mpi.Isend(req.Pointer, data.Length, _mpi.H.Float, dest, tag, _handle, req.Cell), "MPI_Isend");
        MessagesSent++; BytesSent += data.Length * 4L;
        return req;
    }

    /// <summary>Starts a receive into <paramref name="data"/>; read it only after Wait.</summary>
    public MpiRequest Irecv(Memory<float> data, int source, int tag)
    {
        var req = new MpiRequest(_mpi, data.Pin(), Describe($"a message of {data.Length} floats from rank {source} (tag {tag})"));
        _mpi.Check(_mpi.Irecv(req.Pointer, data.Length, _mpi.H.Float, source, tag, _handle, req.Cell), "MPI_Irecv");
        MessagesReceived++;
        return req;
    }

    /// <summary>In-place sum over all ranks: data := Σ_ranks data.</summary>
    public void AllreduceSum(Span<float> data)
    {
        fixed (float* p = data) Allreduce(p, data.Length, _mpi.H.Float, _mpi.H.OpSum);
    }

    public void AllreduceSum(Span<double> data)
    {
        fixed (double* p = data) Allreduce(p, data.Length, _mpi.H.Double, _mpi.H.OpSum);
    }

    public void AllreduceMax(Span<double> data)
    {
        fixed (double* p = data) Allreduce(p, data.Length, _mpi.H.Double, _mpi.H.OpMax);
    }

    void Allreduce(void* p, int count, nint type, nint op)
    {
        if (Timeout is null) _mpi.Check(_mpi.Allreduce((void*)_mpi.H.InPlace, p, count, type, op, _handle), "MPI_Allreduce");
        else { long c = 0; _mpi.Check(_mpi.Iallreduce((void*)_mpi.H.InPlace, p, count, type, op, _handle, &c), "MPI_Iallreduce"); Await(&c, $"an all-reduce of {count} values over {Size} ranks"); }
        Collectives++;
    }

    /// <summary>Starts an in-place sum over all ranks, to overlap with other work; Wait before reading.</summary>
    public MpiRequest IallreduceSum(Memory<float> data)
    {
        var req = new MpiRequest(_mpi, data.Pin(), Describe($"an all-reduce of {data.Length} floats over {Size} ranks"));
        _mpi.Check(_mpi.Iallreduce((void*)_mpi.H.InPlace, req.Pointer, data.Length, _mpi.H.Float, _mpi.H.OpSum, _handle, req.Cell), "MPI_Iallreduce");
        Collectives++;
        return req;
    }

    public void Bcast(Span<float> data, int root)
    {
        fixed (float* p = data) Bcast(p, data.Length, _mpi.H.Float, root);
    }

    public void Bcast(Span<byte> data, int root)
    {
        fixed (byte* p = data) Bcast(p, data.Length, _mpi.H.Byte, root);
    }

    void Bcast(void* p, int count, nint type, int root)
    {
        if (Timeout is null) _mpi.Check(_mpi.Bcast(p, count, type, root, _handle), "MPI_Bcast");
        else { long c = 0; _mpi.Check(_mpi.Ibcast(p, count, type, root, _handle, &c), "MPI_Ibcast"); Await(&c, $"a broadcast of {count} values from rank {root}"); }
        Collectives++;
    }

    public void Barrier()
    {
        if (Timeout is null) _mpi.Check(_mpi.Barrier(_handle), "MPI_Barrier");
        else { long c = 0; _mpi.Check(_mpi.Ibarrier(_handle, &c), "MPI_Ibarrier"); Await(&c, $"a barrier of {Size} ranks"); }
        Collectives++;
    }

    /// <summary>Polls a started non-blocking call (its MPI_Request in <paramref name="cell"/>: a pointer for Open MPI,
    /// an int for MPICH) to completion within <see cref="Timeout"/>.</summary>
    void Await(long* cell, string what) => MpiRequest.Poll(_mpi, cell, Timeout!.Value, Describe(what));

    string Describe(string what) => $"rank {Rank} of {Size} (this communicator) waiting for {what}";

    /// <summary>Seconds since an arbitrary origin (MPI_Wtime).</summary>
    public double Wtime() => _mpi.Wtime();

    /// <summary>Ends every rank of the job (MPI_Abort on MPI_COMM_WORLD): used when a stage fails so
    /// that the other ranks do not wait forever on a message that will never come.</summary>
    public void Abort(int code) => _mpi.Abort(_mpi.H.CommWorld, code);

    public void Dispose()
    {
        if (!_owned || _handle == 0) return;
        long cell = _handle;
        if (_mpi.H.HandleBytes == 4) cell = (int)_handle;
        _mpi.CommFree(&cell);
        _handle = 0;
    }
}

/// <summary>A pending non-blocking operation. Holds its buffer pinned until <see cref="Wait"/>.</summary>
public sealed unsafe class MpiRequest
{
    readonly MpiLibrary _mpi;
    MemoryHandle _pin;
    readonly long* _cell; // MPI_Request: a pointer (Open MPI) or an int (MPICH), 8 bytes is enough for both
    readonly string _what;
    bool _done;

    internal MpiRequest(MpiLibrary mpi, MemoryHandle pin, string what)
    {
        _mpi = mpi; _pin = pin; _what = what;
        _cell = (long*)NativeMemory.AllocZeroed(8);
    }

    internal void* Pointer => _pin.Pointer;
    internal void* Cell => _cell;

    /// <summary>Blocks until the operation completes (at most <see cref="MpiComm.Timeout"/>), then unpins the buffer.</summary>
    public void Wait()
    {
        if (_done) return;
        if (MpiComm.Timeout is { } limit) Poll(_mpi, _cell, limit, _what); // on a timeout the buffer stays pinned: MPI may still write it
        else _mpi.Check(_mpi.Wait(_cell, (void*)_mpi.H.StatusIgnore), "MPI_Wait");
        Release();
    }

    /// <summary>True (and released) when the operation has completed.</summary>
    public bool Test()
    {
        if (_done) return true;
        int flag;
        _mpi.Check(_mpi.Test(_cell, &flag, (void*)_mpi.H.StatusIgnore), "MPI_Test");
        if (flag != 0) Release();
        return flag != 0;
    }

    /// <summary>MPI_Test until the request completes or <paramref name="limit"/> passes. Spins for the first
    /// millisecond (pipeline hand-offs are short), then yields, then sleeps 1 ms between tests: a long wait costs
    /// no core, a short one no latency. MPI_Test also drives MPI's progress engine, as MPI_Wait would.</summary>
    internal static void Poll(MpiLibrary mpi, long* cell, TimeSpan limit, string what)
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        while (true)
        {
            int flag;
            mpi.Check(mpi.Test(cell, &flag, (void*)mpi.H.StatusIgnore), "MPI_Test");
            if (flag != 0) return;
            var waited = System.Diagnostics.Stopwatch.GetElapsedTime(start);
            if (waited > limit)
                throw new MpiTimeoutException(
                    $"{what}: nothing for {limit.TotalSeconds:0.#} s. A peer rank is hung (stopped, deadlocked, or its network is cut); " +
                    "ending the job. Raise the limit with --mpi-timeout-seconds or parallel.timeout_seconds if the wait was legitimate " +
                    "(e.g. a slow checkpoint save); otherwise run the same command again to resume from the last checkpoint");
            if (waited.TotalMilliseconds < 1) Thread.SpinWait(50);
            else if (waited.TotalMilliseconds < 20) Thread.Yield();
            else Thread.Sleep(1);
        }
    }

    void Release()
    {
        _done = true;
        _pin.Dispose();
        NativeMemory.Free(_cell);
    }
}
