// Stage: the parallel corpus of computer language from Debian's message catalogs (plus manual pages
// for monolingual text), split by the recipe's ratios into the run directory.
using System.Text.Json.Nodes;
using LightGlm.Text.Corpus;

namespace LightGlm.Experiments.Stages;

public sealed class CorpusStage : IRecipeStage
{
    public string Name => "corpus";
    public string Description => "build the English-Chinese corpus from Debian's message catalogs and manual pages";

    public JsonObject Run(StageContext c)
    {
        var s = c.Settings.Corpus;
        var split = s.Split;
        string packages = s.PackagesFile;
        int lines = 0;
        var paths = CorpusBuilder.Build(new CorpusOptions
        {
            PackageList = Path.IsPathRooted(packages) ? packages : Path.Combine(RepoPaths.FindRepoRoot() ?? Directory.GetCurrentDirectory(), packages),
            OutputDir = c.Run.PathOf("corpus"),
            AllowNewer = s.AllowNewer,
            Packages = s.Packages,
            Holdout = s.HoldoutPackages,
            Ratios = new SplitRatios(split[0], split[1], split[2]),
            Log = msg =>
            {
                c.Cancel.ThrowIfCancellationRequested();
                c.Progress.Report(Math.Min(0.95, ++lines / 70.0), msg);
            },
        });
        c.Progress.Report(1, "done");
        return StageJson.ToJson(new CorpusResult
        {
            Dir = paths.Dir,
            Train = paths.Train, Dev = paths.Dev, Test = paths.Test, Unseen = paths.Unseen,
            Glossary = paths.Glossary, MonoEn = paths.MonoEnglish, MonoZh = paths.MonoChinese,
            TrainPairs = CountLines(paths.Train), DevPairs = CountLines(paths.Dev), TestPairs = CountLines(paths.Test),
            UnseenPairs = CountLines(paths.Unseen),
        });
    }

    static int CountLines(string path) => File.Exists(path) ? File.ReadLines(path).Count(l => l.Length > 0) : 0;
}
