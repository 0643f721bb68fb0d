// Runs the body of a distributed (mpirun-launched) command: initialises MPI, turns any failure on
// one rank into a clear message and MPI_Abort of the whole job (never a hang), finalises at the end.
using System.Runtime.InteropServices;
using LightGlm.Kernels.Mpi;

namespace LightGlm.Pipeline;

public static class MpiSession
{
    /// <summary>True when this process was started by mpirun/mpiexec (Open MPI, MPICH, PMIx or Slurm set these).</summary>
    public static bool LaunchedByMpirun =>
        new[] { "OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "PMI_RANK" }.Any(v => Environment.GetEnvironmentVariable(v) is not null);

    /// <summary>Initialises MPI (throws <see cref="MpiUnavailableException"/> naming what to install when it is absent), runs <paramref name="body"/> with MPI_COMM_WORLD and returns its exit code.
    /// An exception on any rank prints "rank r of n failed: …" and aborts every rank of the job; a rank
    /// terminated by mpirun because another rank died says so before it goes.</summary>
    public static int Run(string what, Func<MpiComm, int> body) => Run(null, what, body);

    /// <summary>As <see cref="Run(string, Func{MpiComm, int})"/>, and every message or collective of this process that waits
    /// longer than <paramref name="timeout"/> fails with <see cref="MpiTimeoutException"/>, which ends the job (a hung rank).</summary>
    public static int Run(TimeSpan? timeout, string what, Func<MpiComm, int> body)
    {
        MpiComm.Timeout = timeout;
        MpiComm world;
        try { world = MpiComm.World(); }
        catch (MpiUnavailableException e)
        {
            throw new MpiUnavailableException($"{what} --distributed needs MPI: {e.Message}");
        }
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx =>
            Console.Error.WriteLine($"lightglm: rank {world.Rank} of {world.Size}: stopped by mpirun because another rank failed or died"));
        int rc;
        try
        {
            rc = body(world);
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"lightglm: rank {world.Rank} of {world.Size} failed: {e.GetType().Name}: {e.Message}; aborting all ranks");
            Console.Error.Flush();
            world.Abort(3);
            return 3; // not reached: MPI_Abort ends the process
        }
        MpiComm.FinalizeWorld();
        return rc;
    }
}
