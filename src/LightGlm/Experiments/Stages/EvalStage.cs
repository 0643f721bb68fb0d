// Stage: every model the run made (teacher, student, baselines) scored on the same test split in both
// directions, the numbers behind Tables 2-4; and the models of eval.unseen_models on the held-out packages.
using System.Text.Json.Nodes;
using LightGlm.Evaluation.Metrics;
using LightGlm.Model.Checkpoints;
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

        var models = RunArtifacts.Models(c);

        // The held-out packages (corpus.holdout_packages), bounded like the test split; runs made before unseen.tsv existed have none.
        var unseen = RunArtifacts.Unseen(c);
        int nu = Math.Min(unseen.Count, e.MaxSentences);
        unseen = unseen.GetRange(0, nu);
        var onUnseen = nu == 0 ? [] : models.Where(m => e.UnseenModels.Contains(m.Name)).ToList();

        var jobs = models.Select(m => (Set: "", m.Name, m.Dir, m.Weights, Pairs: test))
            .Concat(onUnseen.Select(m => (Set: "unseen.", m.Name, m.Dir, m.Weights, Pairs: unseen))).ToList();
        var results = new Dictionary<string, ModelScores>();
        var unseenResults = new Dictionary<string, ModelScores>();
        for (int i = 0; i < jobs.Count; i++)
        {
            var (set, name, dir, weights, pairs) = jobs[i];
            var into = set.Length == 0 ? results : unseenResults;
            // Scored before an interruption — on the same sentences (a marker from other eval settings is scored again).
            if (c.Run.Result<ModelScores>($"{Name}.{set}{name}") is { } cached && cached.EnZh?.Sentences == pairs.Count) { into[name] = cached; continue; }
            var model = ModelDirectory.Load(dir);
            int k = i;
            var translator = new GlmTranslator(model, tok, new TranslatorOptions { MaxBatch = e.Batch, Weights = weights, Beam = e.Beam, MaxBeam = e.Beam });
            into[name] = ModelEvaluator.Evaluate(model, tok, dir, pairs, glossary, maxNew,
                (f, what) => c.Progress.Report((k + f) / jobs.Count, $"{set}{name}: {what}"), c.Cancel, translator: translator);
            c.Run.LogMetric(Name, new JsonObject { ["model"] = name, ["split"] = set.Length == 0 ? "test" : "unseen", ["result"] = StageJson.ToJson(into[name]) });
            c.Run.MarkStageDone($"{Name}.{set}{name}", into[name]);
        }
        return StageJson.ToJson(new EvalResult
        {
            Sentences = n, Models = results,
            Unseen = unseenResults.Count > 0 ? new UnseenEval(nu, c.Settings.Corpus.HoldoutPackages, unseenResults) : null,
        });
    }
}
