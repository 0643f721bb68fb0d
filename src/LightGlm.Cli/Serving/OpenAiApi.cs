// OpenAI-compatible endpoints of `lightglm serve`, so OpenAI clients (the OpenAI SDKs, Microsoft.Extensions.AI,
// curl scripts written for OpenAI) can translate: POST /v1/chat/completions, POST /v1/completions, GET /v1/models.
// They share /v1/translate's batching, limits, token and metrics (TranslationService) and answer errors in OpenAI's
// shape {"error": {"message", "type", "param", "code"}}. A stream is sent once the batched decode has finished: the
// role, the whole translation in one delta, the finish reason, then `data: [DONE]`.
using System.Text.Encodings.Web;
using System.Text.Json;
using LightGlm.Translation;

namespace LightGlm.Cli.Serving;

public static class OpenAiApi
{
    static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    static readonly long Started = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>True for the paths whose errors are written in OpenAI's shape (also the body-size 413).</summary>
    public static bool Owns(PathString path) =>
        path.StartsWithSegments("/v1/chat") || path.StartsWithSegments("/v1/completions") || path.StartsWithSegments("/v1/models");

    public static WebApplication MapOpenAiApi(this WebApplication app, TranslationService service)
    {
        string id = service.Options.ModelId;
        var model = new { id, @object = "model", created = Started, owned_by = "lightglm" };
        // Lambdas typed IResult / Task<IResult>: a bare (HttpContext) => Task would bind as a RequestDelegate and drop the result.
        app.MapGet("/v1/models", IResult (HttpContext ctx) =>
            service.Authorize(ctx.Request) is { } denied ? Error(denied) : Ok(new { @object = "list", data = new[] { model } }));
        app.MapGet("/v1/models/{name}", IResult (string name, HttpContext ctx) =>
            service.Authorize(ctx.Request) is { } denied ? Error(denied)
            : name == id ? Ok(model) : Error(service.Refuse(404, $"the model '{name}' does not exist; this server serves '{id}'", "model")));
        app.MapPost("/v1/chat/completions", Task<IResult> (HttpContext ctx) => Handle(ctx, service, ChatAsync));
        app.MapPost("/v1/completions", Task<IResult> (HttpContext ctx) => Handle(ctx, service, CompleteAsync));
        return app;
    }

    /// <summary>OpenAI's error body; the type and code follow from the status as OpenAI's own API sets them.</summary>
    public static IResult Error(ServeError e)
    {
        var (type, code) = e.Status switch
        {
            401 => ("invalid_request_error", "invalid_api_key"),
            404 => ("invalid_request_error", "model_not_found"),
            413 => ("invalid_request_error", "request_too_large"),
            429 => ("requests", "rate_limit_exceeded"),
            503 => ("server_error", "timeout"),
            >= 500 => ("server_error", (string?)null),
            _ => ("invalid_request_error", null),
        };
        return Results.Content(JsonSerializer.Serialize(new { error = new { message = e.Message, type, param = e.Param, code } }, Json),
            "application/json", statusCode: e.Status);
    }

    /// <summary>A request field of the wrong type or value: answered 400 with the field as OpenAI's <c>param</c>.</summary>
    sealed class FieldException(string param, string message) : Exception(message) { public string Param { get; } = param; }

    static async Task<IResult> Handle(HttpContext ctx, TranslationService service, Func<JsonElement, HttpContext, TranslationService, Task<IResult>> handler)
    {
        service.Received();
        if (service.Authorize(ctx.Request) is { } denied) return Error(denied);
        JsonDocument doc;
        try { doc = await JsonDocument.ParseAsync(ctx.Request.Body, cancellationToken: ctx.RequestAborted); }
        catch (JsonException e) { return Error(service.Refuse(400, $"the body is not valid JSON: {e.Message}")); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) return Error(service.Refuse(400, $"the body is a JSON {doc.RootElement.ValueKind}; send a JSON object"));
            try
            {
                var model = Str(doc.RootElement, "model");
                if (model is not null && model != service.Options.ModelId)
                    return Error(service.Refuse(404, $"the model '{model}' does not exist; this server serves '{service.Options.ModelId}' (GET /v1/models)", "model"));
                if (Int(doc.RootElement, "n") is { } n && n != 1)
                    return Error(service.Refuse(400, $"n = {n}: a translation has one answer; ask for n = 1 (a wider search is 'beam')", "n"));
                return await handler(doc.RootElement, ctx, service);
            }
            catch (FieldException e) { return Error(service.Refuse(400, e.Message, e.Param)); }
            catch (InvalidOperationException e) { return Error(service.Refuse(400, $"a string in the body cannot be read: {e.Message}")); }
        }
    }

    /// <summary>
    /// The last user message is translated. Direction: the <c>direction</c> field, else an instruction heading the user
    /// message ("Translate to Chinese: ..."), else one in a system message, else detected from the script of the text.
    /// </summary>
    static async Task<IResult> ChatAsync(JsonElement body, HttpContext ctx, TranslationService service)
    {
        if (!body.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
            throw new FieldException("messages", "'messages' must be a non-empty array of {\"role\", \"content\"}");
        string? user = null;
        Direction? fromSystem = null;
        int i = 0;
        foreach (var m in messages.EnumerateArray())
        {
            if (m.ValueKind != JsonValueKind.Object) throw new FieldException("messages", $"messages[{i}] is not an object");
            string role = Str(m, "role") ?? throw new FieldException("messages", $"messages[{i}] has no 'role'");
            string content = Content(m, i);
            if (role == "user") user = content;
            else if (role is "system" or "developer" && TranslationInstruction.Find(content) is { } d) fromSystem = d;
            i++;
        }
        if (user is null) throw new FieldException("messages", "no message with role 'user': nothing to translate");
        var (fromHead, text) = TranslationInstruction.SplitHead(user);
        if (text.Length == 0) throw new FieldException("messages", "the user message holds an instruction but no text to translate after it");
        var direction = Direction(body) ?? fromHead ?? fromSystem ?? Directions.Detect(text);
        string maxParam = body.TryGetProperty("max_completion_tokens", out _) ? "max_completion_tokens" : "max_tokens";
        bool stream = Bool(body, "stream") == true, includeUsage = IncludeUsage(body); // read before the decode: a bad field costs no translation
        var outcome = await service.TranslateAsync([text], [direction], Int(body, "beam"), Int(body, maxParam), ctx.RequestAborted, "messages", maxParam);
        if (outcome.Error is { } e) return Error(e);
        var r = outcome.Results![0];
        string id = "chatcmpl-" + Guid.NewGuid().ToString("N"), model = service.Options.ModelId, finish = r.Stopped ? "stop" : "length";
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var usage = Usage(service, [text], [r]);
        if (!stream)
            return Ok(new
            {
                id, @object = "chat.completion", created, model,
                choices = new[] { new { index = 0, message = new { role = "assistant", content = r.Text }, finish_reason = finish, direction = direction.Name() } },
                usage,
            });
        var chunks = new List<object>
        {
            Chunk(new { index = 0, delta = new { role = "assistant", content = "" }, finish_reason = (string?)null }),
            Chunk(new { index = 0, delta = new { content = r.Text }, finish_reason = (string?)null }),
            Chunk(new { index = 0, delta = new { }, finish_reason = finish, direction = direction.Name() }),
        };
        if (includeUsage) chunks.Add(new { id, @object = "chat.completion.chunk", created, model, choices = Array.Empty<object>(), usage });
        return new EventStream(chunks);

        object Chunk(object choice) => new { id, @object = "chat.completion.chunk", created, model, choices = new[] { choice } };
    }

    /// <summary>Each prompt (a string or an array of strings) is translated; an instruction may head each one.</summary>
    static async Task<IResult> CompleteAsync(JsonElement body, HttpContext ctx, TranslationService service)
    {
        if (!body.TryGetProperty("prompt", out var prompt)) throw new FieldException("prompt", "'prompt' is missing: send the text to translate");
        string[] prompts = prompt.ValueKind switch
        {
            JsonValueKind.String => [prompt.GetString()!],
            JsonValueKind.Array => prompt.EnumerateArray().Select((p, k) => p.ValueKind == JsonValueKind.String ? p.GetString()!
                : throw new FieldException("prompt", $"prompt[{k}] is a JSON {p.ValueKind}; prompts are strings (token-id prompts are not supported)")).ToArray(),
            _ => throw new FieldException("prompt", $"'prompt' is a JSON {prompt.ValueKind}; send a string or an array of strings"),
        };
        var asked = Direction(body);
        var split = prompts.Select(TranslationInstruction.SplitHead).ToArray();
        var texts = split.Select(s => s.Text).ToArray();
        var directions = split.Select(s => asked ?? s.Direction ?? Directions.Detect(s.Text)).ToArray();
        bool stream = Bool(body, "stream") == true, includeUsage = IncludeUsage(body);
        var outcome = await service.TranslateAsync(texts, directions, Int(body, "beam"), Int(body, "max_tokens"), ctx.RequestAborted, "prompt", "max_tokens");
        if (outcome.Error is { } e) return Error(e);
        var results = outcome.Results!;
        string id = "cmpl-" + Guid.NewGuid().ToString("N"), model = service.Options.ModelId;
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        string Finish(int k) => results[k].Stopped ? "stop" : "length";
        var usage = Usage(service, texts, results);
        if (!stream)
            return Ok(new
            {
                id, @object = "text_completion", created, model,
                choices = results.Select((r, k) => new { index = k, text = r.Text, logprobs = (object?)null, finish_reason = Finish(k), direction = directions[k].Name() }).ToArray(),
                usage,
            });
        var chunks = new List<object>();
        for (int k = 0; k < results.Count; k++)
        {
            chunks.Add(Chunk(new { index = k, text = results[k].Text, logprobs = (object?)null, finish_reason = (string?)null }));
            chunks.Add(Chunk(new { index = k, text = "", logprobs = (object?)null, finish_reason = (string?)Finish(k), direction = directions[k].Name() }));
        }
        if (includeUsage) chunks.Add(new { id, @object = "text_completion", created, model, choices = Array.Empty<object>(), usage });
        return new EventStream(chunks);

        object Chunk(object choice) => new { id, @object = "text_completion", created, model, choices = new[] { choice } };
    }

    static object Usage(TranslationService service, IReadOnlyList<string> texts, IReadOnlyList<TranslationResult> results)
    {
        int prompt = texts.Sum(service.CountTokens), completion = results.Sum(r => r.Ids.Length);
        return new { prompt_tokens = prompt, completion_tokens = completion, total_tokens = prompt + completion };
    }

    static IResult Ok(object value) => Results.Content(JsonSerializer.Serialize(value, Json), "application/json");

    /// <summary>Server-sent events in OpenAI's framing: <c>data: {json}</c> and a blank line per event, then <c>data: [DONE]</c>.</summary>
    sealed class EventStream(IReadOnlyList<object> events) : IResult
    {
        public async Task ExecuteAsync(HttpContext ctx)
        {
            ctx.Response.ContentType = "text/event-stream; charset=utf-8";
            ctx.Response.Headers.CacheControl = "no-cache";
            foreach (var e in events)
            {
                await ctx.Response.WriteAsync("data: " + JsonSerializer.Serialize(e, e.GetType(), Json) + "\n\n", ctx.RequestAborted);
                await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
            }
            await ctx.Response.WriteAsync("data: [DONE]\n\n", ctx.RequestAborted);
        }
    }

    static string Content(JsonElement message, int i)
    {
        if (!message.TryGetProperty("content", out var c) || c.ValueKind == JsonValueKind.Null) return "";
        if (c.ValueKind == JsonValueKind.String) return c.GetString()!;
        if (c.ValueKind != JsonValueKind.Array) throw new FieldException("messages", $"messages[{i}].content is a JSON {c.ValueKind}; send a string or an array of text parts");
        var parts = new List<string>();
        foreach (var p in c.EnumerateArray())
        {
            if (p.ValueKind != JsonValueKind.Object || Str(p, "type") != "text" || Str(p, "text") is not { } t)
                throw new FieldException("messages", $"messages[{i}].content holds a part that is not {{\"type\": \"text\", \"text\": \"...\"}}; only text can be translated");
            parts.Add(t);
        }
        return string.Join("\n", parts);
    }

    static Direction? Direction(JsonElement body)
    {
        if (Str(body, "direction") is not { } d) return null;
        try { return Directions.Parse(d); }
        catch (FormatException e) { throw new FieldException("direction", e.Message); }
    }

    static bool IncludeUsage(JsonElement body) =>
        body.TryGetProperty("stream_options", out var so) && so.ValueKind == JsonValueKind.Object && Bool(so, "include_usage") == true;

    static string? Str(JsonElement o, string name) => !o.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null ? null
        : v.ValueKind == JsonValueKind.String ? v.GetString() : throw new FieldException(name, $"'{name}' is a JSON {v.ValueKind}; it must be a string");

    static int? Int(JsonElement o, string name) => !o.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null ? null
        : v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int x) ? x : throw new FieldException(name, $"'{name}' is {Shown(v)}; it must be an integer");

    static bool? Bool(JsonElement o, string name) => !o.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null ? null
        : v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : throw new FieldException(name, $"'{name}' is {Shown(v)}; it must be true or false");

    static string Shown(JsonElement v) => v.GetRawText() is var raw && raw.Length <= 40 ? raw : raw[..40] + "...";
}
