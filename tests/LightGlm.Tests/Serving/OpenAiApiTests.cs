// The OpenAI-compatible endpoints of a real server on loopback, driven as users drive them: Microsoft.Extensions.AI's
// IChatClient over the OpenAI package's ChatClient (streaming and not), and raw HTTP for the wire format (SSE framing,
// `data: [DONE]`), the direction rules and the errors in OpenAI's shape. Every answer is compared with the translator's.
using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using LightGlm.Cli.Serving;
using LightGlm.Tests.Translation;
using LightGlm.Text.Tokenizers;
using LightGlm.Translation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;

namespace LightGlm.Tests.Serving;

public sealed class OpenAiApiTests
{
    const int MaxNew = 8;
    static readonly GlmTranslator Reference = new(TranslatorTests.TinyModel(), ByteTokenizer.Instance, maxBatch: 1);

    static string Expected(string text, Direction d) => Reference.Translate([text], d, MaxNew)[0].Text;

    static async Task<(WebApplication App, TranslationQueue Queue, HttpClient Http, string Url)> Start(ServeOptions? o = null)
    {
        var (app, queue, http) = await ServerTests.Start(o ?? new ServeOptions(MaxNewTokens: MaxNew, ModelId: "tiny"));
        return (app, queue, http, http.BaseAddress!.ToString().TrimEnd('/'));
    }

    static IChatClient Client(string url, string key = "unused") =>
        new OpenAI.Chat.ChatClient("tiny", new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(url + "/v1") }).AsIChatClient();

    [Fact]
    public async Task TheOpenAiChatClientTranslatesStreamingAndNot()
    {
        var (app, queue, _, url) = await Start(new ServeOptions(MaxNewTokens: MaxNew, ModelId: "tiny", BearerToken: "s3cret"));
        try
        {
            var chat = Client(url, "s3cret");
            ChatMessage[] toChinese = [new(ChatRole.System, "You are a translator. Translate the user's text into Chinese."), new(ChatRole.User, "Permission denied")];
            Assert.NotEmpty(Expected("Permission denied", Direction.EnToZh)); // else an empty answer would pass
            var response = await chat.GetResponseAsync(toChinese);
            Assert.Equal(Expected("Permission denied", Direction.EnToZh), response.Text);
            Assert.NotNull(response.FinishReason);
            Assert.True(response.Usage?.OutputTokenCount > 0, "usage.completion_tokens missing");

            var streamed = new StringBuilder();
            int updates = 0;
            await foreach (var u in chat.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "翻译成英文：打开文件")]))
            {
                streamed.Append(u.Text);
                updates++;
            }
            Assert.NotEmpty(Expected("打开文件", Direction.ZhToEn));
            Assert.Equal(Expected("打开文件", Direction.ZhToEn), streamed.ToString());
            Assert.NotEqual(Expected("打开文件", Direction.EnToZh), streamed.ToString()); // the instruction, not the default, chose zh-en
            Assert.True(updates >= 2, $"{updates} streaming updates");

            // Detected from the script when nothing asks for a direction; options reach the server (max tokens).
            var detected = await chat.GetResponseAsync("无法打开文件", new ChatOptions { MaxOutputTokens = 4 });
            Assert.Equal(Reference.Translate(["无法打开文件"], Direction.ZhToEn, 4)[0].Text, detected.Text);

            var wrongKey = await Assert.ThrowsAsync<ClientResultException>(() => Client(url, "wrong").GetResponseAsync("Open file"));
            Assert.Equal(401, wrongKey.Status);
            Assert.Contains("bearer token", wrongKey.Message);
        }
        finally { await app.StopAsync(); queue.Dispose(); }
    }

    [Fact]
    public async Task ChatCompletionsWireFormat()
    {
        var (app, queue, http, _) = await Start();
        try
        {
            var r = await http.PostAsJsonAsync("/v1/chat/completions", new { model = "tiny", messages = new[] { new { role = "user", content = "Open file" } } });
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            var j = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("chat.completion", j.GetProperty("object").GetString());
            Assert.StartsWith("chatcmpl-", j.GetProperty("id").GetString());
            Assert.Equal("tiny", j.GetProperty("model").GetString());
            var choice = j.GetProperty("choices")[0];
            Assert.Equal("assistant", choice.GetProperty("message").GetProperty("role").GetString());
            Assert.Equal(Expected("Open file", Direction.EnToZh), choice.GetProperty("message").GetProperty("content").GetString());
            Assert.Contains(choice.GetProperty("finish_reason").GetString(), new[] { "stop", "length" });
            Assert.Equal("en-zh", choice.GetProperty("direction").GetString());
            var usage = j.GetProperty("usage");
            Assert.Equal("Open file".Length, usage.GetProperty("prompt_tokens").GetInt32()); // byte tokenizer: one token per byte
            Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32() + usage.GetProperty("completion_tokens").GetInt32(), usage.GetProperty("total_tokens").GetInt32());

            // Streaming: `data: {json}` events separated by blank lines, the content in choices[0].delta.content, then [DONE].
            var s = await http.PostAsJsonAsync("/v1/chat/completions", new
            {
                messages = new object[] { new { role = "system", content = "Translate to English." }, new { role = "user", content = new[] { new { type = "text", text = "保存文件" } } } },
                stream = true, stream_options = new { include_usage = true },
            });
            Assert.Equal(HttpStatusCode.OK, s.StatusCode);
            Assert.Equal("text/event-stream", s.Content.Headers.ContentType?.MediaType);
            var events = Events(await s.Content.ReadAsStringAsync());
            Assert.Equal("[DONE]", events[^1]);
            var chunks = events[..^1].Select(e => JsonDocument.Parse(e).RootElement).ToList();
            Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
            Assert.Single(chunks.Select(c => c.GetProperty("id").GetString()).Distinct());
            var withChoice = chunks.Where(c => c.GetProperty("choices").GetArrayLength() > 0).Select(c => c.GetProperty("choices")[0]).ToList();
            Assert.Equal("assistant", withChoice[0].GetProperty("delta").GetProperty("role").GetString());
            string content = string.Concat(withChoice.Select(c => c.GetProperty("delta").TryGetProperty("content", out var t) ? t.GetString() : ""));
            Assert.Equal(Expected("保存文件", Direction.ZhToEn), content);
            Assert.Equal(JsonValueKind.String, withChoice[^1].GetProperty("finish_reason").ValueKind);
            Assert.True(chunks[^1].GetProperty("usage").GetProperty("completion_tokens").GetInt32() > 0);

            // The direction field wins over the system message and the script.
            var forced = await http.PostAsJsonAsync("/v1/chat/completions", new
            {
                direction = "en-zh", messages = new[] { new { role = "system", content = "翻译成英文" }, new { role = "user", content = "保存文件" } },
            });
            var f = JsonDocument.Parse(await forced.Content.ReadAsStringAsync()).RootElement.GetProperty("choices")[0];
            Assert.Equal("en-zh", f.GetProperty("direction").GetString());
            Assert.Equal(Expected("保存文件", Direction.EnToZh), f.GetProperty("message").GetProperty("content").GetString());
        }
        finally { await app.StopAsync(); queue.Dispose(); }
    }

    [Fact]
    public async Task CompletionsAndModelsWireFormat()
    {
        var (app, queue, http, _) = await Start();
        try
        {
            var models = JsonDocument.Parse(await http.GetStringAsync("/v1/models")).RootElement;
            Assert.Equal("list", models.GetProperty("object").GetString());
            Assert.Equal("tiny", models.GetProperty("data")[0].GetProperty("id").GetString());
            Assert.Equal("model", models.GetProperty("data")[0].GetProperty("object").GetString());
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/v1/models/tiny")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/v1/models/gpt-4o")).StatusCode);

            string[] prompts = ["Quit", "退出", "Translate into English: 退出"];
            var r = await http.PostAsJsonAsync("/v1/completions", new { model = "tiny", prompt = prompts, max_tokens = 6 });
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            var j = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("text_completion", j.GetProperty("object").GetString());
            var choices = j.GetProperty("choices");
            Assert.Equal(3, choices.GetArrayLength());
            (string Text, Direction Dir)[] want = [("Quit", Direction.EnToZh), ("退出", Direction.ZhToEn), ("退出", Direction.ZhToEn)];
            for (int i = 0; i < want.Length; i++)
            {
                Assert.Equal(i, choices[i].GetProperty("index").GetInt32());
                Assert.Equal(Reference.Translate([want[i].Text], want[i].Dir, 6)[0].Text, choices[i].GetProperty("text").GetString());
                Assert.Equal(want[i].Dir.Name(), choices[i].GetProperty("direction").GetString());
            }

            var s = await http.PostAsJsonAsync("/v1/completions", new { prompt = "Save as", stream = true });
            var events = Events(await s.Content.ReadAsStringAsync());
            Assert.Equal("[DONE]", events[^1]);
            var text = string.Concat(events[..^1].Select(e => JsonDocument.Parse(e).RootElement.GetProperty("choices")[0].GetProperty("text").GetString()));
            Assert.Equal(Expected("Save as", Direction.EnToZh), text);

            var metrics = await http.GetStringAsync("/metrics");
            Assert.Contains("lightglm_requests_total 2", metrics); // the two completions; /v1/models is not a translate request
            Assert.Contains("lightglm_texts_translated_total 4", metrics);
        }
        finally { await app.StopAsync(); queue.Dispose(); }
    }

    [Fact]
    public async Task ErrorsComeInOpenAisShapeWithTheirStatus()
    {
        var (app, queue, http, _) = await Start(new ServeOptions(MaxTexts: 4, MaxChars: 50, QueueCapacity: 2, MaxNewTokens: MaxNew, ModelId: "tiny"));
        try
        {
            async Task Expect(HttpStatusCode status, string type, string? param, string path, HttpContent body, string? code = null)
            {
                var r = await http.PostAsync(path, body);
                string raw = await r.Content.ReadAsStringAsync();
                Assert.True(status == r.StatusCode, $"{path} {raw}: {r.StatusCode}, expected {status}");
                Assert.Equal("application/json", r.Content.Headers.ContentType?.MediaType);
                var e = JsonDocument.Parse(raw).RootElement.GetProperty("error");
                Assert.False(string.IsNullOrWhiteSpace(e.GetProperty("message").GetString()));
                Assert.Equal(type, e.GetProperty("type").GetString());
                Assert.Equal(param, e.GetProperty("param").GetString());
                if (code is not null) Assert.Equal(code, e.GetProperty("code").GetString());
            }
            static HttpContent Chat(object body) => JsonContent.Create(body);
            var user = new[] { new { role = "user", content = "Open file" } };
            const string chat = "/v1/chat/completions", completions = "/v1/completions";

            await Expect(HttpStatusCode.BadRequest, "invalid_request_error", null, chat, new StringContent("{not json", Encoding.UTF8, "application/json"));
            await Expect(HttpStatusCode.BadRequest, "invalid_request_error", null, chat, new StringContent("", Encoding.UTF8, "application/json"));
            await Expect(HttpStatusCode.BadRequest, "invalid_request_error", null, chat, Chat(new[] { 1, 2 }));
            await Expect(HttpStatusCode.BadRequest, "invalid_request_error", "messages", chat, Chat(new { model = "tiny" }));
            await Expect(HttpStatusCode.BadRequest, "invalid_request_error", "messages", chat, Chat(new { messages = new[] { new { role = "system", content = "Translate to Chinese" } } }));
            await Expect(HttpStatusCode.BadRequest, "invalid_request_error", "messages", chat, Chat(new { messages = new[] { new { role = "user", content = "Translate to Chinese:" } } }));
            await Expect(HttpStatusCode.BadRequest, "invalid_request_error", "messages", chat,
                Chat(new { messages = new[] { new { role = "user", content = new object[] { new { type = "image_url", image_url = new { url = "http://x" } } } } } }));
            await Expect(HttpStatusCode.NotFound, "invalid_request_error", "model", chat, Chat(new { model = "gpt-4o", messages = user }), "model_not_found");
            await Expect(HttpStatusCode.BadRequest, "invalid_request_error", "n", chat, Chat(new { messages = user, n = 2 }));
            await Expect(HttpStatusCode.BadRequest, "invalid_request_error", "max_tokens", chat, Chat(new { messages = user, max_tokens = 4096 }));
            await Expect(HttpStatusCode.BadRequest, "invalid_request_error", "max_completion_tokens", chat, Chat(new { messages = user, max_completion_tokens = 0 }));
            await Expect(HttpStatusCode.BadRequest, "invalid_request_error", "max_tokens", chat, Chat(new { messages = user, max_tokens = "many" }));
            await Expect(HttpStatusCode.BadRequest, "invalid_request_error", "stream", chat, Chat(new { messages = user, stream = "yes" }));
            await Expect(HttpStatusCode.BadRequest, "invalid_request_error", "direction", chat, Chat(new { messages = user, direction = "fr-de" }));
            await Expect(HttpStatusCode.BadRequest, "invalid_request_error", "beam", chat, Chat(new { messages = user, beam = 3 }));
            await Expect(HttpStatusCode.RequestEntityTooLarge, "invalid_request_error", "messages", chat,
                Chat(new { messages = new[] { new { role = "user", content = new string('x', 51) } } }), "request_too_large");
            // Beyond the body limit (4 texts × 50 chars): refused before parsing, still in OpenAI's shape.
            await Expect(HttpStatusCode.RequestEntityTooLarge, "invalid_request_error", null, chat,
                Chat(new { messages = new[] { new { role = "user", content = new string('x', 5000) } } }), "request_too_large");
            await Expect(HttpStatusCode.BadRequest, "invalid_request_error", "prompt", completions, Chat(new { prompt = new[] { 1, 2, 3 } }));
            await Expect(HttpStatusCode.BadRequest, "invalid_request_error", "prompt", completions, Chat(new { model = "tiny" }));
            await Expect(HttpStatusCode.RequestEntityTooLarge, "invalid_request_error", "prompt", completions, Chat(new { prompt = new[] { "a", "b", "c", "d", "e" } }));
            // Four texts into a queue of two: 429, and the server keeps answering.
            await Expect((HttpStatusCode)429, "requests", null, completions, Chat(new { prompt = new[] { "a", "b", "c", "d" } }), "rate_limit_exceeded");
            Assert.Equal(HttpStatusCode.OK, (await http.PostAsJsonAsync(chat, new { messages = user })).StatusCode);

            var metrics = await http.GetStringAsync("/metrics");
            Assert.Contains("lightglm_rejected_total 1", metrics);
            Assert.Contains("lightglm_bad_requests_total 20", metrics);
        }
        finally { await app.StopAsync(); queue.Dispose(); }
    }

    [Fact]
    public async Task TokenGuardsTheOpenAiEndpointsLikeTranslate()
    {
        var (app, queue, http, _) = await Start(new ServeOptions(MaxNewTokens: MaxNew, ModelId: "tiny", BearerToken: "s3cret"));
        try
        {
            foreach (var r in new[]
            {
                await http.GetAsync("/v1/models"),
                await http.PostAsJsonAsync("/v1/chat/completions", new { messages = new[] { new { role = "user", content = "x" } } }),
                await http.PostAsJsonAsync("/v1/completions", new { prompt = "x" }),
            })
            {
                Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
                Assert.Equal("invalid_api_key", JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetString());
            }
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "s3cret");
            Assert.Equal(HttpStatusCode.OK, (await http.PostAsJsonAsync("/v1/completions", new { prompt = "x" })).StatusCode);
        }
        finally { await app.StopAsync(); queue.Dispose(); }
    }

    /// <summary>The data of each server-sent event; every event must be one `data: ` line ended by a blank line.</summary>
    static string[] Events(string body)
    {
        Assert.EndsWith("\n\n", body);
        var events = body[..^2].Split("\n\n");
        Assert.All(events, e => Assert.StartsWith("data: ", e));
        Assert.All(events, e => Assert.DoesNotContain('\n', e));
        return events.Select(e => e["data: ".Length..]).ToArray();
    }
}
