// The decoding options translate, eval and serve share: --beam, --length-penalty, --quantize, --group-size, --batch.
using System.CommandLine;
using LightGlm.Model;
using LightGlm.Model.Inference;
using LightGlm.Text.Tokenizers;
using LightGlm.Translation;

namespace LightGlm.Cli.Commands;

internal sealed class DecodeOptions(int defaultBatch = 8, int defaultMaxBeam = 0)
{
    public readonly Option<int> Beam = new("--beam") { Description = "Beam width (1 = greedy).", DefaultValueFactory = _ => 1 };
    public readonly Option<float> LengthPenalty = new("--length-penalty") { Description = "Beam score = Σ log p / length^PENALTY.", DefaultValueFactory = _ => 1f };
    public readonly Option<string> Quantize = new("--quantize") { Description = "Weight-only quantization of every projection and the LM head: int8, int4 or none.", DefaultValueFactory = _ => "none" };
    public readonly Option<int> GroupSize = new("--group-size") { Description = "Weights per quantization scale (multiple of 32).", DefaultValueFactory = _ => 32 };
    public readonly Option<int> MaxBeam = new("--max-beam") { Description = "Widest beam a request may ask for (sizes the KV cache).", DefaultValueFactory = _ => defaultMaxBeam };
    public readonly Option<int> Batch = new("--batch") { Description = "Texts decoded together.", DefaultValueFactory = _ => defaultBatch };
    public readonly Option<string?> Terms = new("--terms") { Description = "A glossary (english<TAB>chinese, e.g. a corpus's glossary.tsv) whose terms greedy decoding is steered to write when the source contains them (a soft constraint, docs/TRANSLATION.md)." };
    public readonly Option<float> TermBias = new("--term-bias") { Description = "With --terms: logit bonus of a token that writes a pending term.", DefaultValueFactory = _ => 3f };

    public void AddTo(Command cmd, bool batch = true)
    {
        cmd.Options.Add(Beam);
        cmd.Options.Add(LengthPenalty);
        cmd.Options.Add(Quantize);
        cmd.Options.Add(GroupSize);
        if (batch) cmd.Options.Add(Batch);
        cmd.Options.Add(Terms);
        cmd.Options.Add(TermBias);
        if (defaultMaxBeam > 0) cmd.Options.Add(MaxBeam);
    }

    /// <summary>The translator options, every problem reported at once.</summary>
    public TranslatorOptions Read(ParseResult r, int? batchOverride = null)
    {
        var problems = new List<string>();
        int beam = r.GetValue(Beam), group = r.GetValue(GroupSize), batch = batchOverride ?? r.GetValue(Batch);
        float lp = r.GetValue(LengthPenalty);
        int maxBeam = defaultMaxBeam > 0 ? r.GetValue(MaxBeam) : beam;
        const int widest = LightGlm.Generation.BeamHypotheses.MaxWidth;
        if (beam < 1 || beam > widest) problems.Add($"--beam {beam} must be in [1, {widest}]");
        if (maxBeam < beam || maxBeam > widest) problems.Add($"--max-beam {maxBeam} must be in [--beam = {beam}, {widest}]");
        if (!(lp >= 0 && lp <= 5)) problems.Add($"--length-penalty {lp} must be in [0, 5]");
        if (group <= 0 || group % 32 != 0) problems.Add($"--group-size {group} must be a positive multiple of 32");
        if (batch < 1) problems.Add($"--batch {batch} must be >= 1");
        float termBias = r.GetValue(TermBias);
        if (!(termBias >= 0 && termBias <= 50)) problems.Add($"--term-bias {termBias} must be in [0, 50]");
        LightGlm.Evaluation.Metrics.Glossary? terms = null;
        if (r.GetValue(Terms) is { } termsFile)
        {
            if (maxBeam > 1) problems.Add($"--terms steers greedy decoding only: drop --beam {beam}{(defaultMaxBeam > 0 ? $" / --max-beam {maxBeam}" : "")} or --terms");
            try { terms = LightGlm.Evaluation.Metrics.Glossary.Load(termsFile); }
            catch (Exception e) when (e is FileNotFoundException or InvalidDataException) { problems.Add($"--terms: {e.Message}"); }
        }
        WeightFormat format = WeightFormat.Fp32;
        try { format = InferenceWeights.ParseFormat(r.GetValue(Quantize)!); }
        catch (ArgumentException e) { problems.Add(e.Message); }
        if (problems.Count > 0) throw new CliException(string.Join("; ", problems));
        return new TranslatorOptions
        {
            MaxBatch = batch, Beam = beam, MaxBeam = maxBeam, LengthPenalty = lp, Weights = format, GroupSize = group,
            Terms = terms, TermBias = termBias,
        };
    }

    public GlmTranslator Translator(ParseResult r, GlmModel model, ITokenizer tok, int? batchOverride = null) =>
        Translator(r, InferenceWeights.Fp32(model), tok, batchOverride);

    /// <summary>The translator; with <paramref name="memory"/>'s fuzzy prompts, a match must fit the sequence length the model was trained at.</summary>
    public GlmTranslator Translator(ParseResult r, InferenceWeights weights, ITokenizer tok, int? batchOverride = null, MemoryChoice? memory = null)
    {
        var o = Read(r, batchOverride) with { MatchSeqLen = memory?.MatchSeqLen ?? 0 };
        // The KV cache holds batch × beam slots of every position: refuse before allocating what the machine lacks.
        var c = weights.Config;
        long slots = (long)o.MaxBatch * (o.MaxBeam == 1 ? 1 : 2 * o.MaxBeam);
        long kvBytes = 2L * 4 * c.L * slots * Math.Min(o.MaxLength, c.MaxPositionEmbeddings) * c.KV * c.D;
        long available = LightGlm.Training.MemoryEstimate.AvailableBytes();
        if (kvBytes > available || kvBytes / 4 / 2 > Array.MaxLength)
            throw new CliException($"--batch {o.MaxBatch} with beam up to {o.MaxBeam} needs a KV cache of {LightGlm.Training.MemoryEstimate.Mb(kvBytes)} " +
                                   $"({slots} slots × {Math.Min(o.MaxLength, c.MaxPositionEmbeddings)} positions × {c.L} layers); " +
                                   $"{LightGlm.Training.MemoryEstimate.Mb(available)} is available: lower --batch or --max-beam");
        if (weights.Format != WeightFormat.Fp32 && o.Weights != WeightFormat.Fp32 && (o.Weights != weights.Format || o.GroupSize != weights.GroupSize))
            throw new CliException($"--quantize {InferenceWeights.Name(o.Weights)} --group-size {o.GroupSize}: the model is already stored as " +
                                   $"{InferenceWeights.Name(weights.Format)} (group {weights.GroupSize}) and is run as it is; drop --quantize, or quantize " +
                                   "the fp32/bf16 model it was made from");
        var t = new GlmTranslator(weights, tok, o);
        if (weights.Format != WeightFormat.Fp32)
            Console.Error.WriteLine($"lightglm: {InferenceWeights.Name(weights.Format)} weights (group {weights.GroupSize}) as stored in the model directory: " +
                                    $"projections + head {weights.ProjectionBytes / 1e6:F2} MB");
        else if (o.Weights != WeightFormat.Fp32)
            Console.Error.WriteLine($"lightglm: {InferenceWeights.Name(o.Weights)} weights (group {o.GroupSize}): projections + head {t.Weights.ProjectionBytes / 1e6:F2} MB " +
                                    $"(as loaded: {weights.ProjectionBytes / 1e6:F2} MB)");
        return t;
    }
}
