// The server started for real on a loopback port, driven by HttpClient: concurrent requests answered as the
// translator answers them, bad and oversized input rejected with ProblemDetails 4xx, a full queue gives 429.
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using LightGlm.Cli.Serving;
using LightGlm.Tests.Translation;
using LightGlm.Text.Tokenizers;
using LightGlm.Translation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace LightGlm.Tests.Serving;

[Collection(nameof(ProcessHeapOwners))]
public sealed class ServerTests
{
    /// <summary>A server on the tiny model at a free local port (also OpenAiApiTests'); the client's BaseAddress is its URL.</summary>
    internal static async Task<(WebApplication App, TranslationQueue Queue, HttpClient Client)> Start(ServeOptions o, int maxBeam = 1,
        TranslationMemory? memory = null, double? fuzzyThreshold = null)
    {
        var tr = new GlmTranslator(TranslatorTests.TinyModel(), ByteTokenizer.Instance, new TranslatorOptions { MaxBatch = 4, MaxBeam = maxBeam });
        var (app, queue) = TranslationServer.Build(tr, "http://127.0.0.1:0", o, memory: memory, fuzzyThreshold: fuzzyThreshold);
        await app.StartAsync();
        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, queue, new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromMinutes(2) });
    }

    /// <summary>Clean shutdown (issue 9): stopping the server while requests are queued and decoding finishes them all.</summary>
    [Fact]
    public async Task StoppingTheServerFinishesTheRequestsInFlight()
    {
        var (app, queue, http) = await Start(new ServeOptions(MaxNewTokens: 64));
        try
        {
            var texts = Enumerable.Range(0, 48).Select(i => $"cannot open file number {i}: permission denied").ToArray();
            var tasks = texts.Select(t => http.PostAsJsonAsync("/v1/translate", new { text = t, direction = "en-zh" })).ToList();
            // Every request has been received (counted at entry) before the stop begins.
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (Interlocked.Read(ref queue.Metrics.Requests) < texts.Length && DateTime.UtcNow < deadline) await Task.Delay(5);
            Assert.Equal(texts.Length, Interlocked.Read(ref queue.Metrics.Requests));
            bool unfinished = tasks.Any(t => !t.IsCompleted);
            await app.StopAsync(); // Kestrel stops accepting and waits for the requests in flight
            var responses = await Task.WhenAll(tasks);
            Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
            foreach (var r in responses)
                Assert.NotNull(JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("translations")[0].GetProperty("text").GetString());
            Assert.True(unfinished, "every request finished before the stop began: the test proved nothing");
        }
        finally { queue.Dispose(); }
    }

    /// <summary>serve --memory: a stored text gets its stored translation, a similar one the model's answer with the match in
    /// its prompt, and /metrics counts both.</summary>
    [Fact]
    public async Task AMemoryAnswersStoredTextsAndGivesFuzzyMatchesToTheModel()
    {
        var tm = new TranslationMemory([("Open file", "打开文件"), ("Save the file", "保存文件")]);
        var (app, queue, http) = await Start(new ServeOptions(MaxNewTokens: 8), memory: tm, fuzzyThreshold: 0.5);
        try
        {
            async Task<string> Translate(string text)
            {
                var r = await http.PostAsJsonAsync("/v1/translate", new { text, direction = "en-zh", max_new_tokens = 8 });
                Assert.Equal(HttpStatusCode.OK, r.StatusCode);
                return JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("translations")[0].GetProperty("text").GetString()!;
            }
            Assert.Equal("打开文件", await Translate("open  FILE"));
            var tr = new GlmTranslator(TranslatorTests.TinyModel(), ByteTokenizer.Instance, new TranslatorOptions { MaxBatch = 4 });
            Assert.Equal(tr.Translate(["Save a file"], Direction.EnToZh, 8, matches: ["保存文件"])[0].Text, await Translate("Save a file"));
            var metrics = await http.GetStringAsync("/metrics");
            Assert.Contains("lightglm_memory_hits_total 1\n", metrics);
            Assert.Contains("lightglm_fuzzy_hits_total 1\n", metrics);
        }
        finally { await app.StopAsync(); queue.Dispose(); }
    }

    [Fact]
    public async Task ConcurrentRequestsAreAnsweredLikeTheTranslator()
    {
        var (app, queue, http) = await Start(new ServeOptions(MaxNewTokens: 8));
        try
        {
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
            string[] texts = ["Open file", "Permission denied", "Save as", "Quit", "Cannot read %s", "Retry"];
            var tasks = Enumerable.Range(0, 12).Select(i => http.PostAsJsonAsync("/v1/translate", new { text = texts[i % texts.Length], direction = "en-zh" })).ToList();
            var responses = await Task.WhenAll(tasks);
            var reference = new GlmTranslator(TranslatorTests.TinyModel(), ByteTokenizer.Instance, maxBatch: 1);
            for (int i = 0; i < responses.Length; i++)
            {
                Assert.Equal(HttpStatusCode.OK, responses[i].StatusCode);
                var j = JsonDocument.Parse(await responses[i].Content.ReadAsStringAsync()).RootElement;
                var got = j.GetProperty("translations")[0].GetProperty("text").GetString();
                Assert.Equal(reference.Translate([texts[i % texts.Length]], Direction.EnToZh, 8)[0].Text, got);
                Assert.Equal("en-zh", j.GetProperty("translations")[0].GetProperty("direction").GetString());
            }
            var batch = await http.PostAsJsonAsync("/v1/translate", new { texts = new[] { "a", "b", "c" } });
            Assert.Equal(3, JsonDocument.Parse(await batch.Content.ReadAsStringAsync()).RootElement.GetProperty("translations").GetArrayLength());
            var metrics = await http.GetStringAsync("/metrics");
            Assert.Contains("lightglm_requests_total 13", metrics);
            Assert.Contains("# TYPE lightglm_batches_total counter", metrics);
        }
        finally { await app.StopAsync(); queue.Dispose(); }
    }

    [Fact]
    public async Task BadAndOversizedInputGetProblemDetails()
    {
        var (app, queue, http) = await Start(new ServeOptions(MaxTexts: 4, MaxChars: 100, MaxNewTokens: 8));
        try
        {
            async Task Expect(HttpStatusCode code, HttpContent body)
            {
                var r = await http.PostAsync("/v1/translate", body);
                Assert.Equal(code, r.StatusCode);
                Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
            }
            await Expect(HttpStatusCode.BadRequest, JsonContent.Create(new { }));
            await Expect(HttpStatusCode.BadRequest, JsonContent.Create(new { text = "x", direction = "fr-de" }));
            await Expect(HttpStatusCode.BadRequest, JsonContent.Create(new { text = "x", beam = 4 }));
            await Expect(HttpStatusCode.RequestEntityTooLarge, JsonContent.Create(new { texts = new[] { "a", "b", "c", "d", "e" } }));
            await Expect(HttpStatusCode.RequestEntityTooLarge, JsonContent.Create(new { text = new string('x', 101) }));
            var notJson = await http.PostAsync("/v1/translate", new StringContent("{not json", System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);
            var huge = await http.PostAsync("/v1/translate", new StringContent(new string('x', 200_000), System.Text.Encoding.UTF8, "application/json"));
            Assert.True((int)huge.StatusCode is 400 or 413, $"huge body: {huge.StatusCode}");
        }
        finally { await app.StopAsync(); queue.Dispose(); }
    }

    [Fact]
    public async Task FullQueueAnswers429AndTheServerKeepsAnswering()
    {
        var (app, queue, http) = await Start(new ServeOptions(MaxTexts: 32, QueueCapacity: 2, MaxNewTokens: 8));
        try
        {
            var many = Enumerable.Range(0, 30).Select(i => $"text number {i}").ToArray();
            var r = await http.PostAsJsonAsync("/v1/translate", new { texts = many });
            Assert.Equal((HttpStatusCode)429, r.StatusCode);
            // Bounded load: 20 requests, each 200 or 429, and afterwards a single request succeeds.
            var rs = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => http.PostAsJsonAsync("/v1/translate", new { text = $"t{i}" })));
            Assert.All(rs, x => Assert.True(x.StatusCode is HttpStatusCode.OK or (HttpStatusCode)429, x.StatusCode.ToString()));
            Assert.Equal(HttpStatusCode.OK, (await http.PostAsJsonAsync("/v1/translate", new { text = "again" })).StatusCode);
        }
        finally { await app.StopAsync(); queue.Dispose(); }
    }

    [Fact]
    public async Task BearerTokenIsEnforcedWhenSet()
    {
        var (app, queue, http) = await Start(new ServeOptions(BearerToken: "s3cret", MaxNewTokens: 4));
        try
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.PostAsJsonAsync("/v1/translate", new { text = "x" })).StatusCode);
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "s3cret");
            Assert.Equal(HttpStatusCode.OK, (await http.PostAsJsonAsync("/v1/translate", new { text = "x" })).StatusCode);
        }
        finally { await app.StopAsync(); queue.Dispose(); }
    }

    [Fact]
    public void NonLoopbackNeedsAllowRemote()
    {
        var tr = new GlmTranslator(TranslatorTests.TinyModel(), ByteTokenizer.Instance, maxBatch: 1);
        Assert.Throws<LightGlm.Cli.CliException>(() => TranslationServer.Build(tr, "http://0.0.0.0:8080", new ServeOptions()));
    }

    [Fact]
    public async Task BeamRequestsAreServedUpToTheServersMaxBeam()
    {
        var (app, queue, http) = await Start(new ServeOptions(MaxNewTokens: 8), maxBeam: 2);
        try
        {
            string[] texts = ["Open file", "Permission denied", "Quit"];
            var rs = await Task.WhenAll(texts.Select(t => http.PostAsJsonAsync("/v1/translate", new { text = t, direction = "en-zh", beam = 2 })));
            var reference = new GlmTranslator(TranslatorTests.TinyModel(), ByteTokenizer.Instance, new TranslatorOptions { MaxBatch = 1, MaxBeam = 2 });
            for (int i = 0; i < texts.Length; i++)
            {
                Assert.Equal(HttpStatusCode.OK, rs[i].StatusCode);
                var got = JsonDocument.Parse(await rs[i].Content.ReadAsStringAsync()).RootElement.GetProperty("translations")[0].GetProperty("text").GetString();
                Assert.Equal(reference.Translate([texts[i]], Direction.EnToZh, 8, beam: 2)[0].Text, got);
            }
            var tooWide = await http.PostAsJsonAsync("/v1/translate", new { text = "x", beam = 3 });
            Assert.Equal(HttpStatusCode.BadRequest, tooWide.StatusCode);
            Assert.Contains("--max-beam", await tooWide.Content.ReadAsStringAsync());
        }
        finally { await app.StopAsync(); queue.Dispose(); }
    }

    /// <summary>
    /// Many requests through the real server do not grow the managed heap: the session's buffers are sized once and
    /// nothing per request is kept (queue, metrics and batches release what they hold). Not timed.
    /// </summary>
    [Fact]
    public async Task MemoryStaysFlatOverManyRequests()
    {
        var (app, queue, http) = await Start(new ServeOptions(MaxNewTokens: 6, QueueCapacity: 256), maxBeam: 2);
        try
        {
            async Task Burst(int requests)
            {
                for (int i = 0; i < requests; i += 8)
                {
                    var rs = await Task.WhenAll(Enumerable.Range(i, 8).Select(k =>
                        http.PostAsJsonAsync("/v1/translate", new { text = $"message {k % 13} of the day", beam = 1 + k % 2 })));
                    Assert.All(rs, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
                    foreach (var r in rs) r.Dispose();
                }
            }
            static long Heap() { GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect(); return GC.GetTotalMemory(forceFullCollection: true); }
            await Burst(48); // warm-up: JIT, Kestrel pools, thread-local scratch
            long before = Heap();
            await Burst(400);
            long after = Heap();
            // 400 requests × (a response, a job, a task, strings) ≈ 1 MB if any were kept; the bound is well below.
            Assert.True(after - before < 512 * 1024, $"managed heap grew by {(after - before) / 1024.0:F0} KB over 400 requests ({before / 1024} KB → {after / 1024} KB)");
        }
        finally { await app.StopAsync(); queue.Dispose(); }
    }
}
