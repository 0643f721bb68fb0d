// Runs a recipe's stages in order inside a run directory. A finished stage leaves a marker with its
// results, so running again continues after the last finished stage; a cancelled stage leaves no marker.
using System.Diagnostics;
using System.Text.Json.Nodes;
using LightGlm.Experiments.Recipes;

namespace LightGlm.Experiments;

/// <summary>Where a stage tells how far it is. Implementations render it (a progress bar) or log it.</summary>
public interface IStageProgress
{
    /// <param name="fraction">0..1 of the stage's work.</param>
    /// <param name="detail">What it is doing now, e.g. "step 120/800 loss 2.31".</param>
    /// <param name="tokensPerSecond">Throughput when the stage processes tokens.</param>
    void Report(double fraction, string detail, double? tokensPerSecond = null);
}

/// <summary>Progress that goes nowhere (tests, nested runs).</summary>
public sealed class NullProgress : IStageProgress
{
    public static readonly NullProgress Instance = new();
    public void Report(double fraction, string detail, double? tokensPerSecond = null) { }
}

public sealed class StageContext(Recipe recipe, RunDirectory run, IStageProgress progress, CancellationToken cancel)
{
    public Recipe Recipe { get; } = recipe;
    /// <summary>The recipe's typed settings (checked before the first stage ran).</summary>
    public RecipeSettings Settings => Recipe.Settings;
    public RunDirectory Run { get; } = run;
    public IStageProgress Progress { get; } = progress;
    public CancellationToken Cancel { get; } = cancel;

    /// <summary>The results an earlier stage recorded; an error if it has not finished.</summary>
    public JsonObject ResultOf(string stage) =>
        Run.StageResult(stage) ?? throw NotFinished(stage);

    /// <summary>The typed results of the earlier stage <typeparamref name="T"/> belongs to; an error if it has not finished.</summary>
    public T ResultOf<T>() where T : class, IStageResult => Run.Result<T>() ?? throw NotFinished(T.Stage);

    InvalidOperationException NotFinished(string stage) =>
        new($"stage '{stage}' has not finished in {Run.Root}; run the recipe from the start");
}

/// <summary>One step of a recipe: corpus, tokenizer, teacher, hybrid, compression, evaluation, report, ….</summary>
public interface IRecipeStage
{
    string Name { get; }
    string Description { get; }
    /// <summary>Whether the recipe asks for this stage (e.g. hybrid.enabled).</summary>
    bool IsEnabled(Recipe recipe) => true;
    /// <summary>The recipe sections this stage reads besides those of the stages before it (by default its own section,
    /// e.g. "hybrid"); "*" = the whole recipe (never shared). Two runs whose sections agree up to a stage can share its
    /// result (<see cref="RecipeRunner.Run"/>'s donors).</summary>
    IReadOnlyList<string> Reads => [Name];
    /// <summary>Does the work and returns the results to record (paths, numbers, wall time is added): the recipe's stages
    /// return their typed result (Stages/StageResults.cs) through <see cref="StageJson.ToJson{T}"/>.</summary>
    JsonObject Run(StageContext context);
}

public sealed class RecipeRunner(IReadOnlyList<IRecipeStage> stages)
{
    public IReadOnlyList<IRecipeStage> Stages { get; } = stages;

    /// <summary>Called before a stage starts: (stage, index, count, skipped because already done).</summary>
    public event Action<IRecipeStage, int, int, bool>? StageStarting;
    public event Action<IRecipeStage, JsonObject>? StageFinished;

    /// <param name="donors">Finished runs whose stages this run may take over when every setting those stages depend on is the same
    /// (ablation rows and sweep trials share their corpus, tokenizer, teacher, …): the result is the one a rerun would make.</param>
    public void Run(Recipe recipe, RunDirectory run, Func<IRecipeStage, IStageProgress> progressFor, CancellationToken cancel, string? until = null,
        IReadOnlyList<RunDirectory>? donors = null)
    {
        if (until is not null && Stages.All(s => s.Name != until))
            throw new ArgumentException($"no stage named '{until}'; stages are: {string.Join(", ", Stages.Select(s => s.Name))}");
        // Every setting is checked now, all problems at once: a bad value must not wait hours for the stage that reads it.
        var settings = recipe.Settings;
        if (settings.Threads > 0) LightGlm.Evaluation.Bench.EngineBench.SetThreads(settings.Threads);
        // A run directory belongs to one recipe: continuing it with other settings would mix results.
        if (File.Exists(run.PathOf("config.json")) && Stages.Any(s => run.IsStageDone(s.Name)))
        {
            // Read as a recipe: a setting added to the defaults since the run started takes its default, so a run
            // continues under a newer build unless a setting really differs (a setting since removed: compared as saved).
            JsonNode? before;
            try { before = run.Recipe()!.Root; }
            catch (InvalidDataException) { before = JsonNode.Parse(File.ReadAllText(run.PathOf("config.json"))); }
            if (!JsonNode.DeepEquals(before, recipe.Root))
                throw new InvalidOperationException($"{run.Root} was started with other settings (its config.json differs from this recipe in " +
                                                    $"{string.Join(", ", Differences(before as JsonObject, recipe.Root))}): " +
                                                    "continue it with the same recipe and --set values, or use another --run-dir");
        }
        recipe.Save(run.PathOf("config.json"));
        run.WriteMachineInfo();
        var active = Stages.Where(s => s.IsEnabled(recipe)).ToArray();
        for (int i = 0; i < active.Length; i++)
        {
            var stage = active[i];
            bool done = run.IsStageDone(stage.Name);
            if (!done && donors is not null && donors.FirstOrDefault(d => CanShare(recipe, d, i)) is { } donor)
            {
                run.CopyStageFrom(donor, stage.Name);
                done = true;
            }
            StageStarting?.Invoke(stage, i, active.Length, done);
            if (!done)
            {
                cancel.ThrowIfCancellationRequested();
                var sw = Stopwatch.StartNew();
                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                var result = stage.Run(new StageContext(recipe, run, progressFor(stage), cancel));
                var times = new StageResult
                {
                    WallSeconds = Math.Round(sw.Elapsed.TotalSeconds, 2),
                    // CPU seconds of this process: on a shared machine the wall time says more about the neighbours than about the stage.
                    CpuSeconds = Math.Round((Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds, 2),
                };
                run.MarkStageDone(stage.Name, StageJson.Merge(result, times));
                run.LogMetric(stage.Name, StageJson.Merge(new JsonObject { ["event"] = "stage_done" }, times));
            }
            StageFinished?.Invoke(stage, run.StageResult(stage.Name)!);
            if (stage.Name == until) break;
        }
    }

    /// <summary>The settings two recipe trees disagree on, as "path (then → now)".</summary>
    static IEnumerable<string> Differences(JsonObject? then, JsonObject now, string prefix = "")
    {
        foreach (var key in (then?.Select(kv => kv.Key) ?? []).Union(now.Select(kv => kv.Key)))
        {
            JsonNode? a = then?[key], b = now[key];
            if (a is JsonObject ao && b is JsonObject bo)
                foreach (var d in Differences(ao, bo, prefix + key + ".")) yield return d;
            else if (!JsonNode.DeepEquals(a, b))
                yield return $"{prefix}{key} ({a?.ToJsonString() ?? "none"} → {b?.ToJsonString() ?? "none"})";
        }
    }

    /// <summary>Stage <paramref name="index"/> of the active stages can be taken from the donor: the donor finished it, the same
    /// stages are active before it, and every section those stages and it read has the same settings.</summary>
    bool CanShare(Recipe recipe, RunDirectory donor, int index)
    {
        var active = Stages.Where(s => s.IsEnabled(recipe)).ToArray();
        if (!donor.IsStageDone(active[index].Name) || donor.Recipe() is not { } other) return false;
        var otherActive = Stages.Where(s => s.IsEnabled(other)).Select(s => s.Name).ToArray();
        if (otherActive.Length <= index || !active.Take(index + 1).Select(s => s.Name).SequenceEqual(otherActive.Take(index + 1))) return false;
        var sections = new HashSet<string> { "seed", "threads" };
        foreach (var s in active.Take(index + 1))
            foreach (var r in s.Reads)
                if (r == "*") return false;
                else sections.Add(r);
        return sections.All(k => JsonNode.DeepEquals(recipe.Find(k), other.Find(k)));
    }
}
