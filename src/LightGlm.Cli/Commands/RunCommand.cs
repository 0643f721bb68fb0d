// `lightglm run RECIPE` and `lightglm quickstart`: the LightChatGLM recipe, resumable, into a run directory.
using System.CommandLine;
using LightGlm.Cli.Progress;
using LightGlm.Experiments;
using LightGlm.Experiments.Recipes;
using LightGlm.Experiments.Stages;
using LightGlm.Translation;

namespace LightGlm.Cli.Commands;

public sealed class RunCommand : ICliCommand
{
    public string[] Path => ["run"];

    public Command Build()
    {
        var recipe = new Argument<string>("recipe") { Description = $"A preset ({string.Join(", ", Recipe.PresetNames)}) or a JSON/YAML recipe file." };
        var runDir = new Option<string?>("--run-dir") { Description = "Run directory (default runs/<recipe name>). Running again continues it." };
        var until = new Option<string?>("--until") { Description = "Stop after this stage." };
        var set = new Option<string[]>("--set") { Description = "Override a setting: --set teacher.train_steps=200 (repeatable).", AllowMultipleArgumentsPerToken = false };
        var cmd = new Command("run", "Run a recipe: corpus, tokenizer, teacher, hybrid fine-tuning, compression, evaluation, report.") { recipe, runDir, until, set };
        cmd.SetAction(p => RecipeCli.Execute(p.GetValue(recipe)!, p.GetValue(runDir), p.GetValue(until), p.GetValue(set) ?? []));
        return cmd;
    }
}

public sealed class QuickstartCommand : ICliCommand
{
    public string[] Path => ["quickstart"];

    public Command Build()
    {
        var set = new Option<string[]>("--set") { Description = "Override a setting of the quick preset (repeatable)." };
        var runDir = new Option<string>("--run-dir") { Description = "Run directory.", DefaultValueFactory = _ => "runs/quickstart" };
        var cmd = new Command("quickstart", "The whole LightChatGLM recipe on the default Debian data, in minutes: the README's first command.") { set, runDir };
        cmd.SetAction(p => RecipeCli.Execute("quick", p.GetValue(runDir), null, p.GetValue(set) ?? [], liveTranslations: true));
        return cmd;
    }
}

static class RecipeCli
{
    public static int Execute(string recipeName, string? runDir, string? until, string[] sets, bool liveTranslations = false)
    {
        var recipe = Recipe.Load(recipeName);
        foreach (var s in sets)
        {
            int eq = s.IndexOf('=');
            if (eq <= 0) throw new CliException($"--set '{s}': expected name=value, e.g. --set teacher.train_steps=200");
            recipe = recipe.With(s[..eq], s[(eq + 1)..]);
        }
        var run = new RunDirectory(runDir ?? System.IO.Path.Combine("runs", recipe.Name));
        using var cts = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true; // finish the current step, checkpoint, and stop: the run stays consistent
            Console.Error.WriteLine("\nstopping after the current step (Ctrl-C again to kill)...");
            if (cts.IsCancellationRequested) Environment.Exit(130);
            cts.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        var runner = new RecipeRunner(StageCatalog.Recipe());
        var started = DateTime.UtcNow;
        try
        {
            new StageProgressDisplay().Run(runner, progressFor => runner.Run(recipe, run, progressFor, cts.Token, until));
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine($"interrupted: run `./lightglm {(liveTranslations ? "quickstart" : "run " + recipeName)}` again to continue from {run.Root}");
            return 130;
        }
        finally { Console.CancelKeyPress -= onCancel; }
        Console.WriteLine($"done in {(DateTime.UtcNow - started).TotalMinutes:F1} min (this invocation). Run directory: {run.Root}");
        if (run.StageResult("report") is { } rep) Console.WriteLine($"report: {rep["html"]} (also report.md, report.json)");
        if (liveTranslations && run.StageResult("teacher") is not null) LiveTranslations(run);
        return 0;
    }

    /// <summary>A few real error messages through the student (or the teacher when there is no student).</summary>
    static void LiveTranslations(RunDirectory run)
    {
        string dir = File.Exists(run.PathOf("student", "config.json")) ? run.PathOf("student") : run.PathOf("teacher");
        var model = LightGlm.Model.Checkpoints.ModelDirectory.Load(dir);
        var tok = new TranslationTokenizer(LightGlm.Text.Tokenizers.HfTokenizer.Create(run.PathOf("tokenizer", "tokenizer.json")));
        var translator = new GlmTranslator(model, tok, maxBatch: 4);
        string[] en = ["Permission denied", "No such file or directory", "cannot create directory %s", "Disk quota exceeded"];
        string[] zh = ["权限不够", "没有那个文件或目录"];
        Console.WriteLine($"\nlive translations by {System.IO.Path.GetFileName(dir)} ({model.Layout.TotalLength:N0} parameters):");
        foreach (var (text, r) in en.Zip(translator.Translate(en, Direction.EnToZh, 32))) Console.WriteLine($"  en→zh  {text}  →  {r.Text}");
        foreach (var (text, r) in zh.Zip(translator.Translate(zh, Direction.ZhToEn, 32))) Console.WriteLine($"  zh→en  {text}  →  {r.Text}");
    }
}
