// `lightglm sweep`: hyperparameter search over any recipe fields, as the paper tunes its settings. Trials are a grid
// (every combination) or N random draws (from the grid's values or from ranges); each trial is a run directory that
// shares the stages its settings do not change with the trials before it, is scored on the dev split, and is recorded
// in trials.jsonl. The best trial, a table and a chart go into the sweep's report.
using System.Globalization;
using System.Text.Json.Nodes;
using LightGlm.Experiments.Recipes;
using LightGlm.Experiments.Reporting;
using LightGlm.Experiments.Stages;
using LightGlm.Model.Checkpoints;
using LightGlm.Translation;
using LightGlm.Charts;

namespace LightGlm.Experiments;

/// <summary>One searched field: a list of values (grid) or a range lo:hi, optionally log-uniform ("log:lo:hi").</summary>
public sealed record SweepAxis(string Field, IReadOnlyList<string>? Values, double Lo = 0, double Hi = 0, bool Log = false, bool Integer = false)
{
    /// <summary>"field=v1,v2,…" (grid) or "field=lo:hi" / "field=log:lo:hi" (range, for --random).</summary>
    public static SweepAxis Parse(string text)
    {
        int eq = text.IndexOf('=');
        if (eq <= 0 || eq == text.Length - 1)
            throw new ArgumentException($"'{text}': expected field=v1,v2 (grid) or field=lo:hi or field=log:lo:hi (range), e.g. teacher.learning_rate=0.001,0.002");
        string field = text[..eq], spec = text[(eq + 1)..];
        if (!spec.Contains(':')) return new SweepAxis(field, spec.Split(',').Select(v => v.Trim()).ToArray());
        var parts = spec.Split(':');
        bool log = parts[0] == "log";
        if (log) parts = parts[1..];
        if (parts.Length != 2 || !double.TryParse(parts[0], CultureInfo.InvariantCulture, out double lo) || !double.TryParse(parts[1], CultureInfo.InvariantCulture, out double hi) || hi < lo || (log && lo <= 0))
            throw new ArgumentException($"'{text}': a range is lo:hi with lo ≤ hi (log:lo:hi needs lo > 0)");
        bool integer = !log && !parts[0].Contains('.') && !parts[1].Contains('.') && !parts[0].Contains('e') && !parts[1].Contains('e');
        return new SweepAxis(field, null, lo, hi, log, integer);
    }

    public string Draw(Random rng)
    {
        if (Values is not null) return Values[rng.Next(Values.Count)];
        double u = rng.NextDouble();
        double v = Log ? Math.Exp(Math.Log(Lo) + u * (Math.Log(Hi) - Math.Log(Lo))) : Lo + u * (Hi - Lo);
        return Integer ? ((long)Math.Round(v)).ToString(CultureInfo.InvariantCulture) : v.ToString("G4", CultureInfo.InvariantCulture);
    }
}

public sealed record SweepTrial(int Index, IReadOnlyDictionary<string, string> Settings, double Score, string RunDir, double Seconds);

public static class Sweep
{
    /// <summary>The trials' settings: the grid's combinations, or <paramref name="random"/> draws (seeded, no repeats when the grid is smaller).</summary>
    public static List<Dictionary<string, string>> Trials(IReadOnlyList<SweepAxis> axes, int? random, int seed)
    {
        if (axes.Count == 0) throw new ArgumentException("a sweep needs at least one field: --grid field=v1,v2 or --random N --grid field=lo:hi");
        if (random is null)
        {
            if (axes.FirstOrDefault(a => a.Values is null) is { } range)
                throw new ArgumentException($"'{range.Field}' is a range: ranges need --random N (a grid lists values: field=v1,v2)");
            var all = new List<Dictionary<string, string>> { new() };
            foreach (var a in axes)
                all = all.SelectMany(t => a.Values!.Select(v => new Dictionary<string, string>(t) { [a.Field] = v })).ToList();
            return all;
        }
        if (random < 1) throw new ArgumentException($"--random {random}: needs at least one trial");
        var rng = new Random(seed);
        var trials = new List<Dictionary<string, string>>();
        long gridSize = axes.All(a => a.Values is not null) ? axes.Aggregate(1L, (n, a) => n * a.Values!.Count) : long.MaxValue;
        for (int attempt = 0; trials.Count < random && attempt < random * 50; attempt++)
        {
            var t = axes.ToDictionary(a => a.Field, a => a.Draw(rng));
            if (trials.Count < gridSize && trials.Any(o => o.All(kv => t[kv.Key] == kv.Value))) continue;
            trials.Add(t);
        }
        return trials;
    }

    /// <summary>Runs (or continues) every trial under <paramref name="root"/>, scoring each on the dev split; writes the report.</summary>
    public static List<SweepTrial> Run(Recipe recipe, IReadOnlyList<Dictionary<string, string>> trials, string root, RecipeRunner runner,
        Func<IRecipeStage, IStageProgress> progressFor, Action<string> log, CancellationToken cancel, string command)
    {
        Directory.CreateDirectory(root);
        // Validate every trial's settings before any work: a typo in trial 7 should not surface after an hour.
        var recipes = trials.Select(t => t.Aggregate(recipe, (r, kv) => r.With(kv.Key, kv.Value))).ToList();
        var problems = recipes.SelectMany((r, i) => r.Problems().Select(p => $"trial {i + 1}: {p}")).ToList();
        if (problems.Count > 0) throw new InvalidDataException($"{problems.Count} problem(s) in the trials' settings:\n  " + string.Join("\n  ", problems));
        string until = ScoreAfter(recipe);
        var done = new List<SweepTrial>();
        var donors = new List<RunDirectory>();
        for (int i = 0; i < trials.Count; i++)
        {
            var dir = new RunDirectory(Path.Combine(root, $"trial-{i + 1:D3}"));
            log($"trial {i + 1}/{trials.Count}: {string.Join(" ", trials[i].Select(kv => $"{kv.Key}={kv.Value}"))}");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            runner.Run(recipes[i], dir, progressFor, cancel, until, donors);
            donors.Add(dir);
            var score = dir.Result<SweepScore>() ?? Score(recipes[i], dir, until);
            dir.MarkStageDone(SweepScore.Stage, score);
            var trial = new SweepTrial(i + 1, trials[i], score.DevAccuracy, dir.Root, Math.Round(clock.Elapsed.TotalSeconds, 1));
            done.Add(trial);
            log($"  dev accuracy {100 * trial.Score:0.00}% ({score.Model})");
            new RunDirectory(root).LogMetric("sweep", new JsonObject
            {
                ["trial"] = trial.Index, ["settings"] = new JsonObject(trial.Settings.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
                ["dev_accuracy"] = trial.Score, ["run_dir"] = trial.RunDir, ["seconds"] = trial.Seconds,
            });
        }
        Write(recipe, done, root, until, command);
        return done;
    }

    /// <summary>The last training stage the recipe runs: trials are scored on what it made.</summary>
    public static string ScoreAfter(Recipe r) =>
        DownstreamStage.Active(r) ? "downstream" : r.Settings.Compression.Enabled ? "compression" : r.Settings.Hybrid.Enabled ? "hybrid" : "teacher";

    /// <summary>Teacher-forced translation accuracy on the dev split (both directions, mean) of the model the trial made.</summary>
    public static SweepScore Score(Recipe recipe, RunDirectory run, string until)
    {
        string dir = until switch
        {
            "downstream" => run.Result<DownstreamResult>()!.Student,
            "compression" => run.Result<CompressionResult>()!.Models["student"],
            "hybrid" => run.Result<HybridResult>()!.Teacher,
            _ => run.Result<TeacherResult>()!.Model,
        };
        var (model, tok) = TranslationModel.Load(dir);
        var dev = ParallelTsv.Read(run.Result<CorpusResult>()!.Dev);
        int n = Math.Min(dev.Count, recipe.Settings.Eval.MaxSentences);
        double Accuracy(Direction d) => TeacherForcedAccuracy.Compute(model, tok, d,
            dev.Take(n).Select(p => d == Direction.EnToZh ? (p.English, p.Chinese) : (p.Chinese, p.English)).ToList()).Accuracy;
        double enZh = Accuracy(Direction.EnToZh), zhEn = Accuracy(Direction.ZhToEn);
        return new SweepScore
        {
            Model = dir, DevPairs = n, EnZh = Math.Round(enZh, 5), ZhEn = Math.Round(zhEn, 5), DevAccuracy = Math.Round((enZh + zhEn) / 2, 5),
        };
    }

    static void Write(Recipe recipe, List<SweepTrial> trials, string root, string until, string command)
    {
        var fields = trials.SelectMany(t => t.Settings.Keys).Distinct().ToArray();
        var best = trials.MaxBy(t => t.Score)!;
        var report = new Report($"Sweep over {string.Join(", ", fields)}");
        report.Numbers["best"] = new JsonObject { ["trial"] = best.Index, ["dev_accuracy"] = best.Score, ["run_dir"] = best.RunDir,
            ["settings"] = new JsonObject(best.Settings.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))) };
        report.Numbers["trials"] = new JsonArray(trials.Select(t => (JsonNode)new JsonObject
        {
            ["trial"] = t.Index, ["dev_accuracy"] = t.Score, ["seconds"] = t.Seconds, ["run_dir"] = t.RunDir,
            ["settings"] = new JsonObject(t.Settings.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
        }).ToArray());
        var s = report.Section("Trials");
        s.Text($"Each trial ran recipe '{recipe.Name}' with the settings below up to the {until} stage and was scored on the dev split: teacher-forced translation " +
               $"accuracy of the model it made, mean of both directions. Best: trial {best.Index} ({string.Join(", ", best.Settings.Select(kv => $"{kv.Key} = {kv.Value}"))}), " +
               $"{100 * best.Score:0.00}%.");
        s.Table(new ReportTable("Trials (dev accuracy %)", ["trial", .. fields, "dev accuracy (%)", "seconds"],
            trials.Select(t => (IReadOnlyList<string>)[t.Index == best.Index ? $"{t.Index} (best)" : $"{t.Index}", .. fields.Select(f => t.Settings.GetValueOrDefault(f, "–")),
                (100 * t.Score).ToString("0.00", CultureInfo.InvariantCulture), t.Seconds.ToString("0", CultureInfo.InvariantCulture)]).ToArray()));
        bool oneNumeric = fields.Length == 1 && trials.All(t => double.TryParse(t.Settings[fields[0]], CultureInfo.InvariantCulture, out _));
        var chart = oneNumeric
            ? Chart.Line("Dev accuracy per setting", fields[0], "dev accuracy (%)",
                [new ChartSeries("dev accuracy", trials.OrderBy(t => double.Parse(t.Settings[fields[0]], CultureInfo.InvariantCulture))
                    .Select(t => (double.Parse(t.Settings[fields[0]], CultureInfo.InvariantCulture), 100 * t.Score)).ToArray())])
            : Chart.Bars("Dev accuracy per trial", "dev accuracy (%)", ["dev accuracy"], trials.Select(t => new BarGroup($"{t.Index}", [100 * t.Score])).ToArray());
        s.Figure(new ReportFigure("sweep.svg", "Dev accuracy of every trial", chart));
        recipe.Save(Path.Combine(root, "recipe.json"));
        s.Text("The recipe the trials started from is recipe.json; every trial's full settings are its run directory's config.json. This sweep again (it continues where it stopped):");
        s.Command(command);
        report.Save(root);
    }
}
