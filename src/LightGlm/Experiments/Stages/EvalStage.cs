// Stage: every model the run made (teacher, student, baselines) scored on the same test split in both
// directions; the numbers behind Tables 2-4.
using System.Text.Json.Nodes;
using LightGlm.Evaluation.Metrics;
using LightGlm.Model.Checkpoints;

namespace LightGlm.Experiments.Stages;

public sealed class EvalStage : IRecipeStage
{
    public string Name => "eval";
    public string Description => "score teacher, student and baselines on the test split (both directions)";

    public JsonObject Run(StageContext c)
    {
        var tok = RunArtifacts.Tokenizer(c);
        var test = RunArtifacts.Pairs(c, "test");
        int n = Math.Min(test.Count, c.Recipe.Get<int>("eval.max_sentences"));
        test = test.GetRange(0, n);
        string glossaryPath = (string)c.ResultOf("corpus")["glossary"]!;
        var glossary = File.Exists(glossaryPath) ? Glossary.Load(glossaryPath) : null;
        int maxNew = c.Recipe.Get<int>("eval.max_new_tokens");

        // Every model directory a finished stage recorded under "models": name -> dir.
        var models = new List<(string Name, string Dir)>();
        if (c.Run.StageResult("teacher")?["model"] is { } t) models.Add(("teacher", (string)t!));
        if (c.Run.StageResult("hybrid")?["teacher"] is { } th) models.Add(("teacher-hybrid", (string)th!));
        foreach (var stage in new[] { "hybrid", "compression", "downstream", "baselines" })
            if (c.Run.StageResult(stage)?["models"] is JsonObject ms)
                foreach (var (name, dir) in ms)
                    if (models.All(m => m.Name != name)) models.Add((name, (string)dir!));

        var results = new JsonObject();
        for (int i = 0; i < models.Count; i++)
        {
            var (name, dir) = models[i];
            if (c.Run.StageResult($"{Name}.{name}") is { } cached) { results[name] = cached; continue; } // scored before an interruption
            var model = ModelDirectory.Load(dir);
            int k = i;
            results[name] = ModelEvaluator.Evaluate(model, tok, dir, test, glossary, maxNew,
                (f, what) => c.Progress.Report((k + f) / models.Count, $"{name}: {what}"), c.Cancel);
            c.Run.LogMetric(Name, new JsonObject { ["model"] = name, ["result"] = results[name]!.DeepClone() });
            c.Run.MarkStageDone($"{Name}.{name}", (JsonObject)results[name]!.DeepClone());
        }
        return new JsonObject { ["sentences"] = n, ["models"] = results };
    }
}
