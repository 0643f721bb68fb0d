// llama.cpp's side of `bench llama-cpp` / `bench large-decode`: the library's procedure (PeerRun.Measure) over a
// LlamaCppSession. Here and not in the library because only the CLI references LLamaSharp.
using System.Diagnostics;
using LightGlm.Evaluation.Bench;

namespace LightGlm.Cli.LlamaCpp;

public static class LlamaCppPeer
{
    /// <summary>llama.cpp on <paramref name="gguf"/> with its defaults (f16 K/V cache, mmap, flash attention auto).
    /// <paramref name="forced"/>: our greedy tokens, fed in the timed decode instead of llama.cpp's own argmax (its argmax at
    /// each step is recorded); its own greedy tokens then come from one more, untimed run.</summary>
    public static PeerResult Run(string gguf, string format, int threads, int[] promptLengths, int tokens, int reps, int[]? forced = null)
    {
        var sw = Stopwatch.StartNew();
        using var s = new LlamaCppSession(gguf, promptLengths.Max() + tokens + 1, threads);
        double load = sw.Elapsed.TotalSeconds;
        var r = PeerRun.Measure(s, promptLengths, tokens, reps, forced);
        int[] greedy = r.Greedy;
        if (forced is not null) greedy = PeerRun.Measure(s, promptLengths[..1], tokens, 1).Greedy;
        return new PeerResult("llama.cpp", format, load, r.Prefill, r.Decode, PeakMemory.ProcessPeakMb(), greedy, forced is null ? null : r.Greedy);
    }
}
