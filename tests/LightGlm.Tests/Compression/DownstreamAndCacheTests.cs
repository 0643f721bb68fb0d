// Downstream distillation (Eq. 13: λ·soft + (1 − λ)·hard on the target data) by finite differences through the engine,
// and the teacher-output cache: cached outputs equal on-the-fly ones, a distillation run is the same with or without it,
// and a changed teacher, changed data or a damaged file rebuilds it.
using LightGlm.Compression;
using LightGlm.Compression.Distillation;
using LightGlm.Compression.Importance;
using LightGlm.Model;

namespace LightGlm.Tests.Compression;

public class DownstreamAndCacheTests
{
    static (GlmModel Teacher, GlmModel Student) Pair(int V = 23) =>
        (ModelBridge.ToModel(TinyTeacher.Create(glm: true, seed: 41, L: 2, C: 24, H: 4, KV: 2, D: 8, F: 16, V: V)),
         ModelBridge.ToModel(TinyTeacher.Create(glm: true, seed: 42, L: 2, C: 16, H: 4, KV: 2, D: 8, F: 16, V: V)));

    static List<CalibrationSample> Data(int count, int V, int seed, int len = 9) => Enumerable.Range(0, count).Select(i =>
    {
        var t = TinyTeacher.Tokens(len + i % 3, V, seed + i);
        var targets = t[1..].ToArray();
        for (int j = 0; j < 3; j++) targets[j] = -1; // a prompt: no loss there, as in translation examples
        return new CalibrationSample(t[..^1], targets, Prefix: 3);
    }).ToList();

    [Theory]
    [InlineData(0.65, "teacher", 0.65f, 0.35f)]
    [InlineData(0.65, "student", 0.35f, 0.65f)]
    [InlineData(1.0, "teacher", 1f, 0f)]
    public void DownstreamWeightsPutLambdaOnTheChosenTerm(double lambda, string which, float soft, float hard)
    {
        var w = DistillationWeights.Downstream(lambda, 2f, DistillationWeights.LambdaWeighsStudent(which));
        Assert.Equal(soft, w.Soft, 6);
        Assert.Equal(hard, w.Hard, 6);
        Assert.Equal(0f, w.Hidden);
        Assert.Equal(2f, w.Temperature);
        Assert.Throws<ArgumentOutOfRangeException>(() => DistillationWeights.Downstream(1.2));
        Assert.Throws<ArgumentException>(() => DistillationWeights.LambdaWeighsStudent("both"));
    }

    [Fact]
    public void DownstreamLossIsLambdaSoftPlusOneMinusLambdaHardAndItsGradientChecks()
    {
        var (teacher, student) = Pair();
        int B = 2, T = 7;
        var data = Data(B, 23, 70, len: 8);
        var batch = Distiller.Pack(data, B, T);
        batch.SampleWeights = [1f, 0.5f]; // per-sample weights (hybrid α) must scale both terms
        var tc = teacher.CreateCache(B, T, dropout: false);
        teacher.Forward(tc, batch);
        var tOut = Distiller.Outputs(tc, teacher.Config, 0);
        const double lambda = 0.65; const float tau = 2f;
        var obj = new DistillationObjective(DistillationWeights.Downstream(lambda, tau), null) { SoftOnTarget = true };
        obj.Prepare(batch, tOut, [false, false]);

        // The loss by hand from the student's logits: Σ scale·[λ·τ²KL + (1−λ)·CE] over target rows.
        var sc = student.CreateCache(B, T, dropout: false);
        student.Forward(sc, batch);
        var z = sc.Logits.Span.ToArray();
        double expected = 0; int V = 23;
        for (int n = 0; n < B * T; n++)
        {
            if (batch.Targets[n] < 0) continue;
            float scale = batch.LossScale * batch.SampleWeights[n / T];
            expected += scale * (lambda * DistillationLoss.SoftKl(z.AsSpan(n * V, V), tOut.Logits.AsSpan(n * V, V), default, tau, 0f, new float[V])
                                 + (1 - lambda) * DistillationLoss.HardCe(z.AsSpan(n * V, V), batch.Targets[n], 0f, new float[V]));
        }
        student.ZeroGrads();
        var cache = student.CreateCache(B, T, dropout: false);
        double loss = student.Forward(cache, batch, obj);
        student.Backward(cache, batch);
        Assert.Equal(expected, loss, 5);

        double Loss() { var c = student.CreateCache(B, T, dropout: false); return student.Forward(c, batch, obj); }
        var analytic = student.Grads.ToArray();
        var rng = new Random(5);
        foreach (var name in new[] { "model.embed_tokens.weight", "model.layers.0.self_attn.k_proj.weight", "model.layers.1.mlp.up_proj.weight", "lm_head.weight" })
        {
            var t = student.Layout[name];
            for (int s = 0; s < 4; s++)
            {
                int i = t.Offset + rng.Next(t.Length);
                float keep = student.Weights[i];
                student.Weights[i] = keep + 1e-2f; double up = Loss();
                student.Weights[i] = keep - 1e-2f; double down = Loss();
                student.Weights[i] = keep;
                double fd = (up - down) / 2e-2;
                Assert.True(Math.Abs(fd - analytic[i]) <= 3e-3 * (1 + Math.Abs(fd)), $"{name}[{i - t.Offset}]: fd {fd}, analytic {analytic[i]}");
            }
        }
    }

    [Fact]
    public void DownstreamWithLambdaZeroIsPlainCrossEntropy()
    {
        var (teacher, student) = Pair();
        int B = 3, T = 9;
        var batch = Distiller.Pack(Data(B, 23, 90), B, T);
        var tc = teacher.CreateCache(B, T, dropout: false);
        teacher.Forward(tc, batch);
        var obj = new DistillationObjective(DistillationWeights.Downstream(0), null) { SoftOnTarget = true };
        obj.Prepare(batch, Distiller.Outputs(tc, teacher.Config, 0), [false, false, false]);
        student.ZeroGrads();
        var c1 = student.CreateCache(B, T, dropout: false);
        double l1 = student.Forward(c1, batch, obj);
        student.Backward(c1, batch);
        var g1 = student.Grads.ToArray();
        student.ZeroGrads();
        var c2 = student.CreateCache(B, T, dropout: false);
        double l2 = student.ForwardLoss(c2, batch);
        student.Backward(c2, batch);
        Assert.Equal(l2, l1, 5);
        TinyTeacher.AssertClose(student.Grads.ToArray(), g1, 1e-4f);
    }

    [Theory]
    [InlineData(0, true)]
    [InlineData(5, false)]
    public void CachedTeacherOutputsEqualOnTheFlyOnes(int topK, bool hidden)
    {
        var (teacher, _) = Pair();
        var data = Data(11, 23, 300);
        string dir = TinyTeacher.TempDir();
        try
        {
            int B = 4, T = 10;
            using var cache = TeacherCache.OpenOrBuild(Path.Combine(dir, "t.cache"), teacher, data, T, topK, hidden, batchSize: 3);
            Assert.True(cache.Built);
            int[] ids = [7, 2, 10, 2]; // any rows, in any batch composition, repeats allowed
            var batch = Distiller.Pack(ids.Select(i => data[i]).ToList(), B, T);
            var tc = teacher.CreateCache(B, T, dropout: false);
            teacher.Forward(tc, batch);
            var live = Distiller.Outputs(tc, teacher.Config, topK);
            var cached = cache.Gather(ids, B, T);
            int W = topK > 0 ? topK : 23, checkedRows = 0;
            for (int n = 0; n < B * T; n++)
            {
                if (batch.Targets[n] < 0) continue;
                checkedRows++;
                TinyTeacher.AssertClose(live.Logits.AsSpan(n * W, W).ToArray(), cached.Logits.AsSpan(n * W, W).ToArray(), 1e-5f);
                if (topK > 0) Assert.Equal(live.TopIds!.AsSpan(n * topK, topK).ToArray(), cached.TopIds!.AsSpan(n * topK, topK).ToArray());
                if (hidden) TinyTeacher.AssertClose(live.Hidden.AsSpan(n * 24, 24).ToArray(), cached.Hidden.AsSpan(n * 24, 24).ToArray(), 1e-5f);
            }
            Assert.True(checkedRows >= 20, $"only {checkedRows} target rows compared");
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    public void AStreamedTeacherGivesTheInMemoryTeachersOutputsAndCache(int topK)
    {
        // The same weights through the one inference pass block by block (as a mapped 6B teacher runs) and through the
        // training forward: the same logits (or top-k ids) and last hidden state at every target position, and a cache
        // built from the streamed teacher equals the live in-memory outputs.
        var (teacher, _) = Pair();
        var data = Data(9, 23, 900);
        using var inMemory = DistillationTeacher.InMemory(teacher);
        // Head groups of 7 rows: the stacked rows of the batch's sequences cross group boundaries mid-sequence.
        using var streamed = DistillationTeacher.Streamed(LightGlm.Model.Inference.InferenceWeights.Fp32(teacher), "test", () => new byte[32], headRows: 7);
        int B = 4, T = 10, W = topK > 0 ? topK : 23;
        int[] ids = [3, 8, 0, 3];
        var seqs = ids.Select(i => data[i]).ToList();
        var a = inMemory.Outputs(seqs, B, T, topK);
        var b = streamed.Outputs(seqs, B, T, topK);
        var batch = Distiller.Pack(seqs, B, T);
        string dir = TinyTeacher.TempDir();
        try
        {
            using var cache = TeacherCache.OpenOrBuild(Path.Combine(dir, "s.cache"), streamed, data, T, topK, hidden: true, batchSize: 2);
            var c = cache.Gather(ids, B, T);
            int rows = 0;
            for (int n = 0; n < B * T; n++)
            {
                if (batch.Targets[n] < 0) continue;
                rows++;
                TinyTeacher.AssertClose(a.Logits.AsSpan(n * W, W).ToArray(), b.Logits.AsSpan(n * W, W).ToArray(), 1e-4f);
                TinyTeacher.AssertClose(a.Logits.AsSpan(n * W, W).ToArray(), c.Logits.AsSpan(n * W, W).ToArray(), 1e-4f);
                TinyTeacher.AssertClose(a.Hidden.AsSpan(n * 24, 24).ToArray(), b.Hidden.AsSpan(n * 24, 24).ToArray(), 1e-4f);
                TinyTeacher.AssertClose(a.Hidden.AsSpan(n * 24, 24).ToArray(), c.Hidden.AsSpan(n * 24, 24).ToArray(), 1e-4f);
                if (topK > 0)
                {
                    Assert.Equal(a.TopIds!.AsSpan(n * topK, topK).ToArray(), b.TopIds!.AsSpan(n * topK, topK).ToArray());
                    Assert.Equal(a.TopIds!.AsSpan(n * topK, topK).ToArray(), c.TopIds!.AsSpan(n * topK, topK).ToArray());
                }
            }
            Assert.True(rows >= 20, $"only {rows} target rows compared");
            // A different identity (another teacher) rebuilds the cache.
            using var other = DistillationTeacher.Streamed(LightGlm.Model.Inference.InferenceWeights.Fp32(teacher), "test", () => Enumerable.Repeat((byte)1, 32).ToArray());
            using var rebuilt = TeacherCache.OpenOrBuild(Path.Combine(dir, "s.cache"), other, data, T, topK, hidden: true);
            Assert.True(rebuilt.Built);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void DistillationWithTheCacheIsTheSameRunAsOnTheFly()
    {
        var train = Data(12, 23, 500); var target = Data(6, 23, 600); var valid = Data(4, 23, 700);
        string dir = TinyTeacher.TempDir();
        try
        {
            var o = new DistillOptions { Steps = 6, BatchSize = 4, MaxLen = 10, LearningRate = 3e-3, EvalEvery = 3, TopK = 6, SoftOnTarget = true,
                Weights = new DistillationWeights(Soft: 0.65f, Hard: 0.35f, Hidden: 0.1f) };
            var (t1, s1) = Pair();
            var live = Distiller.Run(t1, s1, train, target, valid, o);
            var (t2, s2) = Pair();
            var messages = new List<string>();
            var cached = Distiller.Run(t2, s2, train, target, valid, o with { TeacherCachePath = Path.Combine(dir, "c.bin") }, log: messages.Add);
            Assert.Equal(live.Select(p => p.Step), cached.Select(p => p.Step));
            for (int i = 0; i < live.Count; i++) Assert.Equal(live[i].ValLoss, cached[i].ValLoss, 4);
            // The cache's teacher rows come from batches of another composition (float rounding ~1e-7 in the logits);
            // AdamW divides by √v, so a weight whose gradient is near zero can move a visible fraction of one step
            // (lr 3e-3) apart. A wrong cache (misaligned rows, another teacher) moves the validation losses above and
            // weights by whole steps; 1e-3 is a third of one step.
            TinyTeacher.AssertClose(s1.Weights, s2.Weights, 1e-3f);
            Assert.Contains(messages, m => m.Contains("computing"));
            // Second run: the file is reused, not recomputed.
            var (t3, s3) = Pair();
            messages.Clear();
            Distiller.Run(t3, s3, train, target, valid, o with { TeacherCachePath = Path.Combine(dir, "c.bin") }, log: messages.Add);
            Assert.Contains(messages, m => m.Contains("reusing"));
            TinyTeacher.AssertClose(s2.Weights, s3.Weights, 0f);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void ChangedTeacherDataOrDamagedFileRebuildsTheCache()
    {
        var (teacher, _) = Pair();
        var data = Data(5, 23, 800);
        string dir = TinyTeacher.TempDir(), path = Path.Combine(dir, "c.bin");
        try
        {
            using (var c = TeacherCache.OpenOrBuild(path, teacher, data, 10, 4, false)) Assert.True(c.Built);
            using (var c = TeacherCache.OpenOrBuild(path, teacher, data, 10, 4, false)) Assert.False(c.Built);
            var log = new List<string>();
            using (var c = TeacherCache.OpenOrBuild(path, teacher, data.Take(4).ToList(), 10, 4, false, log: log.Add)) Assert.True(c.Built);
            Assert.Contains(log, m => m.Contains("other data"));
            teacher.Weights[17] += 0.01f;
            log.Clear();
            using (var c = TeacherCache.OpenOrBuild(path, teacher, data, 10, 4, false, log: log.Add)) Assert.True(c.Built);
            Assert.Contains(log, m => m.Contains("another teacher"));
            using (var c = TeacherCache.OpenOrBuild(path, teacher, data, 10, 0, false)) Assert.True(c.Built); // top-k changed
            using (var fs = new FileStream(path, FileMode.Open)) fs.SetLength(fs.Length - 7); // a torn file from elsewhere
            log.Clear();
            using (var c = TeacherCache.OpenOrBuild(path, teacher, data, 10, 0, false, log: log.Add)) Assert.True(c.Built);
            Assert.Contains(log, m => m.Contains("truncated"));
            File.WriteAllText(path, "not a cache");
            using (var c = TeacherCache.OpenOrBuild(path, teacher, data, 10, 0, false)) Assert.True(c.Built);
            Assert.Empty(Directory.GetFiles(dir, ".*tmp*")); // atomic writes leave no temp files
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void DistillCommandDownstreamWithTeacherCache()
    {
        var dir = TinyTeacher.TempDir();
        try
        {
            var teacher = TinyTeacher.Create(glm: true, seed: 53, L: 2, C: 24, H: 4, KV: 2, D: 8, F: 16, V: LightGlm.Text.Tokenizers.ByteTokenizer.Size); // no tokenizer.json: text is read by the byte tokenizer
            teacher.Save(Path.Combine(dir, "teacher"));
            TinyTeacher.Create(glm: true, seed: 54, L: 1, C: 24, H: 4, KV: 2, D: 8, F: 16, V: LightGlm.Text.Tokenizers.ByteTokenizer.Size).Save(Path.Combine(dir, "student"));
            File.WriteAllLines(Path.Combine(dir, "target.txt"), ["permission denied", "no such file or directory", "disk quota exceeded"]);
            string[] args = ["distill", "--teacher", Path.Combine(dir, "teacher"), "--student", Path.Combine(dir, "student"), "--out", Path.Combine(dir, "out"),
                "--target", Path.Combine(dir, "target.txt"), "--valid", Path.Combine(dir, "target.txt"), "--steps", "2", "--batch", "2", "--max-len", "16",
                "--downstream", "--lambda", "0.65", "--top-k", "8", "--teacher-cache", Path.Combine(dir, "teacher.cache")];
            Assert.Equal(0, LightGlm.Cli.CliHost.Run(args));
            var stamp = File.GetLastWriteTimeUtc(Path.Combine(dir, "teacher.cache"));
            Assert.Equal(0, LightGlm.Cli.CliHost.Run(args)); // reused, not rewritten
            Assert.Equal(stamp, File.GetLastWriteTimeUtc(Path.Combine(dir, "teacher.cache")));
            Assert.Equal(2, LightGlm.Cli.CliHost.Run([.. args, "--lambda-weighs", "both"]));
            Assert.Equal(2, LightGlm.Cli.CliHost.Run([.. args.Take(7), "--downstream"])); // no --target
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void TopKMatchesASort()
    {
        var rng = new Random(3);
        var row = Enumerable.Range(0, 50).Select(_ => (float)Math.Round(rng.NextDouble() * 4, 1)).ToArray(); // ties
        var vals = new float[7]; var ids = new int[7];
        TeacherOutputs.TopK(row, 7, vals, ids);
        var expected = Enumerable.Range(0, 50).OrderByDescending(i => row[i]).Take(7).ToArray();
        Assert.Equal(expected, ids);
        Assert.Equal(expected.Select(i => row[i]), vals);
    }
}
