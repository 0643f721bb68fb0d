// Builds the Kestrel app for `lightglm serve`: loopback by default, body size limit, /v1/translate with ProblemDetails
// and the OpenAI-compatible endpoints beside it, both over one TranslationService.
using LightGlm.Translation;

namespace LightGlm.Cli.Serving;

public static class TranslationServer
{
    public static (WebApplication App, TranslationQueue Queue) Build(GlmTranslator translator, string urls, ServeOptions o, bool allowRemote = false,
        TranslationMemory? memory = null, double? fuzzyThreshold = null)
    {
        foreach (var u in urls.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!Uri.TryCreate(u, UriKind.Absolute, out var uri)) throw new CliException($"--urls '{u}' is not a URL (e.g. http://127.0.0.1:8080)");
            if (!allowRemote && !(uri.IsLoopback)) throw new CliException($"--urls '{u}' is not a loopback address; pass --allow-remote to listen beyond this machine");
        }
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(urls);
        // The body limit is ours (BodyLimit below), so that an oversized request gets its 413 on a clean connection;
        // Kestrel's own limit is the drain cap: beyond it the connection is closed after the 413 (docs/TRANSLATION.md).
        long limit = BodyLimit(o), drainCap = DrainCap(o);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = drainCap);
        builder.Logging.ClearProviders();
        builder.Services.AddProblemDetails();
        builder.Services.ConfigureHttpJsonOptions(j => j.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower);
        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        var queue = new TranslationQueue(translator, o.QueueCapacity, memory, fuzzyThreshold);
        var service = new TranslationService(queue, o);
        app.Use(async (ctx, next) =>
        {
            long? length = ctx.Request.ContentLength;
            if (length is null && HttpMethods.IsPost(ctx.Request.Method))
            {
                // A body without a length (chunked) is read here, at most limit + 1 bytes, so it is judged like one with a length.
                var buffered = new MemoryStream();
                var chunk = new byte[16384];
                int n;
                while (buffered.Length <= limit && (n = await ctx.Request.Body.ReadAsync(chunk, ctx.RequestAborted)) > 0) buffered.Write(chunk, 0, n);
                if (buffered.Length <= limit)
                {
                    buffered.Position = 0;
                    ctx.Request.Body = buffered;
                    await next(ctx);
                    return;
                }
                length = buffered.Length;
            }
            else if (length is null || length <= limit)
            {
                await next(ctx);
                return;
            }
            service.Received();
            var tooLarge = service.Refuse(413, $"the request body has {(ctx.Request.ContentLength is null ? "more than " + limit : length)} bytes; the limit is {limit} " +
                                               $"({o.MaxTexts} texts of at most {o.MaxChars} characters); split the request");
            // Read and drop the rest, so the client, still sending, can read our answer; past the drain cap, close instead.
            try { await ctx.Request.Body.CopyToAsync(Stream.Null, ctx.RequestAborted); }
            catch (Microsoft.AspNetCore.Http.BadHttpRequestException) { ctx.Response.Headers.Connection = "close"; }
            if (OpenAiApi.Owns(ctx.Request.Path)) await OpenAiApi.Error(tooLarge).ExecuteAsync(ctx);
            else await TypedResults.Problem(statusCode: 413, title: "Request body too large", detail: tooLarge.Message).ExecuteAsync(ctx);
        });
        app.MapTranslateApi(service);
        app.MapOpenAiApi(service);
        return (app, queue);
    }

    /// <summary>Largest request body accepted: MaxTexts texts of MaxChars characters, 4 UTF-8 bytes each, plus the JSON around them.</summary>
    public static long BodyLimit(ServeOptions o) => (long)o.MaxTexts * o.MaxChars * 4 + 4096;

    /// <summary>Largest oversized body still read (and dropped) so that its 413 arrives on a healthy connection: 16 × the limit, at least 16 MiB.</summary>
    public static long DrainCap(ServeOptions o) => Math.Max(16 * BodyLimit(o), 16L << 20);
}
