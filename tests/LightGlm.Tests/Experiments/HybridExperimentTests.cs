// `lightglm experiment hybrid` end to end on a small slice of the real corpus: every figure, table and record is
// written, every number is finite, and hybrid fine-tuning beats source-only on the target direction (issue 7).
using System.Text.Json.Nodes;
using LightGlm.Experiments;
using LightGlm.Experiments.Hybrid;
using LightGlm.Text.Corpus;

namespace LightGlm.Tests.Experiments;

public class HybridExperimentTests(Xunit.Abstractions.ITestOutputHelper output)
{
    /// <summary>The corpus of the cache ($LIGHTGLM_CACHE/corpus); on a machine without one, built from two small real packages.</summary>
    static string Corpus(string scratch)
    {
        if (File.Exists(Path.Combine(RepoPaths.DefaultCorpusDir, "train.tsv")) && File.Exists(Path.Combine(RepoPaths.DefaultCorpusDir, "test.tsv")))
            return RepoPaths.DefaultCorpusDir;
        var chosen = PackageList.Read(RepoPaths.DefaultPackageList).Where(p => p.Name is "sed" or "grep" or "coreutils").ToList();
        string list = Path.Combine(scratch, "list.txt");
        File.WriteAllLines(list, chosen.Select(p => $"{p.Name}\t{p.Version}\t{p.Architecture}\t{p.Sha256}"));
        return CorpusBuilder.Build(new CorpusOptions { PackageList = list, OutputDir = Path.Combine(scratch, "corpus"), MaxManpages = 2 }).Dir;
    }

    [Fact]
    public void SmallRunWritesFiguresTablesAndMetrics()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"hybrid-exp-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            var o = new HybridExperimentOptions
            {
                CorpusDir = Corpus(dir), TrainPairs = 300, DevPairs = 30, TestPairs = 8, Vocab = 400, SeqLen = 48, Hidden = 32, Ffn = 64, Layers = 1,
                BatchSize = 8, PretrainSteps = 4, MonoLines = 100, FineTuneSteps = 12, DistillSteps = 3, AlphaSweep = [0.65], LambdaSweep = [0.65],
                BleuSentences = 2, ValidPoints = 2, TopK = 16,
            };
            var run = new RunDirectory(Path.Combine(dir, "run"));
            var r = HybridExperiment.Run(o, run);
            foreach (var f in new[] { "report.md", "report.html", "report.json", "hybrid.json", "metrics.jsonl", "figures/figure5.svg", "figures/figure6.svg", "figures/students.svg",
                                      "models/teacher-hybrid/config.json", "models/student-hybrid/config.json", "teacher-cache/hybrid-teacher.bin" })
                Assert.True(File.Exists(run.PathOf(f)), $"{f} missing");
            var fine = (JsonObject)r["finetune"]!;
            foreach (var v in new[] { "source_only", "target_only", "hybrid", "high_resource", "hybrid_loss_share" })
            {
                Assert.True(double.IsFinite((double)fine[v]!["target_dev_loss"]!), v);
                Assert.Equal(3, fine[v]!["curve"]!.AsArray().Count); // steps 0, 6, 12
            }
            foreach (var t in new[] { "teacher-source_only", "student-source_only", "teacher-hybrid", "student-hybrid" })
                Assert.InRange((double)r["tables"]![t]!["average_accuracy"]!, 0, 1);
            Assert.True((int)r["n_d"]! > 0 && (int)r["n_d"]! < (int)r["n_s"]! / 10);
            var records = run.ReadMetrics("experiment-hybrid").ToList();
            Assert.Contains(records, m => (string?)m["variant"] == "hybrid" && m["target_dev_loss"] is not null);
            Assert.Contains(records, m => (string?)m["variant"] == "student-hybrid");
            string md = File.ReadAllText(run.PathOf("report.md"));
            Assert.Contains("Figure 5", md);
            Assert.Contains("Table 3: with target data", md);
            // The issue's claim, measured and said either way (issue 7: "if it does not on our data, the experiment says so").
            // On the cache's full corpus hybrid beat source-only; on the three-package slice a fresh machine builds it did
            // not (5.902 vs 5.897 at this size), so the test checks that the report states what was measured.
            double hybrid = (double)fine["hybrid"]!["target_dev_loss"]!, sourceOnly = (double)fine["source_only"]!["target_dev_loss"]!;
            bool beats = hybrid < sourceOnly;
            Assert.Equal(beats, (bool)r["hybrid_beats_source_only"]!);
            Assert.Contains(beats ? "hybrid fine-tuning beats source-only" : "hybrid fine-tuning does not beat source-only", md);
            output.WriteLine($"target-direction dev loss: hybrid {hybrid:F4}, source-only {sourceOnly:F4} ({(beats ? "hybrid better" : "hybrid not better")})");
        }
        finally { Directory.Delete(dir, true); }
    }
}
