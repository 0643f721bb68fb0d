// CPU time of this process with nanosecond resolution (clock_gettime(CLOCK_PROCESS_CPUTIME_ID)); a shared machine's
// wall time is whatever the other jobs leave, CPU time is what the work itself cost.
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace LightGlm.Evaluation.Bench;

public static class CpuClock
{
    const int ClockProcessCpuTimeId = 2; // Linux

    [StructLayout(LayoutKind.Sequential)]
    struct TimeSpec { public long Seconds; public long Nanoseconds; }

    [DllImport("libc", EntryPoint = "clock_gettime")] // DllImport: this assembly is not compiled unsafe (LibraryImport needs it)
    static extern int ClockGetTime(int clock, out TimeSpec ts);

    static bool _native = OperatingSystem.IsLinux();

    /// <summary>Milliseconds of CPU used by all threads of this process so far (Process.TotalProcessorTime off Linux).</summary>
    public static double ProcessMs()
    {
        if (_native)
        {
            try
            {
                if (ClockGetTime(ClockProcessCpuTimeId, out var ts) == 0) return ts.Seconds * 1e3 + ts.Nanoseconds / 1e6;
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
            _native = false;
        }
        return Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds;
    }
}
