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
        var redo = new Option<string?>("--redo") { Description = "Forget this stage and every stage after it, then run them again (e.g. --redo compression)." };
        var fromRun = new Option<string?>("--from-run")
        {
            Description = "Take over the finished stages of another run whose settings agree with this recipe (e.g. its teacher), " +
                          "and run the rest here: try other compression settings without training the teacher again."
        };
        var set = RecipeCli.SetOption();
        var dry = RecipeCli.DryRunOption();
        var cmd = new Command("run", "Run a recipe: corpus, tokenizer, teacher, parallel timing, hybrid fine-tuning, compression, downstream distillation, evaluation, report.") { recipe, runDir, until, redo, fromRun, set, dry };
        cmd.SetAction(p =>
        {
            var r = RecipeCli.Load(p.GetValue(recipe)!, p.GetValue(set));
            if (p.GetValue(dry)) return RecipeCli.DryRun(r);
            string? from = p.GetValue(fromRun);
            return RecipeCli.Execute(r, p.GetValue(runDir) ?? System.IO.Path.Combine("runs", r.Name), p.GetValue(until), p.GetValue(redo),
                $"./lightglm run {p.GetValue(recipe)}" + (from is null ? "" : $" --from-run {from}") + string.Concat((p.GetValue(set) ?? []).Select(x => $" --set {x}")),
                donor: from is null ? null : RecipeCli.DonorRun(from, "--from-run"));
        });
        return cmd;
    }
}

public sealed class QuickstartCommand : ICliCommand
{
    public string[] Path => ["quickstart"];

    public Command Build()
    {
        var set = RecipeCli.SetOption();
        var runDir = new Option<string>("--run-dir") { Description = "Run directory.", DefaultValueFactory = _ => "runs/quickstart" };
        var dry = RecipeCli.DryRunOption();
        var cmd = new Command("quickstart", "The whole LightChatGLM recipe on the default Debian data, in minutes: the README's first command.") { set, runDir, dry };
        cmd.SetAction(p => p.GetValue(dry) ? RecipeCli.DryRun(RecipeCli.Load("quick", p.GetValue(set))) : RecipeCli.Execute(RecipeCli.Load("quick", p.GetValue(set)), p.GetValue(runDir)!, null, null, "./lightglm quickstart", liveTranslations: true));
        return cmd;
    }
}

static class RecipeCli
{
    public static Option<bool> DryRunOption() =>
        new("--dry-run") { Description = "Print how long the recipe would take on this machine (a few timed steps of its teacher and a timed decode, multiplied out) and stop." };

    public static int DryRun(Recipe r)
    {
        Console.Error.WriteLine($"dry run: timing 4 training steps and a decode of the '{r.Name}' teacher on this machine...");
        var e = LightGlm.Experiments.RecipeEstimate.Measure(r);
        Console.WriteLine($"recipe '{r.Name}': teacher {e.TeacherParams:N0} parameters, {e.TeacherStepMs:F0} ms per training step, {e.DecodeMsPerToken:F2} ms per decoded token ({e.Threads} threads)");
        Console.WriteLine($"{"stage",-12} {"minutes",8}  work");
        foreach (var s in e.Stages) Console.WriteLine($"{s.Stage,-12} {s.Minutes,8:F1}  {s.Work}");
        Console.WriteLine($"{"total",-12} {e.TotalMinutes,8:F1}  (+ corpus download and tokenizer: minutes on a fresh machine, seconds from the cache; measured now, so a busy machine estimates high)");
        return 0;
    }

    public static Option<string[]> SetOption() =>
        new("--set") { Description = "Override a setting: --set teacher.train_steps=200 (repeatable)." };

    public static Recipe Load(string nameOrPath, string[]? sets)
    {
        var recipe = Recipe.Load(nameOrPath);
        foreach (var s in sets ?? [])
        {
            int eq = s.IndexOf('=');
            if (eq <= 0) throw new CliException($"--set '{s}': expected name=value, e.g. --set teacher.train_steps=200");
            recipe = recipe.With(s[..eq], s[(eq + 1)..]);
        }
        _ = recipe.Settings; // every setting checked now, all problems at once (InvalidDataException: a user error)
        return recipe;
    }

    /// <summary>Runs <paramref name="work"/> with a progress display and Ctrl-C that stops at a consistent point (exit 130).</summary>
    public static int WithRunner(string again, Action<RecipeRunner, Func<IRecipeStage, IStageProgress>, CancellationToken> work)
    {
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
        try
        {
            new StageProgressDisplay().Run(runner, progressFor => work(runner, progressFor, cts.Token));
            return 0;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine($"interrupted: run `{again}` again to continue where it stopped");
            return 130;
        }
        catch (Exception e) when (e is InvalidOperationException or InvalidDataException or ArgumentException)
        {
            throw new CliException(e.Message);
        }
        finally { Console.CancelKeyPress -= onCancel; }
    }

    /// <summary>A finished run to take stages from; refused when the folder is not a run directory.</summary>
    public static RunDirectory DonorRun(string dir, string option)
    {
        if (!File.Exists(System.IO.Path.Combine(dir, "config.json")))
            throw new CliException($"{option} {dir}: not a run directory (no config.json); pass the folder `lightglm run` or `quickstart` wrote");
        return new RunDirectory(dir);
    }

    public static int Execute(Recipe recipe, string runDir, string? until, string? redo, string again, bool liveTranslations = false,
        RunDirectory? donor = null)
    {
        var run = new RunDirectory(runDir);
        if (donor is not null && System.IO.Path.GetFullPath(donor.Root) == System.IO.Path.GetFullPath(run.Root))
            throw new CliException($"--from-run {donor.Root} is the run directory itself; pass another --run-dir");
        if (redo is not null)
        {
            var names = StageCatalog.Recipe().Select(s => s.Name).ToList();
            int at = names.IndexOf(redo);
            if (at < 0) throw new CliException($"--redo {redo}: no such stage; stages are: {string.Join(", ", names)}");
            foreach (var name in names.Skip(at)) run.ForgetStage(name);
        }
        var started = DateTime.UtcNow;
        int rc = WithRunner($"{again} --run-dir {run.Root}", (runner, progressFor, cancel) => runner.Run(recipe, run, progressFor, cancel, until,
            donors: donor is null ? null : [donor]));
        if (rc != 0) return rc;
        Console.WriteLine($"done in {(DateTime.UtcNow - started).TotalMinutes:F1} min (this invocation). Run directory: {run.Root}");
        foreach (var stage in StageCatalog.Recipe())
            if (run.Result<StageResult>(stage.Name) is { WallSeconds: double w } res)
                Console.WriteLine($"  {stage.Name,-12} {w,8:F1} s wall  {res.CpuSeconds?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "–",8} s CPU{(res.SharedFrom is null ? "" : " (shared)")}");
        if (run.Result<ReportResult>() is { } rep) Console.WriteLine($"report: {rep.Html} (also report.md, report.json, figures/)");
        foreach (var (name, dir) in new[] { ("teacher", "teacher"), ("hybrid teacher", "teacher-hybrid"), ("student before downstream distillation", "student-compressed"), ("student", "student") })
            if (File.Exists(run.PathOf(dir, "config.json"))) Console.WriteLine($"{name}: {run.PathOf(dir)}  (./lightglm translate --model {run.PathOf(dir)} \"Permission denied\")");
        if (liveTranslations && run.IsStageDone(TeacherResult.Stage)) LiveTranslations(run);
        return 0;
    }

    /// <summary>A few real error messages through the student (or the teacher when there is no student).</summary>
    static void LiveTranslations(RunDirectory run)
    {
        string dir = File.Exists(run.PathOf("student", "config.json")) ? run.PathOf("student") : run.PathOf("teacher");
        var (model, tok) = TranslationModel.Load(dir);
        var translator = new GlmTranslator(model, tok, maxBatch: 4);
        string[] en = ["Permission denied", "No such file or directory", "cannot create directory %s", "Disk quota exceeded"];
        string[] zh = ["权限不够", "没有那个文件或目录"];
        Console.WriteLine($"\nlive translations by {System.IO.Path.GetFileName(dir)} ({model.Layout.TotalLength:N0} parameters):");
        foreach (var (text, r) in en.Zip(translator.Translate(en, Direction.EnToZh, 32))) Console.WriteLine($"  en→zh  {text}  →  {r.Text}");
        foreach (var (text, r) in zh.Zip(translator.Translate(zh, Direction.ZhToEn, 32))) Console.WriteLine($"  zh→en  {text}  →  {r.Text}");
    }
}
