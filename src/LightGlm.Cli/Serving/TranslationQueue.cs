// Dynamic batching for the server: requests wait in a bounded queue; one worker takes whatever is waiting
// (up to the batch size, same direction) and translates it in one batched decode.
using System.Threading.Channels;
using LightGlm.Text.Tokenizers;
using LightGlm.Translation;

namespace LightGlm.Cli.Serving;

public sealed record TranslateJob(string Text, Direction Direction, int MaxNewTokens, TaskCompletionSource<TranslationResult> Done, int Beam = 1);

public sealed class TranslationQueue : IDisposable
{
    readonly Channel<TranslateJob> _channel;
    readonly GlmTranslator _translator;
    readonly TranslationMemory? _memory;
    readonly double? _fuzzyThreshold;
    readonly Task _worker;
    readonly CancellationTokenSource _stop = new();
    public ServerMetrics Metrics { get; } = new();
    public int Capacity { get; }
    /// <summary>Widest beam a request may ask for, and the beam of a request that names none.</summary>
    public int MaxBeam => _translator.Options.MaxBeam;
    public int DefaultBeam => _translator.Options.Beam;
    /// <summary>Tokens of a text in the model's vocabulary (the tokenizers keep their scratch per thread).</summary>
    public int CountTokens(string text) => _translator.Tokenizer.EncodeText(text).Length;

    /// <summary>With <paramref name="memory"/> (`serve --memory`), stored translations answer first and, with
    /// <paramref name="fuzzyThreshold"/>, the rest get their fuzzy match in the prompt.</summary>
    public TranslationQueue(GlmTranslator translator, int capacity, TranslationMemory? memory = null, double? fuzzyThreshold = null)
    {
        _translator = translator;
        _memory = memory;
        _fuzzyThreshold = fuzzyThreshold;
        Capacity = capacity;
        _channel = Channel.CreateBounded<TranslateJob>(new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
        _worker = Task.Run(WorkAsync);
    }

    /// <summary>False when the queue is full (the caller answers 429).</summary>
    public bool TryEnqueue(TranslateJob job)
    {
        if (!_channel.Writer.TryWrite(job)) return false;
        Interlocked.Increment(ref Metrics.Queued);
        return true;
    }

    async Task WorkAsync()
    {
        var reader = _channel.Reader;
        var pending = new List<TranslateJob>();
        while (await reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
        {
            while (pending.Count < _translator.MaxBatch && reader.TryRead(out var j)) { pending.Add(j); Interlocked.Decrement(ref Metrics.Queued); }
            foreach (var group in pending.GroupBy(j => (j.Direction, j.MaxNewTokens, j.Beam)).ToList())
            {
                var jobs = group.Where(j => !j.Done.Task.IsCompleted).ToList(); // timed-out requests are skipped
                if (jobs.Count == 0) continue;
                try
                {
                    var texts = jobs.Select(j => j.Text).ToList();
                    IReadOnlyList<TranslationResult> res;
                    if (_memory is null) res = _translator.Translate(texts, group.Key.Direction, group.Key.MaxNewTokens, group.Key.Beam);
                    else
                    {
                        var answer = _memory.Translate(_translator, texts, group.Key.Direction, group.Key.MaxNewTokens, group.Key.Beam, _fuzzyThreshold);
                        Metrics.RecordMemory(answer.ExactHits, answer.FuzzyHits);
                        res = answer.Results;
                    }
                    Metrics.RecordBatch(jobs.Count);
                    for (int i = 0; i < jobs.Count; i++) jobs[i].Done.TrySetResult(res[i]);
                }
                catch (Exception e) { foreach (var j in jobs) j.Done.TrySetException(e); }
            }
            pending.Clear();
        }
    }

    public void Dispose()
    {
        _channel.Writer.TryComplete();
        _stop.Cancel();
        try { _worker.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
    }
}
