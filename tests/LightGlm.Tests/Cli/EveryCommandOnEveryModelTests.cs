// Issue 17's promise to users: every model command takes every model directory the project writes or imports —
// the student the recipe makes (a pruned config with explicit head_dim, a trained BPE tokenizer.json) and a Hugging
// Face checkpoint brought in by `import` (Qwen2: q/k/v biases, a tied head, a foreign tokenizer.json). Each command
// runs as the user runs it, in a child process. Translation needs the task's special tokens; a foreign tokenizer
// lacks them, and there the translation commands must say so (exit 2), not fail somewhere inside.
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using LightGlm.Tests.Evaluation;
using LightGlm.Tests.Experiments;
using LightGlm.Tests.Interop;

namespace LightGlm.Tests.Cli;

[Collection(TinyRunCollection.Name)]
public sealed class EveryCommandOnEveryModelTests(TinyRunFixture fx) : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("every-command-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    string P(params string[] parts) => Path.Combine([_dir, .. parts]);

    /// <summary>The tiny recipe's final student (the run is shared with the end-to-end tests).</summary>
    string Student()
    {
        var (first, second) = fx.Runs;
        Assert.True(first.ExitCode == 0 && second.ExitCode == 0, first.Stderr + second.Stderr);
        return fx.Run.PathOf("student");
    }

    /// <summary>The ChatGLM2 golden checkpoint imported as a user would.</summary>
    string ImportedChatGlm2()
    {
        var r = CliProcess.Run(null, "import", "--from", HfGolden.DirOf("chatglm2"), "--out", P("chatglm2"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        return P("chatglm2");
    }

    static void Ok(CliProcess.Result r, string what) =>
        Assert.True(r.ExitCode == 0, $"{what} exited {r.ExitCode}:\n{r.Stdout}\n{r.Stderr}");

    /// <summary>generate, train (init_from), prune, distill: the commands that need no translation task.</summary>
    void ModelCommands(string model, string name)
    {
        File.WriteAllLines(P($"{name}-text.txt"), ["error: cannot open file", "warning: disk almost full", "usage: prune [options]",
            "无法打开文件", "Permission denied", "Save changes before closing?"]);
        Ok(CliProcess.Run(null, "generate", "--model", model, "--prompt", "Cannot open", "--max-new", "4", "--threads", "1"), $"generate on {name}");

        string trained = P($"{name}-trained");
        File.WriteAllText(P($"{name}-train.json"), new JsonObject
        {
            ["init_from"] = model,
            ["data"] = new JsonObject { ["train"] = new JsonArray(P($"{name}-text.txt")), ["tokenizer"] = File.Exists(Path.Combine(model, "tokenizer.json")) ? Path.Combine(model, "tokenizer.json") : Path.Combine(model, "tokenizer.model") },
            ["steps"] = 2, ["batch_size"] = 2, ["seq_len"] = 16, ["checkpoint_every"] = 100, ["output_dir"] = trained,
            ["checkpoint_dir"] = P($"{name}-checkpoints"),
        }.ToJsonString());
        Ok(CliProcess.Run(null, "train", "--config", P($"{name}-train.json"), "--threads", "1"), $"train from {name}");
        Assert.True(File.Exists(Path.Combine(trained, "config.json")), $"train from {name} wrote no model");

        string pruned = P($"{name}-pruned");
        Ok(CliProcess.Run(null, "prune", "--teacher", model, "--out", pruned, "--baseline", "top-layer-drop", "--layers", "1"), $"prune {name}");
        Assert.Equal(1, LightGlm.Model.ModelConfig.Load(Path.Combine(pruned, "config.json")).NumHiddenLayers);

        Ok(CliProcess.Run(null, "distill", "--teacher", model, "--student", pruned, "--out", P($"{name}-distilled"), "--source", P($"{name}-text.txt"),
            "--steps", "1", "--batch", "2", "--max-len", "16"), $"distill {name} into its pruned copy");
        Assert.True(File.Exists(P($"{name}-distilled", "config.json")));
        // The results are model directories like any other: generate runs on them.
        Ok(CliProcess.Run(null, "generate", "--model", P($"{name}-distilled"), "--prompt", "Open", "--max-new", "3", "--threads", "1"), $"generate on distilled {name}");
    }

    [Fact]
    public void EveryCommandRunsOnTheRecipesStudent()
    {
        string student = Student();
        ModelCommands(student, "student");

        var t = CliProcess.Run(null, "translate", "--model", student, "--to", "zh", "--max-new-tokens", "6", "Open file", "Permission denied");
        Ok(t, "translate on the student");
        Assert.Equal(2, t.Stdout.Count(ch => ch == '\n')); // one line per input, even an empty translation

        File.WriteAllLines(P("pairs.tsv"), ["Open file\t打开文件", "Permission denied\t权限不够", "Cannot create directory\t无法创建目录"]);
        var e = CliProcess.Run(null, "eval", "--model", student, "--test", P("pairs.tsv"), "--max-new-tokens", "6", "--json");
        Ok(e, "eval on the student");
        Assert.NotNull(JsonNode.Parse(e.Stdout));

        // The recipe's student also continues in the translation task (finetune reads the same directory).
        Ok(CliProcess.Run(null, "finetune", "--model", student, "--data", P("pairs.tsv"), "--out", P("student-finetuned"), "--steps", "1",
            "--batch", "2", "--seq-len", "32", "--threads", "1"), "finetune the student");

        // LoRA over the student's int8 checkpoint in place (a frozen quantized base, as a 6B teacher is fine-tuned):
        // the adapters train, the merged bf16 copy is a model every command opens.
        Ok(CliProcess.Run(null, "export", "--model", student, "--quantize", "int8", "--out", P("student-int8")), "export the student as int8");
        var lora = CliProcess.Run(null, "finetune", "--model", P("student-int8"), "--data", P("pairs.tsv"), "--out", P("student-qlora"), "--steps", "2",
            "--batch", "2", "--seq-len", "32", "--lora-rank", "4", "--threads", "1");
        Ok(lora, "LoRA over the int8 student");
        Assert.Contains("merged the adapters into a bf16 copy", lora.Stdout);
        Ok(CliProcess.Run(null, "translate", "--model", P("student-qlora"), "--to", "zh", "--max-new-tokens", "4", "Open file"), "translate with the merged model");
        var full = CliProcess.Run(null, "finetune", "--model", P("student-int8"), "--data", P("pairs.tsv"), "--out", P("student-full"), "--steps", "1");
        Assert.Equal(2, full.ExitCode);
        Assert.Contains("--lora-rank", full.Stderr);

        var (code, body) = ServeOnce(student);
        Assert.True(code == HttpStatusCode.OK, body);
        Assert.Contains("\"translations\"", body.Replace(" ", ""), StringComparison.Ordinal);
    }

    [Fact]
    public void PruneAndDistillTakeAHuggingFaceTeacherInPlaceStreamedBlockByBlock()
    {
        // Issue 20: a large teacher is never loaded whole; its Hugging Face directory is mapped and run block by block,
        // and its outputs go to the teacher cache once per sequence.
        string hf = HfGolden.DirOf("chatglm2");
        File.WriteAllLines(P("hf-text.txt"), ["error: cannot open file", "warning: disk almost full", "无法打开文件", "Permission denied"]);
        Ok(CliProcess.Run(null, "prune", "--teacher", hf, "--out", P("hf-pruned"), "--baseline", "top-layer-drop", "--layers", "1"), "prune the HF teacher");
        var r = CliProcess.Run(null, "distill", "--teacher", hf, "--student", P("hf-pruned"), "--out", P("hf-distilled"), "--source", P("hf-text.txt"),
            "--target", P("hf-text.txt"), "--steps", "2", "--batch", "2", "--max-len", "16", "--top-k", "8", "--teacher-cache", P("hf.cache"));
        Ok(r, "distill from the HF teacher in place");
        Assert.Contains("streamed block by block", r.Stdout);
        Assert.Contains("teacher cache: wrote", r.Stdout);
        Assert.True(File.Exists(P("hf-distilled", "config.json")));
        Assert.True(new FileInfo(P("hf.cache")).Length > 0);
    }

    [Fact]
    public void EveryCommandRunsOnAnImportedHuggingFaceModelAndTranslationSaysWhatItLacks()
    {
        string glm = ImportedChatGlm2();
        ModelCommands(glm, "chatglm2");

        File.WriteAllLines(P("pairs.tsv"), ["Open file\t打开文件"]);
        foreach (var args in new[]
                 {
                     new[] { "translate", "--model", glm, "--to", "zh", "Open file" },
                     new[] { "eval", "--model", glm, "--test", P("pairs.tsv") },
                     new[] { "serve", "--model", glm, "--urls", "http://127.0.0.1:0" },
                 })
        {
            var r = CliProcess.Run(TimeSpan.FromMinutes(1), null, null, null, args);
            Assert.True(r.ExitCode == 2, $"{args[0]} on a foreign tokenizer exited {r.ExitCode}:\n{r.Stderr}");
            Assert.Contains("<|en2zh|>", r.Stderr);
            Assert.DoesNotContain("   at ", r.Stderr); // a message, not a stack trace
        }
    }

    /// <summary>Starts `lightglm serve` on a free port, posts one translation, stops it.</summary>
    static (HttpStatusCode Code, string Body) ServeOnce(string model)
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "LightGlm.Cli.dll"), "serve", "--model", model, "--urls", $"http://127.0.0.1:{port}" })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var outText = p.StandardOutput.ReadToEndAsync();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
            while (true)
            {
                if (p.HasExited) return (0, $"serve exited {p.ExitCode}: {err.Result}");
                try
                {
                    if (http.GetAsync("/healthz").Result.IsSuccessStatusCode) break;
                }
                catch (AggregateException) { }
                if (DateTime.UtcNow > deadline) return (0, "serve did not answer /healthz within 2 minutes");
                Thread.Sleep(200);
            }
            var r = http.PostAsync("/v1/translate", new StringContent("""{"texts": ["Open file"], "direction": "en-zh", "max_new_tokens": 6}""",
                System.Text.Encoding.UTF8, "application/json")).Result;
            return (r.StatusCode, r.Content.ReadAsStringAsync().Result);
        }
        finally
        {
            if (!p.HasExited) p.Kill(entireProcessTree: true);
            p.WaitForExit();
        }
    }
}
