// Wall-clock time per model op (stopwatch around each call), off by default; `lightglm bench train --profile` turns it on.
using System.Diagnostics;

namespace LightGlm.Model;

/// <summary>
/// Accumulates elapsed time and call counts per op name while <see cref="Enabled"/>. Every op it wraps is a full
/// fork-join call (its threads have finished when it returns), so the times add up to the step's wall time.
/// Disabled, <see cref="Time"/> returns an empty scope: one branch per op, no allocation, no clock read.
/// </summary>
public static class StepProfiler
{
    static readonly Dictionary<string, (long Ticks, long Calls)> _ops = new(StringComparer.Ordinal);

    /// <summary>Record op times (not thread-safe: profile one model on one thread at a time).</summary>
    public static bool Enabled { get; set; }

    /// <summary>Starts timing <paramref name="op"/>; dispose the scope to stop. <paramref name="op"/> should be a literal.</summary>
    public static Scope Time(string op) => Enabled ? new Scope(op, Stopwatch.GetTimestamp()) : default;

    public static void Reset() => _ops.Clear();

    /// <summary>(op, total ms, calls), largest total first.</summary>
    public static IReadOnlyList<(string Op, double Ms, long Calls)> Snapshot() =>
        _ops.Select(kv => (kv.Key, kv.Value.Ticks * 1000.0 / Stopwatch.Frequency, kv.Value.Calls))
            .OrderByDescending(x => x.Item2).ToList();

    static void Add(string op, long ticks)
    {
        _ops.TryGetValue(op, out var v);
        _ops[op] = (v.Ticks + ticks, v.Calls + 1);
    }

    public readonly struct Scope(string? op, long start) : IDisposable
    {
        public void Dispose()
        {
            if (op is not null) Add(op, Stopwatch.GetTimestamp() - start);
        }
    }
}
