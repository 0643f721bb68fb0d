// Stage: every model the run made (teacher, student, baselines) scored on the same test split in both
// directions, the numbers behind Tables 2-4; and the models of eval.unseen_models on the held-out packages.
using System.Text.Json.Nodes;
using LightGlm.Evaluation.Metrics;
using LightGlm.Model.Checkpoints;
using LightGlm.Model.Inference;
using LightGlm.Translation;

namespace LightGlm.Experiments.Stages;

public sealed class EvalStage : IRecipeStage
{
    public string Name => "eval";
    public string Description => "score teacher, student and baselines on the test split, and the teacher and student on unseen packages (both directions)";

    public JsonObject Run(StageContext c)
    {
        var e = c.Settings.Eval;
        var tok = RunArtifacts.Tokenizer(c);
        var test = RunArtifacts.Pairs(c, "test");
        int n = Math.Min(test.Count, e.MaxSentences);
        test = test.GetRange(0, n);
        var glossary = RunArtifacts.Corpus(c).Glossary is { } glossaryPath && File.Exists(glossaryPath) ? Glossary.Load(glossaryPath) : null;
        int maxNew = e.MaxNewTokens;

        // Every model directory a finished stage recorded under "models": name -> dir, and the weights it is served with:
        // fp32, or int8 where a stage says so under "weights" (the teacher-int8 rows) — those run on the engine's int8 kernels,
        // so their quality and speed are the quantized model's. With the int8 baseline on, the final student is scored in
        // int8 too (student-int8: pruned + quantized, the stacked row).
        var models = new List<(string Name, string Dir, WeightFormat Weights)>();
        models.Add(("teacher", RunArtifacts.Teacher(c), WeightFormat.Fp32));
        if (RunArtifacts.Hybrid(c) is { } hybrid) models.Add(("teacher-hybrid", hybrid.Hybrid, WeightFormat.Fp32));
        foreach (var stage in new[] { "hybrid", "compression", "downstream", "baselines" })
            if (c.Run.StageResult(stage) is { } sr && sr["models"] is JsonObject ms)
                foreach (var (name, dir) in ms)
                    if (models.All(m => m.Name != name))
                        models.Add((name, (string)dir!, Quantized(sr, name)));
        if (c.Settings.Compression.BaselineMethods.Contains("int8") && models.FirstOrDefault(m => m.Name == "student") is { Dir: not null } student)
            models.Add(("student-int8", student.Dir, WeightFormat.Int8));

        // The held-out packages (corpus.holdout_packages), bounded like the test split; runs made before unseen.tsv existed have none.
        var unseen = RunArtifacts.Unseen(c);
        int nu = Math.Min(unseen.Count, e.MaxSentences);
        unseen = unseen.GetRange(0, nu);
        var onUnseen = nu == 0 ? [] : models.Where(m => e.UnseenModels.Contains(m.Name)).ToList();

        var jobs = models.Select(m => (Set: "", m.Name, m.Dir, m.Weights, Pairs: test))
            .Concat(onUnseen.Select(m => (Set: "unseen.", m.Name, m.Dir, m.Weights, Pairs: unseen))).ToList();
        var results = new JsonObject();
        var unseenResults = new JsonObject();
        for (int i = 0; i < jobs.Count; i++)
        {
            var (set, name, dir, weights, pairs) = jobs[i];
            var into = set.Length == 0 ? results : unseenResults;
            // Scored before an interruption — on the same sentences (a marker from other eval settings is scored again).
            if (c.Run.StageResult($"{Name}.{set}{name}") is { } cached && (int?)cached["en-zh"]?["sentences"] == pairs.Count) { into[name] = cached; continue; }
            var model = ModelDirectory.Load(dir);
            int k = i;
            var translator = new GlmTranslator(model, tok, new TranslatorOptions { MaxBatch = 1, Weights = weights, Beam = e.Beam, MaxBeam = e.Beam });
            into[name] = ModelEvaluator.Evaluate(model, tok, dir, pairs, glossary, maxNew,
                (f, what) => c.Progress.Report((k + f) / jobs.Count, $"{set}{name}: {what}"), c.Cancel, translator: translator);
            c.Run.LogMetric(Name, new JsonObject { ["model"] = name, ["split"] = set.Length == 0 ? "test" : "unseen", ["result"] = into[name]!.DeepClone() });
            c.Run.MarkStageDone($"{Name}.{set}{name}", (JsonObject)into[name]!.DeepClone());
        }
        var result = new JsonObject { ["sentences"] = n, ["models"] = results };
        if (unseenResults.Count > 0)
            result["unseen"] = new JsonObject
            {
                ["sentences"] = nu, ["packages"] = new JsonArray(c.Settings.Corpus.HoldoutPackages.Select(p => (JsonNode)p).ToArray()), ["models"] = unseenResults,
            };
        return result;
    }

    /// <summary>int8 when the stage's result lists the model under "weights" as int8 (or, for runs recorded before that key,
    /// a teacher-int8 row of the compression stage); fp32 otherwise.</summary>
    static WeightFormat Quantized(JsonObject stageResult, string name) =>
        stageResult["weights"]?[name] is JsonValue v ? InferenceWeights.ParseFormat(v.GetValue<string>())
        : name.StartsWith("teacher-int8", StringComparison.Ordinal) ? WeightFormat.Int8 : WeightFormat.Fp32;
}
