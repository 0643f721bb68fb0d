// POST /v1/translate, GET /healthz, GET /metrics as minimal APIs: typed results, ProblemDetails for errors.
using System.Diagnostics;
using LightGlm.Translation;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LightGlm.Cli.Serving;

/// <summary>Request: one <c>text</c> or a batch <c>texts</c>; <c>direction</c> en-zh|zh-en (default: detected);
/// <c>beam</c> (1 = greedy, up to the server's --max-beam); <c>max_new_tokens</c>.</summary>
public sealed record TranslateRequest(string? Text, string[]? Texts, string? Direction, int? Beam, int? MaxNewTokens);

public sealed record TranslationItem(string Text, string Direction, bool Stopped);
public sealed record TranslateResponse(TranslationItem[] Translations, double Milliseconds);

public sealed record ServeOptions(int MaxTexts = 32, int MaxChars = 2000, int QueueCapacity = 64, TimeSpan? Timeout = null, string? BearerToken = null, int MaxNewTokens = 128);

public static class TranslateApi
{
    public static WebApplication MapTranslateApi(this WebApplication app, TranslationQueue queue, ServeOptions o)
    {
        var timeout = o.Timeout ?? TimeSpan.FromSeconds(30);
        app.MapGet("/healthz", () => TypedResults.Ok(new { status = "ok" }));
        app.MapGet("/metrics", () => TypedResults.Text(queue.Metrics.Render(), "text/plain; version=0.0.4"));
        app.MapPost("/v1/translate", async Task<Results<Ok<TranslateResponse>, ProblemHttpResult>> (TranslateRequest? req, HttpContext ctx) =>
        {
            var m = queue.Metrics;
            Interlocked.Increment(ref m.Requests);
            var sw = Stopwatch.StartNew();
            if (o.BearerToken is { } token && ctx.Request.Headers.Authorization.ToString() != "Bearer " + token)
                return Bad(m, 401, "missing or wrong bearer token", "send 'Authorization: Bearer <token>'");
            if (req is null) return Bad(m, 400, "empty body", "send JSON {\"text\": \"...\"} or {\"texts\": [...]}");
            var texts = req.Texts ?? (req.Text is null ? null : [req.Text]);
            if (texts is null || texts.Length == 0 || (req.Text is not null && req.Texts is not null))
                return Bad(m, 400, "give exactly one of 'text' or 'texts' (non-empty)", null);
            if (texts.Length > o.MaxTexts) return Bad(m, 413, $"{texts.Length} texts in one request; the limit is {o.MaxTexts}", "split the batch");
            for (int i = 0; i < texts.Length; i++)
            {
                if (texts[i] is null) return Bad(m, 400, $"texts[{i}] is null", null);
                if (texts[i].Length > o.MaxChars) return Bad(m, 413, $"texts[{i}] has {texts[i].Length} characters; the limit is {o.MaxChars}", null);
            }
            int beam = req.Beam ?? queue.DefaultBeam;
            if (beam < 1 || beam > queue.MaxBeam) return Bad(m, 400, $"beam {beam} must be in [1, {queue.MaxBeam}] on this server", "start the server with a larger --max-beam");
            int maxNew = req.MaxNewTokens ?? o.MaxNewTokens;
            if (maxNew < 1 || maxNew > o.MaxNewTokens) return Bad(m, 400, $"max_new_tokens {maxNew} must be in [1, {o.MaxNewTokens}]", null);
            Direction? dir = null;
            if (req.Direction is not null)
            {
                try { dir = Directions.Parse(req.Direction); }
                catch (FormatException e) { return Bad(m, 400, e.Message, null); }
            }
            var jobs = texts.Select(t => new TranslateJob(t, dir ?? Directions.Detect(t), maxNew, new TaskCompletionSource<TranslationResult>(TaskCreationOptions.RunContinuationsAsynchronously), beam)).ToList();
            for (int i = 0; i < jobs.Count; i++)
                if (!queue.TryEnqueue(jobs[i]))
                {
                    foreach (var j in jobs.Take(i)) j.Done.TrySetCanceled();
                    Interlocked.Increment(ref m.Rejected429);
                    return TypedResults.Problem(detail: $"the queue of {queue.Capacity} texts is full; retry later", statusCode: 429, title: "Too many requests");
                }
            var all = Task.WhenAll(jobs.Select(j => j.Done.Task));
            if (await Task.WhenAny(all, Task.Delay(timeout, ctx.RequestAborted)) != all)
            {
                foreach (var j in jobs) j.Done.TrySetCanceled();
                Interlocked.Increment(ref m.Timeouts);
                return TypedResults.Problem(detail: $"translation took longer than {timeout.TotalSeconds:F0} s", statusCode: 503, title: "Timeout");
            }
            var res = await all;
            m.RecordLatency(sw.Elapsed.TotalSeconds);
            return TypedResults.Ok(new TranslateResponse(
                res.Select((r, i) => new TranslationItem(r.Text, jobs[i].Direction.Name(), r.Stopped)).ToArray(), sw.Elapsed.TotalMilliseconds));
        });
        return app;
    }

    static ProblemHttpResult Bad(ServerMetrics m, int status, string detail, string? hint)
    {
        Interlocked.Increment(ref m.BadRequests);
        return TypedResults.Problem(detail: hint is null ? detail : $"{detail} ({hint})", statusCode: status);
    }
}
