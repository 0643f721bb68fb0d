// POST /v1/translate, GET /healthz, GET /metrics as minimal APIs: typed results, ProblemDetails for errors.
using LightGlm.Translation;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LightGlm.Cli.Serving;

/// <summary>Request: one <c>text</c> or a batch <c>texts</c>; <c>direction</c> en-zh|zh-en (default: detected);
/// <c>beam</c> (1 = greedy, up to the server's --max-beam); <c>max_new_tokens</c>.</summary>
public sealed record TranslateRequest(string? Text, string[]? Texts, string? Direction, int? Beam, int? MaxNewTokens);

public sealed record TranslationItem(string Text, string Direction, bool Stopped);
public sealed record TranslateResponse(TranslationItem[] Translations, double Milliseconds);

/// <summary>The server's limits and settings; <paramref name="ModelId"/> is the model's name on the OpenAI-compatible endpoints.</summary>
public sealed record ServeOptions(int MaxTexts = 32, int MaxChars = 2000, int QueueCapacity = 64, TimeSpan? Timeout = null, string? BearerToken = null, int MaxNewTokens = 128,
    string ModelId = "lightglm");

public static class TranslateApi
{
    public static WebApplication MapTranslateApi(this WebApplication app, TranslationService service)
    {
        var queueMetrics = service.Metrics;
        app.MapGet("/healthz", () => TypedResults.Ok(new { status = "ok" }));
        app.MapGet("/metrics", () => TypedResults.Text(queueMetrics.Render(), "text/plain; version=0.0.4"));
        app.MapPost("/v1/translate", async Task<Results<Ok<TranslateResponse>, ProblemHttpResult>> (TranslateRequest? req, HttpContext ctx) =>
        {
            service.Received();
            if (service.Authorize(ctx.Request) is { } denied) return Problem(denied);
            if (req is null) return Problem(service.Refuse(400, "empty body (send JSON {\"text\": \"...\"} or {\"texts\": [...]})"));
            var texts = req.Texts ?? (req.Text is null ? null : [req.Text]);
            if (texts is null || texts.Length == 0 || (req.Text is not null && req.Texts is not null))
                return Problem(service.Refuse(400, "give exactly one of 'text' or 'texts' (non-empty)"));
            Direction? dir = null;
            if (req.Direction is not null)
            {
                try { dir = Directions.Parse(req.Direction); }
                catch (FormatException fe) { return Problem(service.Refuse(400, fe.Message, "direction")); }
            }
            var directions = texts.Select(t => dir ?? Directions.Detect(t ?? "")).ToArray();
            var outcome = await service.TranslateAsync(texts, directions, req.Beam, req.MaxNewTokens, ctx.RequestAborted);
            if (outcome.Error is { } e) return Problem(e);
            return TypedResults.Ok(new TranslateResponse(
                outcome.Results!.Select((r, i) => new TranslationItem(r.Text, directions[i].Name(), r.Stopped)).ToArray(), outcome.Milliseconds));
        });
        return app;
    }

    static ProblemHttpResult Problem(ServeError e) => TypedResults.Problem(detail: e.Message, statusCode: e.Status, title: e.Status switch
    {
        429 => "Too many requests",
        503 => "Timeout",
        _ => null,
    });
}
