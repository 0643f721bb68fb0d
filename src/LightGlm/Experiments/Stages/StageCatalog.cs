// The LightChatGLM recipe as an ordered list of stages (paper §3: data, teacher, hybrid fine-tuning,
// mixed compression, downstream distillation, evaluation, report).
namespace LightGlm.Experiments.Stages;

public static class StageCatalog
{
    public static IReadOnlyList<IRecipeStage> Recipe() =>
    [
        new CorpusStage(),
        new TokenizerStage(),
        new TeacherStage(),
        new ParallelStage(),
        new HybridStage(),
        new CompressionStage(),
        new DownstreamStage(),
        new EvalStage(),
        new ReportStage(),
    ];
}
