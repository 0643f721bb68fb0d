// Builds the Kestrel app for `lightglm serve`: loopback by default, body size limit, ProblemDetails.
using LightGlm.Translation;

namespace LightGlm.Cli.Serving;

public static class TranslationServer
{
    public static (WebApplication App, TranslationQueue Queue) Build(GlmTranslator translator, string urls, ServeOptions o, bool allowRemote = false)
    {
        foreach (var u in urls.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!Uri.TryCreate(u, UriKind.Absolute, out var uri)) throw new CliException($"--urls '{u}' is not a URL (e.g. http://127.0.0.1:8080)");
            if (!allowRemote && !(uri.IsLoopback)) throw new CliException($"--urls '{u}' is not a loopback address; pass --allow-remote to listen beyond this machine");
        }
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(urls);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = (long)o.MaxTexts * o.MaxChars * 4 + 4096);
        builder.Logging.ClearProviders();
        builder.Services.AddProblemDetails();
        builder.Services.ConfigureHttpJsonOptions(j => j.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower);
        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        var queue = new TranslationQueue(translator, o.QueueCapacity);
        app.MapTranslateApi(queue, o);
        return (app, queue);
    }
}
