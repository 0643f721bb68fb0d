// Stage: hybrid-data fine-tuning of the teacher (Algorithm 3, Eq. 11–12). D_s = the plentiful direction,
// D_d = a small sample of the scarce direction from other English strings; randomly mixed, weighted α / 1−α.
// With hybrid.compare, the same steps also fine-tune on D_s only and on D_d only (Figure 5). hybrid.lora_rank > 0 trains
// LoRA adapters over the frozen teacher instead of every weight, and saves the teacher with them merged.
using System.Text.Json.Nodes;
using LightGlm.Model.Checkpoints;
using LightGlm.Text.Tokenizers;
using LightGlm.Training;
using LightGlm.Training.Hybrid;
using LightGlm.Translation;

namespace LightGlm.Experiments.Stages;

public sealed class HybridStage : IRecipeStage
{
    public string Name => "hybrid";
    public string Description => "fine-tune the teacher on the hybrid mix of source and target data (Eq. 11-12)";
    public bool IsEnabled(Recipes.Recipe recipe) => recipe.Settings.Hybrid.Enabled;

    public JsonObject Run(StageContext c)
    {
        var h = c.Settings.Hybrid;
        int seed = c.Settings.Seed;
        var tok = RunArtifacts.Tokenizer(c);
        var sp = SpecialTokens.From(tok);
        int seq = c.Settings.Teacher.SeqLen;
        var (ds, dd) = Split(c, tok, seq);
        // hybrid.alpha = null: α from the set sizes and weights (Eq. 11); a number sets it by hand (the paper: 0.65).
        double alpha = h.Alpha ?? HybridMix.Alpha(h.Ws, ds.Count, h.Wd, dd.Count);
        var targetDir = Directions.Parse(h.TargetDirection);
        var dev = TargetDev(c, tok, seq, targetDir, sp);

        var variants = new List<(string Name, IBatchSource Source)>
            { ("hybrid", new HybridBatchSource(ds, dd, alpha, sp.Pad, seed, HybridMix.ParseWeighting(h.Weighting))) };
        if (h.Compare)
        {
            variants.Add(("source_only", HybridBatchSource.Plain(ds, sp.Pad, seed)));
            variants.Add(("target_only", HybridBatchSource.Plain(dd, sp.Pad, seed)));
        }
        var figure5 = new Dictionary<string, FineTuning>();
        var models = new Dictionary<string, string>();
        foreach (var (name, source) in variants)
        {
            var model = ModelDirectory.Load(RunArtifacts.Teacher(c));
            if (h.LoraRank > 0) // the trainer made next trains the adapters; the teacher's weights stay frozen
                model.AttachLora(new Model.Lora.LoraAdapters(model.Config, Model.Lora.LoraOptions.Create(h.LoraRank, h.LoraAlpha, h.LoraTargets), (ulong)seed));
            var trainer = new Trainer(model, RunArtifacts.FineTuneOptions(c.Settings, h.Steps, h.LearningRate), source);
            var curve = StageTraining.Run(c, $"{Name}.{name}", trainer, c.Run.PathOf("checkpoints", "hybrid-" + name), c.Settings.Teacher.CheckpointEvery,
                validate: () => trainer.Evaluate(dev, RunArtifacts.DevBatches), validEvery: Math.Max(1, h.Steps / 5), tokenizerJson: RunArtifacts.TokenizerPath(c));
            if (model.Lora is not null) model.MergeLora(); // W + (α/r)·B·A: the later stages load an ordinary teacher
            string dir = c.Run.PathOf(name == "hybrid" ? "teacher-hybrid" : Path.Combine("baselines", "teacher-" + name));
            ModelDirectory.Save(model, dir, RunArtifacts.TokenizerPath(c));
            figure5[name] = new FineTuning { TargetDevLoss = Math.Round(curve.Valid[^1].Loss, 4), Curve = LossCurve.Of(curve.Valid) };
            if (name != "hybrid") models["teacher-" + name] = dir;
        }
        return StageJson.ToJson(new HybridResult
        {
            Teacher = c.Run.PathOf("teacher-hybrid"),
            Models = models,
            Alpha = Math.Round(alpha, 4), Weighting = h.Weighting, NSource = ds.Count, NTarget = dd.Count,
            SourceDirection = h.SourceDirection, TargetDirection = targetDir.Name(),
            LoraRank = h.LoraRank,
            Figure5 = figure5,
        });
    }

    /// <summary>D_s and D_d from the training split (<see cref="HybridData.Split"/>): no string in both.</summary>
    public static (List<TaskExample> Ds, List<TaskExample> Dd) Split(StageContext c, ITokenizer tok, int seq)
    {
        var h = c.Settings.Hybrid;
        var sets = HybridData.Split(RunArtifacts.Pairs(c, "train"), tok, seq, Directions.Parse(h.SourceDirection),
            Directions.Parse(h.TargetDirection), h.TargetFraction);
        return (sets.Source, sets.Target);
    }

    static IBatchSource TargetDev(StageContext c, ITokenizer tok, int seq, Direction d, SpecialTokens sp) =>
        HybridBatchSource.Plain(new TranslationBatcher(tok, RunArtifacts.Pairs(c, "dev"), seq, [d]).Examples, sp.Pad, seed: 99);
}
