// MPI transport with real `mpirun` processes: gradients, loss and weights equal single-process
// training for K ∈ {2,4}, M ∈ {1,2,4,8}, with and without data parallelism; failures end the job.
using System.Text.Json;
using LightGlm.Kernels.Mpi;

namespace LightGlm.Tests.Pipeline;

public class MpiPipelineTests
{
    [MpiFact]
    public void PipelineOverMpiEqualsSingleProcess()
    {
        const string configs = "2x1x1:gpipe,2x2x1:1f1b,2x4x1:gpipe,2x8x1:1f1b,4x1x1:1f1b,4x2x1:gpipe,4x4x1:1f1b,4x8x1:gpipe,"
                             + "2x1x2:1f1b,2x4x2:gpipe,2x8x2:1f1b,1x4x2:1f1b,1x2x4:gpipe";
        var r = MpiRun.Run(4, $"parallel check --distributed --steps 2 --configs {configs}", TimeSpan.FromMinutes(3));
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}\n{r.Stdout}\n{r.Stderr}");
        var rows = r.Stdout.Split('\n').Where(l => l.Contains('{')).Select(l => JsonDocument.Parse(l[l.IndexOf('{')..]).RootElement).ToList();
        Assert.Equal(13, rows.Count);
        foreach (var row in rows)
        {
            Assert.Equal("mpi", row.GetProperty("transport").GetString());
            Assert.True(row.GetProperty("ok").GetBoolean(), row.ToString());
            Assert.True(row.GetProperty("max_grad_rel_diff").GetDouble() <= 1e-5, row.ToString());
            Assert.True(row.GetProperty("messages").GetInt64() > 0, "no message was exchanged: " + row);
        }
    }

    [MpiFact]
    public void ARankThatThrowsAbortsEveryRankWithAClearError()
    {
        var r = MpiRun.Run(4, "parallel check --distributed --configs 4x4x1:1f1b --steps 3 --crash-rank 2", TimeSpan.FromSeconds(90));
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("rank 2 of 4 failed: InvalidOperationException: simulated failure of rank 2 at step 1; aborting all ranks", r.Stderr);
        Assert.Contains("MPI_ABORT", r.Stderr + r.Stdout);
    }

    [MpiFact]
    public void ARankThatDiesEndsTheJob()
    {
        var r = MpiRun.Run(2, "parallel check --distributed --configs 2x4x1:1f1b --steps 3 --crash-rank 1 --crash-mode exit", TimeSpan.FromSeconds(90));
        Assert.NotEqual(0, r.ExitCode);
        Assert.Matches("(exited|non-zero status|terminated)", r.Stderr + r.Stdout);
    }

    [Fact]
    public void DistributedWithoutMpiFailsWithAClearMessage()
    {
        var r = MpiRun.Run(0, "parallel check --distributed --configs 2x2x1", TimeSpan.FromSeconds(60),
            new Dictionary<string, string> { ["LIGHTGLM_MPI_LIB"] = "/nonexistent/libmpi.so" });
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("parallel check --distributed needs MPI: no MPI library found", r.Stderr);
        Assert.Contains("openmpi-bin", r.Stderr);
    }

    [MpiFact]
    public void BindingResolvesOpenMpiHandlesFromExportedGlobals()
    {
        var lib = MpiLibrary.Load();
        Assert.Equal(MpiFlavor.OpenMpi, lib.Flavor);
        Assert.NotEqual(0, lib.H.CommWorld);
        Assert.NotEqual(lib.H.Float, lib.H.Double);
        Assert.Equal(1, lib.H.InPlace);
        Assert.Equal(0x4c00040a, (int)MpiHandles.Mpich.Float);
    }
}
