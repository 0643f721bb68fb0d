// What `experiment compression` and `experiment hybrid` share: each runs the recipe's own stages (the one code path of
// its figures, as `lightglm run` does) into --out, taking the stages whose settings agree from --from-run, with its
// options as shorthands for recipe settings.
using System.CommandLine;
using System.Globalization;
using LightGlm.Experiments;
using LightGlm.Experiments.Recipes;
using LightGlm.Experiments.Stages;

namespace LightGlm.Cli.Commands;

static class RecipeExperiment
{
    /// <summary>An option that stands for a recipe setting: given, it is <c>--set Setting=value</c>.</summary>
    public sealed record Shorthand(Option Option, string Setting);

    public static Option<string?> FromRunOption() => new("--from-run")
    {
        Description = "A finished run whose stages (corpus, tokenizer, teachers, …) are taken wherever their settings agree.",
    };

    /// <summary>The --set values, the given shorthands first (so an explicit --set of the same setting wins); two shorthands
    /// of one setting (--test-pairs, --bleu-sentences) must agree.</summary>
    public static string[] Sets(ParseResult r, Option<string[]> set, IEnumerable<Shorthand> shorthands)
    {
        var given = shorthands.Where(s => r.GetResult(s.Option) is { Implicit: false })
            .Select(s => (s.Option.Name, s.Setting, Value: Json(r.GetResult(s.Option)!.GetValueOrDefault<object?>()))).ToList();
        foreach (var clash in given.GroupBy(g => g.Setting).Where(g => g.Select(x => x.Value).Distinct().Count() > 1))
            throw new CliException($"{string.Join(" and ", clash.Select(x => $"{x.Name} {x.Value}"))} both set {clash.Key}: give one value");
        return [.. given.Select(g => $"{g.Setting}={g.Value}"), .. r.GetValue(set) ?? []];
    }

    static string Json(object? v) => v switch
    {
        string s => System.Text.Json.JsonSerializer.Serialize(s),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => System.Text.Json.JsonSerializer.Serialize(v),
    };

    /// <summary>Every stage of <paramref name="recipe"/> up to the report into <paramref name="outDir"/>.</summary>
    public static int Run(string command, string name, Recipe recipe, string[] sets, string outDir, string? fromRun, out RunDirectory run)
    {
        RunDirectory[]? donors = fromRun is null ? null : [RecipeCli.DonorRun(fromRun, "--from-run")];
        var r = run = new RunDirectory(outDir);
        string again = $"./lightglm experiment {command} {name} --out {outDir}" + (fromRun is null ? "" : $" --from-run {fromRun}") +
                       string.Concat(sets.Select(x => $" --set {x}"));
        return RecipeCli.WithRunner(again, (runner, progressFor, cancel) => runner.Run(recipe, r, progressFor, cancel, donors: donors));
    }

    public static void PrintReport(RunDirectory run)
    {
        if (run.Result<ReportResult>() is { } rep) Console.WriteLine($"report: {rep.Html} (also report.md, report.json, figures/)");
    }
}
