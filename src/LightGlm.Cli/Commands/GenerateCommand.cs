// `lightglm generate --model DIR --prompt TEXT`: continues prompts with greedy, sampled or beam-search decoding.
using System.CommandLine;
using LightGlm.Generation;
using LightGlm.Model;
using LightGlm.Model.Checkpoints;
using LightGlm.Text.Tokenizers;

namespace LightGlm.Cli.Commands;

public sealed class GenerateCommand : ICliCommand
{
    public string[] Path => ["generate"];

    public Command Build()
    {
        var model = new Option<string>("--model") { Description = "Model directory (config.json + model.safetensors or shards [+ tokenizer.json]; fp32, bf16, Hugging Face or quantized by import/export --quantize)", Required = true };
        var prompt = new Option<string[]>("--prompt") { Description = "Prompt text; repeat for a batch of prompts", Required = true, AllowMultipleArgumentsPerToken = false };
        var maxNew = new Option<int>("--max-new") { Description = "Maximum new tokens", DefaultValueFactory = _ => 64 };
        var greedy = new Option<bool>("--greedy") { Description = "Argmax decoding (the default unless --temperature/--top-p/--top-k is given)" };
        var temperature = new Option<float?>("--temperature") { Description = "Sample with this temperature" };
        var topP = new Option<float?>("--top-p") { Description = "Nucleus sampling: keep tokens up to this cumulative probability" };
        var topK = new Option<int?>("--top-k") { Description = "Sample among the k most likely tokens" };
        var beam = new Option<int>("--beam") { Description = "Beam search width (1 = off)", DefaultValueFactory = _ => 1 };
        var lengthPenalty = new Option<float>("--length-penalty") { Description = "Beam score = log p / length^penalty", DefaultValueFactory = _ => 1f };
        var seed = new Option<ulong>("--seed") { Description = "Sampling seed", DefaultValueFactory = _ => 42UL };
        var threads = new Option<int>("--threads") { Description = "Threads (0 = all cores)", DefaultValueFactory = _ => 0 };
        var cmd = new Command("generate", "Generate text from a model directory.")
        {
            model, prompt, maxNew, greedy, temperature, topP, topK, beam, lengthPenalty, seed, threads,
        };
        cmd.SetAction(r =>
        {
            ModelThreads.Apply(r.GetValue(threads));
            // Any model directory inference reads: the fp32 arena, a mapped bf16/HF checkpoint, a quantized one.
            var (weights, owner) = LightGlm.Translation.TranslationModel.OpenWeights(r.GetValue(model)!);
            using var opened = owner;
            var tok = ModelTokenizer.Open(r.GetValue(model)!, weights.Config.VocabSize);
            bool sample = !r.GetValue(greedy) && (r.GetValue(temperature) is not null || r.GetValue(topP) is not null || r.GetValue(topK) is not null);
            var o = new GenerationOptions
            {
                MaxNewTokens = r.GetValue(maxNew), Greedy = !sample, Temperature = r.GetValue(temperature) ?? 1f,
                TopP = r.GetValue(topP) ?? 1f, TopK = r.GetValue(topK) ?? 0, BeamWidth = r.GetValue(beam),
                LengthPenalty = r.GetValue(lengthPenalty), Seed = r.GetValue(seed),
                StopTokens = GenerationOptions.EosOf(weights.Config), // any of several eos ids ends a sequence
            };
            try { o.Validate(); } catch (ArgumentException e) { throw new CliException(e.Message); }
            var prompts = r.GetValue(prompt)!;
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var outs = Generate(weights, tok, prompts, o);
            for (int i = 0; i < prompts.Length; i++) Console.WriteLine(prompts[i] + outs[i]);
            Console.Error.WriteLine($"({sw.Elapsed.TotalMilliseconds:F0} ms)");
            return 0;
        });
        return cmd;
    }

    internal static IReadOnlyList<string> Generate(LightGlm.Model.Inference.InferenceWeights w, ITokenizer tok, IReadOnlyList<string> prompts, GenerationOptions o)
    {
        try { return Generator.GenerateText(w, tok, prompts, o); }
        catch (ArgumentException e) { throw new CliException(e.Message); }
    }
}
