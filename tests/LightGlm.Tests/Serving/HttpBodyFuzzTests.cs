// Thousands of broken request bodies against a real `lightglm serve` server on loopback: mutated bytes of valid
// requests, fields of the wrong JSON type, huge and negative numbers, deep nesting, invalid UTF-8 and lone surrogates,
// truncated, oversized and empty bodies, wrong content types, bad direction/beam values. Every answer must be 200
// (a valid request) or a 4xx ProblemDetails — never a 5xx, a dropped connection or a hang; afterwards the server
// still translates, and its managed heap has not grown.
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using LightGlm.Cli.Serving;
using LightGlm.Tests.Reliability;
using LightGlm.Tests.Translation;
using LightGlm.Text.Tokenizers;
using LightGlm.Translation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace LightGlm.Tests.Serving;

/// <summary>Tests that bound the growth of the process's managed heap (GC.GetTotalMemory counts every thread's allocations):
/// they run alone, or a test beside them allocating a model fails them.</summary>
[CollectionDefinition(nameof(ProcessHeapOwners), DisableParallelization = true)]
public sealed class ProcessHeapOwners;

[Collection(nameof(ProcessHeapOwners))]
public sealed class HttpBodyFuzzTests(ITestOutputHelper output)
{
    static readonly string[] Valid =
    [
        """{"text": "Open file", "direction": "en-zh", "beam": 1, "max_new_tokens": 4}""",
        """{"texts": ["Permission denied", "无法打开文件"], "max_new_tokens": 3}""",
        """{"text": "Cannot read %s", "beam": 2}""",
        """{"texts": ["a"], "direction": "zh-en"}""",
    ];

    static readonly string[] Values =
    [
        "null", "true", "false", "0", "-1", "1", "2", "3", "1.5", "-0", "1e400", "-1e400", "9223372036854775808", "2147483648", "-2147483649",
        "99999999999999999999999999999", "\"\"", "\" \"", "\"en-zh\"", "\"zh-en\"", "\"fr-de\"", "\"EN-ZH\"", "\"\\u0000\"", "\"\\ud800\"", "\"\\udfff x\"",
        "\"%s %d {0}\"", "\"中文\"", "[]", "[null]", "[1, 2]", "[\"a\", null]", "[\"a\", 3]", "[[\"a\"]]", "{}", "{\"text\": \"x\"}", "\"\\n\\r\\t\"",
    ];

    static readonly string[] Fields = ["text", "texts", "direction", "beam", "max_new_tokens", "Text", "TEXT", "extra", ""];

    /// <summary>One broken (or occasionally valid) request: body bytes and content type.</summary>
    static (byte[] Body, string? ContentType) Case(Random rng, int maxChars, int maxTexts)
    {
        string json = "application/json";
        switch (rng.Next(10))
        {
            case 0: case 1: case 2: // bytes of a valid request, mutated
            {
                var b = Encoding.UTF8.GetBytes(Valid[rng.Next(Valid.Length)]);
                b = Mutator.Mutate(b, rng);
                if (rng.Next(3) == 0) b = Mutator.Mutate(b, rng);
                return (b, json);
            }
            case 3: case 4: case 5: // an object of random fields with values of any type
            {
                var parts = Enumerable.Range(0, rng.Next(0, 5)).Select(_ => $"\"{Fields[rng.Next(Fields.Length)]}\": {Values[rng.Next(Values.Length)]}");
                return (Encoding.UTF8.GetBytes("{" + string.Join(", ", parts) + "}"), json);
            }
            case 6: // deep nesting, in a field or at the top
            {
                int depth = rng.Next(2) == 0 ? rng.Next(30, 80) : rng.Next(1000, 100_000);
                string nest = new string('[', depth) + new string(']', rng.Next(2) == 0 ? depth : depth / 2);
                return (Encoding.UTF8.GetBytes(rng.Next(2) == 0 ? nest : $"{{\"texts\": {nest}}}"), json);
            }
            case 7: // limits: too long a text, too many texts, an oversized body
            {
                return rng.Next(3) switch
                {
                    0 => (Encoding.UTF8.GetBytes($"{{\"text\": \"{new string('x', maxChars + rng.Next(1, 1000))}\"}}"), json),
                    1 => (Encoding.UTF8.GetBytes($"{{\"texts\": [{string.Join(",", Enumerable.Repeat("\"a\"", maxTexts + rng.Next(1, 100)))}]}}"), json),
                    _ => (Encoding.UTF8.GetBytes($"{{\"text\": \"{new string('y', rng.Next(1_000_000, 4_000_000))}\"}}"), json),
                };
            }
            case 8: // a valid body with the wrong or no content type
            {
                string[] types = ["text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                                  "application/json; charset=latin1", "application/json; charset=utf-16", "application/problem+json", "*/*", ""];
                string t = types[rng.Next(types.Length)];
                return (Encoding.UTF8.GetBytes(Valid[rng.Next(Valid.Length)]), t.Length == 0 ? null : t);
            }
            default: // invalid UTF-8 inside a string, empty body, bare values
            {
                byte[][] bad = [[0xC3], [0xFF, 0xFE], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xC0, 0xAF]];
                return rng.Next(4) switch
                {
                    0 => ([.. "{\"text\": \""u8.ToArray(), .. bad[rng.Next(bad.Length)], .. "\"}"u8.ToArray()], json),
                    1 => ([], json),
                    2 => (Encoding.UTF8.GetBytes(Values[rng.Next(Values.Length)]), json),
                    _ => (Encoding.UTF8.GetBytes(Valid[rng.Next(Valid.Length)])[..rng.Next(1, 20)], json),
                };
            }
        }
    }

    [Fact]
    public async Task ThousandsOfBrokenBodiesGet4xxProblemDetailsAndTheServerKeepsWorking()
    {
        int cases = int.TryParse(Environment.GetEnvironmentVariable("LIGHTGLM_HTTPFUZZ_CASES"), out int n) ? n : 3000;
        var o = new ServeOptions(MaxTexts: 4, MaxChars: 200, MaxNewTokens: 4, QueueCapacity: 64, Timeout: TimeSpan.FromSeconds(30));
        var tr = new GlmTranslator(TranslatorTests.TinyModel(), ByteTokenizer.Instance, new TranslatorOptions { MaxBatch = 4, MaxBeam = 2 });
        var (app, queue) = TranslationServer.Build(tr, "http://127.0.0.1:0", o);
        await app.StartAsync();
        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(30) };
        var byStatus = new SortedDictionary<int, int>();
        var watch = Stopwatch.StartNew();
        try
        {
            async Task<HttpResponseMessage> Post(byte[] body, string? type, bool chunked = false)
            {
                // Chunked: a stream that cannot say its length, so HttpClient sends Transfer-Encoding: chunked.
                HttpContent content = chunked ? new StreamContent(new UnseekableStream(body)) : new ByteArrayContent(body);
                if (type is not null) content.Headers.TryAddWithoutValidation("Content-Type", type);
                return await http.PostAsync("/v1/translate", content);
            }
            static long Heap() { GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect(); return GC.GetTotalMemory(forceFullCollection: true); }
            for (int w = 0; w < 50; w++) (await Post(Encoding.UTF8.GetBytes(Valid[w % Valid.Length]), "application/json")).Dispose(); // warm-up
            long heapBefore = Heap();
            for (int c = 0; c < cases; c++)
            {
                var rng = new Random(7 * 1_000_003 + c);
                var (body, type) = Case(rng, o.MaxChars, o.MaxTexts);
                string shown = $"case {c}: {body.Length}-byte body ({type ?? "no content type"}) '{Encoding.UTF8.GetString(body[..Math.Min(body.Length, 120)])}'";
                HttpResponseMessage r;
                bool chunked = rng.Next(8) == 0;
                if (chunked) shown += " chunked";
                try { r = await Post(body, type, chunked); }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    throw new Xunit.Sdk.XunitException($"{shown}: no answer ({e.GetType().Name}: {e.Message}) — a dropped connection or a hang");
                }
                using (r)
                {
                    int code = (int)r.StatusCode;
                    byStatus[code] = byStatus.GetValueOrDefault(code) + 1;
                    string text = await r.Content.ReadAsStringAsync();
                    if (code != 200 && code is < 400 or > 499)
                        throw new Xunit.Sdk.XunitException($"{shown}: answered {code}: {text}");
                    if (code != 200 && r.Content.Headers.ContentType?.MediaType != "application/problem+json")
                        throw new Xunit.Sdk.XunitException($"{shown}: {code} without ProblemDetails ({r.Content.Headers.ContentType}): '{text}'");
                    if (code != 200 && !text.Contains("\"detail\"") && !text.Contains("\"title\""))
                        throw new Xunit.Sdk.XunitException($"{shown}: {code} says nothing: '{text}'");
                }
            }
            long heapAfter = Heap();
            var ok = await http.PostAsync("/v1/translate", new StringContent(Valid[0], Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Contains("translations", await ok.Content.ReadAsStringAsync());
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
            output.WriteLine($"HTTP body fuzz: {cases} requests in {watch.Elapsed.TotalSeconds:F0} s; answers: " +
                             string.Join(", ", byStatus.Select(kv => $"{kv.Key} × {kv.Value}")) +
                             $"; managed heap {heapBefore / 1024} KB → {heapAfter / 1024} KB; resident {Environment.WorkingSet / 1048576} MB");
            Assert.True(byStatus.Keys.Count(k => k >= 400) >= 3, "the fuzz reached fewer than three kinds of 4xx: the generator is too weak");
            Assert.True(byStatus.GetValueOrDefault(200) > 0, "no case was valid: the generator never produces a good request");
            Assert.True(heapAfter - heapBefore < 16 << 20, $"managed heap grew by {(heapAfter - heapBefore) >> 10} KB over {cases} requests");
        }
        finally { await app.StopAsync(); queue.Dispose(); }
    }
}

/// <summary>A read-only stream over bytes that hides its length (CanSeek false).</summary>
sealed class UnseekableStream(byte[] data) : Stream
{
    readonly MemoryStream _inner = new(data);
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
