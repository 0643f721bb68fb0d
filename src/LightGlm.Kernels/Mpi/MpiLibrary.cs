// Loads an MPI shared library (Open MPI or MPICH) at run time and resolves the few MPI
// functions and predefined handles LightGlm uses; no compile-time dependency on mpi.h.
using System.Runtime.InteropServices;

namespace LightGlm.Kernels.Mpi;

/// <summary>Which MPI implementation's ABI the loaded library follows.</summary>
public enum MpiFlavor
{
    /// <summary>Open MPI: handles are pointers, the addresses of exported globals (<c>ompi_mpi_comm_world</c>, …).</summary>
    OpenMpi,
    /// <summary>MPICH (and derivatives: Intel MPI, MVAPICH): handles are 32-bit integer constants.</summary>
    Mpich,
}

/// <summary>Predefined handles of one MPI flavor, widened to <see cref="nint"/> so one set of
/// function signatures serves both (an int argument travels in a 64-bit register on x86-64/arm64).</summary>
public readonly record struct MpiHandles(
    nint CommWorld, nint CommNull, nint Float, nint Double, nint Int, nint Byte, nint OpSum, nint OpMax,
    nint RequestNull, nint InPlace, nint StatusIgnore, int AnySource, int Undefined, int HandleBytes, int StatusBytes)
{
    /// <summary>MPICH's mpi.h constants (MPICH 3.x/4.x; the same in Intel MPI and MVAPICH).</summary>
    public static MpiHandles Mpich => new(
        CommWorld: 0x44000000, CommNull: 0x04000000, Float: 0x4c00040a, Double: 0x4c00080b, Int: 0x4c000405,
        Byte: 0x4c00010d, OpSum: 0x58000003, OpMax: 0x58000001, RequestNull: 0x2c000000,
        InPlace: -1, StatusIgnore: 1, AnySource: -2, Undefined: -32766, HandleBytes: 4, StatusBytes: 20);

    /// <summary>Open MPI's handles: each is the address of an exported global of libmpi.</summary>
    public static MpiHandles OpenMpi(nint lib)
    {
        nint G(string name) => NativeLibrary.GetExport(lib, name);
        return new(
            CommWorld: G("ompi_mpi_comm_world"), CommNull: G("ompi_mpi_comm_null"), Float: G("ompi_mpi_float"),
            Double: G("ompi_mpi_double"), Int: G("ompi_mpi_int"), Byte: G("ompi_mpi_byte"), OpSum: G("ompi_mpi_op_sum"),
            OpMax: G("ompi_mpi_op_max"), RequestNull: G("ompi_request_null"),
            InPlace: 1, StatusIgnore: 0, AnySource: -1, Undefined: -32766, HandleBytes: nint.Size, StatusBytes: 24);
    }
}

/// <summary>The resolved MPI entry points. One instance per process (MPI itself is per process).</summary>
public sealed unsafe partial class MpiLibrary
{
    /// <summary>Library names tried in order; <c>LIGHTGLM_MPI_LIB</c> overrides them.</summary>
    static readonly string[] Candidates = ["libmpi.so.40", "libmpi.so", "libmpi.so.12", "libmpich.so.12", "libmpich.so"];

    public MpiFlavor Flavor { get; }
    public MpiHandles H { get; }
    public string Path { get; }

    internal readonly delegate* unmanaged<int*, byte***, int, int*, int> InitThread;
    internal readonly delegate* unmanaged<int*, int> Initialized;
    internal readonly delegate* unmanaged<int*, int> Finalized;
    internal readonly delegate* unmanaged<int> Finalize;
    internal readonly delegate* unmanaged<nint, int, int> Abort;
    internal readonly delegate* unmanaged<nint, int*, int> CommRank;
    internal readonly delegate* unmanaged<nint, int*, int> CommSize;
    internal readonly delegate* unmanaged<nint, int, int, void*, int> CommSplit;
    internal readonly delegate* unmanaged<void*, int> CommFree;
    internal readonly delegate* unmanaged<void*, int, nint, int, int, nint, int> Send;
    internal readonly delegate* unmanaged<void*, int, nint, int, int, nint, void*, int> Recv;
    internal readonly delegate* unmanaged<void*, int, nint, int, int, nint, void*, int> Isend;
    internal readonly delegate* unmanaged<void*, int, nint, int, int, nint, void*, int> Irecv;
    internal readonly delegate* unmanaged<void*, void*, int> Wait;
    internal readonly delegate* unmanaged<void*, int*, void*, int> Test;
    internal readonly delegate* unmanaged<void*, void*, int, nint, nint, nint, int> Allreduce;
    internal readonly delegate* unmanaged<void*, void*, int, nint, nint, nint, void*, int> Iallreduce;
    internal readonly delegate* unmanaged<void*, int, nint, int, nint, int> Bcast;
    internal readonly delegate* unmanaged<nint, int> Barrier;
    internal readonly delegate* unmanaged<void*, int, nint, int, nint, void*, int> Ibcast;
    internal readonly delegate* unmanaged<nint, void*, int> Ibarrier;
    internal readonly delegate* unmanaged<double> Wtime;
    internal readonly delegate* unmanaged<int, byte*, int*, int> ErrorString;

    MpiLibrary(nint lib, string path)
    {
        Path = path;
        bool ompi = NativeLibrary.TryGetExport(lib, "ompi_mpi_comm_world", out _);
        Flavor = ompi ? MpiFlavor.OpenMpi : MpiFlavor.Mpich;
        H = ompi ? MpiHandles.OpenMpi(lib) : MpiHandles.Mpich;
        nint F(string name) => NativeLibrary.GetExport(lib, name);
        InitThread = (delegate* unmanaged<int*, byte***, int, int*, int>)F("MPI_Init_thread");
        Initialized = (delegate* unmanaged<int*, int>)F("MPI_Initialized");
        Finalized = (delegate* unmanaged<int*, int>)F("MPI_Finalized");
        Finalize = (delegate* unmanaged<int>)F("MPI_Finalize");
        Abort = (delegate* unmanaged<nint, int, int>)F("MPI_Abort");
        CommRank = (delegate* unmanaged<nint, int*, int>)F("MPI_Comm_rank");
        CommSize = (delegate* unmanaged<nint, int*, int>)F("MPI_Comm_size");
        CommSplit = (delegate* unmanaged<nint, int, int, void*, int>)F("MPI_Comm_split");
        CommFree = (delegate* unmanaged<void*, int>)F("MPI_Comm_free");
        Send = (delegate* unmanaged<void*, int, nint, int, int, nint, int>)F("MPI_Send");
        Recv = (delegate* unmanaged<void*, int, nint, int, int, nint, void*, int>)F("MPI_Recv");
        Isend = (delegate* unmanaged<void*, int, nint, int, int, nint, void*, int>)F("MPI_Isend");
        Irecv = (delegate* unmanaged<void*, int, nint, int, int, nint, void*, int>)F("MPI_Irecv");
        Wait = (delegate* unmanaged<void*, void*, int>)F("MPI_Wait");
        Test = (delegate* unmanaged<void*, int*, void*, int>)F("MPI_Test");
        Allreduce = (delegate* unmanaged<void*, void*, int, nint, nint, nint, int>)F("MPI_Allreduce");
        Iallreduce = (delegate* unmanaged<void*, void*, int, nint, nint, nint, void*, int>)F("MPI_Iallreduce");
        Bcast = (delegate* unmanaged<void*, int, nint, int, nint, int>)F("MPI_Bcast");
        Barrier = (delegate* unmanaged<nint, int>)F("MPI_Barrier");
        Ibcast = (delegate* unmanaged<void*, int, nint, int, nint, void*, int>)F("MPI_Ibcast");
        Ibarrier = (delegate* unmanaged<nint, void*, int>)F("MPI_Ibarrier");
        Wtime = (delegate* unmanaged<double>)F("MPI_Wtime");
        ErrorString = (delegate* unmanaged<int, byte*, int*, int>)F("MPI_Error_string");
    }

    static MpiLibrary? _loaded;
    static readonly Lock Gate = new();

    /// <summary>Loads the MPI library once, or throws <see cref="MpiUnavailableException"/> saying what to install.</summary>
    public static MpiLibrary Load()
    {
        lock (Gate)
        {
            if (_loaded is not null) return _loaded;
            var env = Environment.GetEnvironmentVariable("LIGHTGLM_MPI_LIB");
            var names = string.IsNullOrEmpty(env) ? Candidates : [env];
            var tried = new List<string>();
            foreach (var name in names)
            {
                // Open MPI's plugins (mca_*.so) resolve symbols of libmpi itself, so it must be
                // loaded RTLD_GLOBAL (as mpi4py does); NativeLibrary.Load uses RTLD_LOCAL.
                nint lib = DlOpenGlobal(name);
                if (lib == 0) { tried.Add(name); continue; }
                return _loaded = new MpiLibrary(lib, name);
            }
            throw new MpiUnavailableException(
                $"no MPI library found (tried {string.Join(", ", tried)}). Install Open MPI " +
                "(Debian: apt-get install openmpi-bin libopenmpi-dev, or run scripts/setup.sh), " +
                "or set LIGHTGLM_MPI_LIB to the path of libmpi.so.");
        }
    }

    /// <summary>True when an MPI library can be loaded (does not initialise MPI).</summary>
    public static bool IsAvailable()
    {
        try { Load(); return true; } catch (MpiUnavailableException) { return false; }
    }

    const int RtldNow = 2, RtldGlobal = 0x100;

    [LibraryImport("libc", EntryPoint = "dlopen", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint DlOpen(string file, int mode);

    static nint DlOpenGlobal(string name)
    {
        try { return DlOpen(name, RtldNow | RtldGlobal); }
        catch (DllNotFoundException) { return NativeLibrary.TryLoad(name, out var h) ? h : 0; }
        catch (EntryPointNotFoundException) { return NativeLibrary.TryLoad(name, out var h) ? h : 0; }
    }

    /// <summary>Throws with MPI's own error text when <paramref name="rc"/> is not MPI_SUCCESS.</summary>
    internal void Check(int rc, string call)
    {
        if (rc == 0) return;
        var buf = stackalloc byte[512];
        int len = 0;
        string text = ErrorString(rc, buf, &len) == 0 ? Marshal.PtrToStringUTF8((nint)buf, len) : $"error code {rc}";
        throw new MpiException($"{call} failed: {text}");
    }
}

/// <summary>MPI is not installed or could not be loaded.</summary>
public sealed class MpiUnavailableException(string message) : Exception(message);

/// <summary>A message or collective did not complete within <see cref="MpiComm.Timeout"/>: a peer rank is hung.</summary>
public sealed class MpiTimeoutException(string message) : Exception(message);

/// <summary>An MPI call returned an error.</summary>
public sealed class MpiException(string message) : Exception(message);
