// Generation: greedy equals argmax of full forwards; beam width 1 = greedy; batched = one-by-one; seeded sampling; stops.
using LightGlm.Generation;
using LightGlm.Model;
using LightGlm.Tests.Model;

namespace LightGlm.Tests.Generation;

public class GenerationTests
{
    static readonly GlmModel M = GlmModel.Create(TinyModels.Glm(vocab: 17), seed: 21, std: 0.4);

    [Fact]
    public void GreedyMatchesArgmaxOfFullForward()
    {
        int[] prompt = [3, 1, 4, 1, 5];
        var g = Generator.Generate(M, [prompt], new GenerationOptions { MaxNewTokens = 8 })[0];
        Assert.Equal(8, g.Tokens.Length);
        var seq = prompt.ToList();
        foreach (int tok in g.Tokens)
        {
            var batch = Batch.From(1, seq.Count, seq.ToArray());
            var cache = M.CreateCache(1, seq.Count);
            M.Forward(cache, batch);
            int arg = Sampler.ArgMax(cache.Logits.Span.Slice((seq.Count - 1) * M.Config.V, M.Config.V));
            Assert.Equal(arg, tok);
            seq.Add(tok);
        }
    }

    /// <summary>A model with several eos ids (config eos_token_id: [a, b], as LLaMA-3, Qwen2 and GLM-4) stops on each, the second too.</summary>
    [Fact]
    public void StopsOnEveryEosIdOfTheConfig()
    {
        int[] prompt = [3, 1, 4];
        var free = Generator.Generate(M, [prompt], new GenerationOptions { MaxNewTokens = 8 })[0].Tokens;
        int never = Enumerable.Range(0, M.Config.V).First(v => !free.Contains(v));
        foreach (int at in new[] { 0, 3 })
            foreach (var list in new[] { new[] { never, free[at] }, [free[at], never] })
            {
                var c = M.Config.Clone();
                c.EosTokenIds = new TokenIds(list, IsList: true);
                var g = Generator.Generate(M, [prompt], new GenerationOptions { MaxNewTokens = 8, StopTokens = GenerationOptions.EosOf(c) })[0];
                Assert.True(g.Stopped, $"eos_token_id [{string.Join(", ", list)}]: did not stop; generated {string.Join(" ", g.Tokens)}");
                Assert.Equal(free[..Array.IndexOf(free, free[at])], g.Tokens);
            }
    }

    [Fact]
    public void BeamWidthOneEqualsGreedy()
    {
        foreach (var prompt in new[] { new[] { 2, 7 }, new[] { 9, 9, 9, 1 }, new[] { 16 } })
        {
            var greedy = Generator.Generate(M, [prompt], new GenerationOptions { MaxNewTokens = 10, StopTokens = [1, 5] })[0];
            var beam = Generator.Generate(M, [prompt], new GenerationOptions { MaxNewTokens = 10, StopTokens = [1, 5], BeamWidth = 1 + 0 })[0];
            var beam1 = BeamSearch.Run(M, prompt, new GenerationOptions { MaxNewTokens = 10, StopTokens = [1, 5], BeamWidth = 1 });
            Assert.Equal(greedy.Tokens, beam.Tokens);
            Assert.Equal(greedy.Tokens, beam1.Tokens);
            Assert.Equal(greedy.Stopped, beam1.Stopped);
        }
    }

    [Fact]
    public void WiderBeamFindsAtLeastAsLikelyASequence()
    {
        int[] prompt = [4, 8, 15];
        var o = new GenerationOptions { MaxNewTokens = 6, LengthPenalty = 0 };
        var b1 = BeamSearch.Run(M, prompt, o with { BeamWidth = 1 });
        var b4 = BeamSearch.Run(M, prompt, o with { BeamWidth = 4 });
        Assert.Equal(6, b4.Tokens.Length);
        Assert.True(b4.Score >= b1.Score - 1e-9, $"beam 4 score {b4.Score} < beam 1 score {b1.Score}");
        // The beam's running sum (float log-softmax per step) against a fresh recomputation: equal to float rounding.
        Assert.Equal(LogProb(prompt, b4.Tokens), b4.Score, 1e-4);
    }

    [Fact]
    public void WidthsAndLengthsBeyondTheLimitsAreRefusedBeforeAnyWork()
    {
        // --beam 100000 (the argument fuzzer's seed 3) searched until its 60 s hang limit: every step decodes every live
        // beam over the vocabulary, and the live beams grew to the width. Now a width above BeamHypotheses.MaxWidth is
        // refused, as translate/eval/serve refuse it; and prompt + max new tokens is checked in long for beam search too.
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var e = Assert.Throws<ArgumentException>(() => Generator.Generate(M, [[1, 2, 3]], new GenerationOptions { MaxNewTokens = 8, BeamWidth = 100_000 }));
        Assert.Contains($"beam width = 100000 must be in [1, {BeamHypotheses.MaxWidth}]", e.Message);
        e = Assert.Throws<ArgumentException>(() => Generator.Generate(M, [[1, 2, 3]], new GenerationOptions { MaxNewTokens = int.MaxValue, BeamWidth = 2 }));
        Assert.Contains("exceeds max_position_embeddings", e.Message);
        e = Assert.Throws<ArgumentException>(() => Generator.Generate(M, [[1, 2, 3]], new GenerationOptions { MaxNewTokens = int.MaxValue }));
        Assert.Contains("exceeds max_position_embeddings", e.Message);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"refusing took {sw.Elapsed}");
        // The widest allowed beam still runs (a vocabulary smaller than the width included).
        var widest = Generator.Generate(M, [[1, 2, 3]], new GenerationOptions { MaxNewTokens = 4, BeamWidth = BeamHypotheses.MaxWidth })[0];
        Assert.True(widest.Tokens.Length <= 4);
    }

    [Fact]
    public void BatchedGenerationEqualsOneByOne()
    {
        int[][] prompts = [[1, 2, 3, 4, 5, 6], [7], [8, 9, 10]];
        foreach (var o in new[]
                 {
                     new GenerationOptions { MaxNewTokens = 7, StopTokens = [0] },
                     new GenerationOptions { MaxNewTokens = 7, Greedy = false, Temperature = 0.9f, TopP = 0.9f, TopK = 8, Seed = 5 },
                 })
        {
            var batched = Generator.Generate(M, prompts, o);
            for (int i = 0; i < prompts.Length; i++)
                Assert.Equal(Generator.Generate(M, [prompts[i]], o)[0].Tokens, batched[i].Tokens);
        }
    }

    [Fact]
    public void SamplingIsSeededAndTopKOneIsGreedy()
    {
        int[] prompt = [5, 6];
        var o = new GenerationOptions { MaxNewTokens = 12, Greedy = false, Temperature = 1.5f, Seed = 7 };
        var a = Generator.Generate(M, [prompt], o)[0].Tokens;
        Assert.Equal(a, Generator.Generate(M, [prompt], o)[0].Tokens);
        Assert.NotEqual(a, Generator.Generate(M, [prompt], o with { Seed = 8 })[0].Tokens);
        var greedy = Generator.Generate(M, [prompt], new GenerationOptions { MaxNewTokens = 12 })[0].Tokens;
        Assert.Equal(greedy, Generator.Generate(M, [prompt], o with { TopK = 1 })[0].Tokens);
    }

    [Fact]
    public void StopsAtStopTokenAndMaxNew()
    {
        int[] prompt = [2, 3];
        var free = Generator.Generate(M, [prompt], new GenerationOptions { MaxNewTokens = 6 })[0];
        Assert.False(free.Stopped);
        int stop = free.Tokens[2];
        var stopped = Generator.Generate(M, [prompt], new GenerationOptions { MaxNewTokens = 6, StopTokens = [stop] })[0];
        Assert.True(stopped.Stopped);
        Assert.Equal(free.Tokens.TakeWhile(t => t != stop), stopped.Tokens);
    }

    static double LogProb(int[] prompt, int[] tokens)
    {
        var seq = prompt.Concat(tokens).ToArray();
        var cache = M.CreateCache(1, seq.Length);
        M.Forward(cache, Batch.From(1, seq.Length, seq));
        int V = M.Config.V;
        double lp = 0;
        for (int i = 0; i < tokens.Length; i++)
        {
            var row = cache.Logits.Span.Slice((prompt.Length - 1 + i) * V, V);
            double max = row.ToArray().Max(), sum = row.ToArray().Sum(x => Math.Exp(x - max));
            lp += row[tokens[i]] - max - Math.Log(sum);
        }
        return lp;
    }
}
