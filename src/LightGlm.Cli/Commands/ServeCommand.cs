// `lightglm serve --model DIR --urls http://127.0.0.1:PORT`: the translation HTTP API (see Serving/).
using System.CommandLine;
using LightGlm.Cli.Serving;
using LightGlm.Translation;

namespace LightGlm.Cli.Commands;

public sealed class ServeCommand : ICliCommand
{
    public string[] Path => ["serve"];

    public Command Build()
    {
        var modelOpt = new Option<string>("--model") { Description = "Model directory.", Required = true };
        var urlsOpt = new Option<string>("--urls") { Description = "Listen URLs (loopback unless --allow-remote).", DefaultValueFactory = _ => "http://127.0.0.1:8080" };
        var remoteOpt = new Option<bool>("--allow-remote") { Description = "Allow non-loopback listen addresses." };
        var tokenOpt = new Option<string?>("--token") { Description = "Require 'Authorization: Bearer TOKEN' (also LIGHTGLM_TOKEN)." };
        var batchOpt = new Option<int>("--max-batch") { DefaultValueFactory = _ => 8, Description = "Texts decoded together." };
        var queueOpt = new Option<int>("--queue") { DefaultValueFactory = _ => 64, Description = "Waiting texts before 429." };
        var timeoutOpt = new Option<int>("--timeout-seconds") { DefaultValueFactory = _ => 30 };
        var nameOpt = new Option<string?>("--model-name") { Description = "The model's id on the OpenAI-compatible endpoints (default: the model directory's name)." };
        var decode = new DecodeOptions(defaultMaxBeam: 4);
        var memoryOpt = new MemoryOption();
        var cmd = new Command("serve", "Serve translations over HTTP: POST /v1/translate, the OpenAI-compatible POST /v1/chat/completions, POST /v1/completions " +
            "and GET /v1/models, GET /healthz, GET /metrics.") { modelOpt, urlsOpt, remoteOpt, tokenOpt, batchOpt, queueOpt, timeoutOpt, nameOpt };
        memoryOpt.AddTo(cmd);
        decode.AddTo(cmd, batch: false);
        cmd.SetAction(r =>
        {
            int batch = r.GetValue(batchOpt), queueCap = r.GetValue(queueOpt), timeout = r.GetValue(timeoutOpt);
            if (batch < 1 || queueCap < 1 || timeout < 1) throw new CliException("--max-batch, --queue and --timeout-seconds must be positive");
            string modelDir = r.GetValue(modelOpt)!;
            var memory = memoryOpt.Load(r, modelDir);
            using var opened = TranslationModel.Open(modelDir);
            var (weights, tok) = (opened.Weights, opened.Tokenizer);
            var o = new ServeOptions(QueueCapacity: queueCap, Timeout: TimeSpan.FromSeconds(timeout),
                BearerToken: r.GetValue(tokenOpt) ?? Environment.GetEnvironmentVariable("LIGHTGLM_TOKEN"),
                ModelId: r.GetValue(nameOpt) ?? ModelId(modelDir));
            var (app, queue) = TranslationServer.Build(decode.Translator(r, weights, tok, batch, memory), r.GetValue(urlsOpt)!, o, r.GetValue(remoteOpt),
                memory?.Memory, memory?.FuzzyThreshold);
            using (queue)
            {
                // Bind first: a port in use fails here (IOException, exit 2) before we claim to be listening.
                app.StartAsync().GetAwaiter().GetResult();
                Console.Error.WriteLine($"lightglm serve: listening on {string.Join(", ", app.Urls)}");
                app.WaitForShutdownAsync().GetAwaiter().GetResult();
            }
            return 0;
        });
        return cmd;
    }

    /// <summary>"runs/quick/student/" → "student": the last folder name of the model directory.</summary>
    static string ModelId(string modelDir) => new DirectoryInfo(System.IO.Path.GetFullPath(modelDir)).Name is { Length: > 0 } name ? name : "lightglm";
}
