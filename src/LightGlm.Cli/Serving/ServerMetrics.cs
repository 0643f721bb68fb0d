// Counters for GET /metrics (Prometheus text exposition format).
using System.Text;

namespace LightGlm.Cli.Serving;

public sealed class ServerMetrics
{
    public long Requests, Rejected429, BadRequests, Timeouts, Queued, Batches, BatchedTexts, TextsTranslated, MemoryHits, FuzzyHits;
    readonly object _lock = new();
    double _latencySumSeconds;

    public void RecordBatch(int size) { Interlocked.Increment(ref Batches); Interlocked.Add(ref BatchedTexts, size); Interlocked.Add(ref TextsTranslated, size); }
    public void RecordMemory(int exact, int fuzzy) { Interlocked.Add(ref MemoryHits, exact); Interlocked.Add(ref FuzzyHits, fuzzy); }
    public void RecordLatency(double seconds) { lock (_lock) _latencySumSeconds += seconds; }

    public string Render()
    {
        var sb = new StringBuilder();
        void C(string name, string help, long v) => sb.Append($"# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}\n");
        C("lightglm_requests_total", "Translate requests received.", Interlocked.Read(ref Requests));
        C("lightglm_rejected_total", "Requests answered 429 (queue full).", Interlocked.Read(ref Rejected429));
        C("lightglm_bad_requests_total", "Requests answered 4xx for bad input.", Interlocked.Read(ref BadRequests));
        C("lightglm_timeouts_total", "Requests that exceeded the time limit.", Interlocked.Read(ref Timeouts));
        C("lightglm_batches_total", "Batched decodes run.", Interlocked.Read(ref Batches));
        C("lightglm_texts_translated_total", "Texts translated.", Interlocked.Read(ref TextsTranslated));
        C("lightglm_memory_hits_total", "Texts answered from the translation memory (serve --memory).", Interlocked.Read(ref MemoryHits));
        C("lightglm_fuzzy_hits_total", "Texts translated with a fuzzy match from the memory in the prompt.", Interlocked.Read(ref FuzzyHits));
        double sum; lock (_lock) sum = _latencySumSeconds;
        C("lightglm_request_seconds_sum", "Total seconds spent answering translate requests.", (long)sum);
        sb.Append($"# HELP lightglm_queue_depth Texts waiting.\n# TYPE lightglm_queue_depth gauge\nlightglm_queue_depth {Interlocked.Read(ref Queued)}\n");
        sb.Append($"# HELP lightglm_process_resident_bytes Resident memory.\n# TYPE lightglm_process_resident_bytes gauge\nlightglm_process_resident_bytes {Environment.WorkingSet}\n");
        return sb.ToString();
    }
}
