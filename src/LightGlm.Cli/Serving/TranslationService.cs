// What every HTTP API of `lightglm serve` does with a request's texts, in one place: the bearer token, the limits
// (texts, characters, beam, max new tokens), the bounded queue (429), the time limit (503) and the metrics.
// /v1/translate answers its errors as ProblemDetails, the OpenAI-compatible endpoints in OpenAI's error shape.
using System.Diagnostics;
using LightGlm.Translation;

namespace LightGlm.Cli.Serving;

/// <summary>A request refused: the HTTP status, what went wrong and what to do; <paramref name="Param"/> names the
/// offending request field where there is one (OpenAI's <c>param</c>).</summary>
public sealed record ServeError(int Status, string Message, string? Param = null);

/// <summary>Texts translated, or the reason they were not.</summary>
public sealed record ServeOutcome(IReadOnlyList<TranslationResult>? Results, ServeError? Error, double Milliseconds);

public sealed class TranslationService(TranslationQueue queue, ServeOptions o)
{
    readonly TimeSpan _timeout = o.Timeout ?? TimeSpan.FromSeconds(30);

    public ServerMetrics Metrics => queue.Metrics;
    public ServeOptions Options => o;
    /// <summary>Tokens of a text as the model sees it (the prompt side of OpenAI's <c>usage</c>).</summary>
    public int CountTokens(string text) => queue.CountTokens(text);

    /// <summary>Counts one request received (every endpoint that translates calls this once, first).</summary>
    public void Received() => Interlocked.Increment(ref Metrics.Requests);

    /// <summary>Null when no token is required or the request carries it.</summary>
    public ServeError? Authorize(HttpRequest request) =>
        o.BearerToken is { } token && request.Headers.Authorization.ToString() != "Bearer " + token
            ? Refuse(401, "missing or wrong bearer token (send 'Authorization: Bearer <token>')")
            : null;

    /// <summary>Counts a refusal in the metrics (429 and 503 apart from the other 4xx) and returns it.</summary>
    public ServeError Refuse(int status, string message, string? param = null)
    {
        switch (status)
        {
            case 429: Interlocked.Increment(ref Metrics.Rejected429); break;
            case 503: Interlocked.Increment(ref Metrics.Timeouts); break;
            default: Interlocked.Increment(ref Metrics.BadRequests); break;
        }
        return new ServeError(status, message, param);
    }

    /// <summary>
    /// Checks the limits, queues every text (text i in direction i) and waits for the batched decodes, at most the
    /// server's time limit. <paramref name="textsParam"/> names the field holding the texts in error messages.
    /// </summary>
    public async Task<ServeOutcome> TranslateAsync(IReadOnlyList<string> texts, IReadOnlyList<Direction> directions, int? beamAsked, int? maxNewAsked,
        CancellationToken aborted, string textsParam = "texts", string maxNewParam = "max_new_tokens")
    {
        var sw = Stopwatch.StartNew();
        ServeOutcome Fail(int status, string message, string? param) => new(null, Refuse(status, message, param), sw.Elapsed.TotalMilliseconds);
        Debug.Assert(texts.Count == directions.Count);
        if (texts.Count == 0) return Fail(400, $"'{textsParam}' is empty: nothing to translate", textsParam);
        if (texts.Count > o.MaxTexts) return Fail(413, $"{texts.Count} texts in one request; the limit is {o.MaxTexts} (split the batch)", textsParam);
        for (int i = 0; i < texts.Count; i++)
        {
            if (texts[i] is null) return Fail(400, $"{textsParam}[{i}] is null", textsParam);
            if (texts[i].Length > o.MaxChars) return Fail(413, $"{textsParam}[{i}] has {texts[i].Length} characters; the limit is {o.MaxChars}", textsParam);
        }
        int beam = beamAsked ?? queue.DefaultBeam;
        if (beam < 1 || beam > queue.MaxBeam) return Fail(400, $"beam {beam} must be in [1, {queue.MaxBeam}] on this server (start the server with a larger --max-beam)", "beam");
        int maxNew = maxNewAsked ?? o.MaxNewTokens;
        if (maxNew < 1 || maxNew > o.MaxNewTokens) return Fail(400, $"{maxNewParam} {maxNew} must be in [1, {o.MaxNewTokens}]", maxNewParam);

        var jobs = new List<TranslateJob>(texts.Count);
        for (int i = 0; i < texts.Count; i++)
            jobs.Add(new TranslateJob(texts[i], directions[i], maxNew, new TaskCompletionSource<TranslationResult>(TaskCreationOptions.RunContinuationsAsynchronously), beam));
        for (int i = 0; i < jobs.Count; i++)
            if (!queue.TryEnqueue(jobs[i]))
            {
                foreach (var j in jobs.Take(i)) j.Done.TrySetCanceled();
                return Fail(429, $"the queue of {queue.Capacity} texts is full; retry later", null);
            }
        var all = Task.WhenAll(jobs.Select(j => j.Done.Task));
        if (await Task.WhenAny(all, Task.Delay(_timeout, aborted)) != all)
        {
            foreach (var j in jobs) j.Done.TrySetCanceled();
            return Fail(503, $"translation took longer than {_timeout.TotalSeconds:F0} s", null);
        }
        var results = await all;
        Metrics.RecordLatency(sw.Elapsed.TotalSeconds);
        return new ServeOutcome(results, null, sw.Elapsed.TotalMilliseconds);
    }
}
