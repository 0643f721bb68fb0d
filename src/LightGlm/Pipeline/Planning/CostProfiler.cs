// Measures a CostProfile: each block's forward/backward time at two micro-batch sizes (fit affine in rows,
// one core), activation and parameter sizes, the in-process or MPI link, and the AdamW update per parameter.
using System.Diagnostics;
using LightGlm.Kernels.Mpi;
using LightGlm.Model;
using LightGlm.Model.Ops;

namespace LightGlm.Pipeline.Planning;

public static class CostProfiler
{
    /// <summary>Profiles <paramref name="model"/> at sequence length <paramref name="seq"/>, timing micro-batches of
    /// 1 and <paramref name="rowsHigh"/> sequences (fastest of <paramref name="repeats"/> runs each, after a warm-up run).</summary>
    public static CostProfile Profile(GlmModel model, int seq, int rowsHigh, LinkCost link, int repeats = 5, int cores = 0)
    {
        var c = model.Config;
        var (fLo, bLo) = TimeUnits(model, seq, 1, repeats);
        var (fHi, bHi) = TimeUnits(model, seq, rowsHigh, repeats);
        var layers = new List<LayerCost>();
        var lay = model.Layout;
        for (int i = 0; i < c.L; i++)
        {
            // Units: embedding (index 0), blocks 1..L, head (L+1); fold embedding into block 0, head into block L−1.
            double fl = fLo[i + 1], fh = fHi[i + 1], bl = bLo[i + 1], bh = bHi[i + 1];
            if (i == 0) { fl += fLo[0]; fh += fHi[0]; bl += bLo[0]; bh += bHi[0]; }
            if (i == c.L - 1) { fl += fLo[^1]; fh += fHi[^1]; bl += bLo[^1]; bh += bHi[^1]; }
            double fPer = Math.Max(0, (fh - fl) / Math.Max(1, rowsHigh - 1)), bPer = Math.Max(0, (bh - bl) / Math.Max(1, rowsHigh - 1));
            int start = i == 0 ? 0 : lay.Blocks[i].InputNorm, end = i == c.L - 1 ? lay.TotalLength : lay.Blocks[i + 1].InputNorm;
            var range = new LayerRange(i, i + 1, i == 0, i == c.L - 1);
            long act = new ActivationCache(c, 1, seq, range).ArenaFloats * 4;
            layers.Add(new LayerCost($"block {i}" + (i == 0 ? " + embedding" : "") + (i == c.L - 1 ? " + head" : ""),
                Math.Max(0, fl - fPer), fPer, Math.Max(0, bl - bPer), bPer, act, end - start));
        }
        return new CostProfile(layers, link, (long)seq * c.C * 4, MeasureUpdate(), 16, cores > 0 ? cores : Environment.ProcessorCount, seq);
    }

    /// <summary>Forward and backward seconds of embedding, each block and the head for micro-batches of <paramref name="rows"/>.</summary>
    static (double[] F, double[] B) TimeUnits(GlmModel model, int seq, int rows, int repeats)
    {
        var c = model.Config;
        var batch = new Batch(rows, seq);
        var rng = new Rng(17);
        for (int k = 0; k < rows * seq; k++) { batch.Tokens[k] = rng.NextInt(c.V); batch.Targets[k] = rng.NextInt(c.V); }
        batch.NormaliseByOwnCount();
        var ranges = new List<LayerRange> { new(0, 0, true, false) };
        for (int i = 0; i < c.L; i++) ranges.Add(new(i, i + 1, false, false));
        ranges.Add(new(c.L, c.L, false, true));
        var f = new double[ranges.Count];
        var b = new double[ranges.Count];
        int saved = Parallelism.MaxThreads;
        Parallelism.MaxThreads = 1; // one-core times; the planner divides cores among workers
        try
        {
            for (int u = 0; u < ranges.Count; u++)
            {
                var r = ranges[u];
                var cache = model.CreateCache(rows, seq, r);
                var fs = new List<double>(); var bs = new List<double>();
                for (int rep = 0; rep <= repeats; rep++) // first run warms up (JIT), not counted
                {
                    if (!r.Embedding) FillRandom(cache.Hidden(r.FirstBlock).Span, rep);
                    var w = Stopwatch.StartNew();
                    model.Forward(cache, batch, r.Head ? CrossEntropyObjective.Instance : null, r);
                    double tf = w.Elapsed.TotalSeconds;
                    if (!r.Head) FillRandom(cache.GradHidden.Span, rep + 7);
                    w.Restart();
                    model.Backward(cache, batch, r);
                    double tb = w.Elapsed.TotalSeconds;
                    if (rep > 0) { fs.Add(tf); bs.Add(tb); }
                }
                f[u] = Fastest(fs); b[u] = Fastest(bs);
            }
        }
        finally { Parallelism.MaxThreads = saved; }
        return (f, b);
    }

    static void FillRandom(Span<float> s, int seed)
    {
        var rng = new Random(seed);
        for (int i = 0; i < s.Length; i++) s[i] = (float)(rng.NextDouble() - 0.5);
    }

    static double Median(List<double> xs) { xs.Sort(); return xs[xs.Count / 2]; }

    /// <summary>On a shared machine the fastest run is the best estimate of the undisturbed cost.</summary>
    static double Fastest(List<double> xs) => xs.Min();

    /// <summary>AdamW (the kernel the trainer uses) seconds per parameter, over 1M parameters.</summary>
    public static double MeasureUpdate()
    {
        const int n = 1 << 20;
        float[] p = new float[n], g = new float[n], m = new float[n], v = new float[n];
        Array.Fill(g, 0.01f);
        var times = new List<double>();
        for (int rep = 0; rep < 4; rep++)
        {
            var w = Stopwatch.StartNew();
            Kernels.AdamW.Step(p, g, m, v, n, 1e-3, 0.9, 0.999, 1e-8, 0.05, rep + 1);
            if (rep > 0) times.Add(w.Elapsed.TotalSeconds);
        }
        return Median(times) / n;
    }

    /// <summary>The in-process link: ping-pong through the bounded hand-off between two threads, at 1 float
    /// and at <paramref name="bigFloats"/> floats; latency = small one-way time, bandwidth from the difference.</summary>
    public static LinkCost MeasureInProcess(int bigFloats = 1 << 20, int rounds = 20)
    {
        double Once(int n)
        {
            var ab = new HandOff(1); var ba = new HandOff(1);
            var buf = new float[n]; var back = new float[n];
            var other = new Thread(() => { var x = new float[n]; for (int i = 0; i < rounds + 2; i++) { ab.Take(i, x, default); ba.Put(i, x, default); } });
            other.Start();
            var times = new List<double>();
            for (int i = 0; i < rounds + 2; i++)
            {
                var w = Stopwatch.StartNew();
                ab.Put(i, buf, default); ba.Take(i, back, default);
                if (i >= 2) times.Add(w.Elapsed.TotalSeconds / 2);
            }
            other.Join();
            return Median(times);
        }
        double small = Once(1), big = Once(bigFloats);
        double bw = bigFloats * 4.0 / Math.Max(1e-9, big - small);
        return new LinkCost("in-process hand-off", small, bw);
    }

    /// <summary>The MPI link between ranks 0 and 1 of <paramref name="comm"/> (other ranks wait): ping-pong like above.
    /// Every rank returns the same measurement.</summary>
    public static LinkCost MeasureMpi(MpiComm comm, int bigFloats = 1 << 20, int rounds = 20)
    {
        double Once(int n)
        {
            var buf = new float[n];
            var times = new List<double>();
            for (int i = 0; i < rounds + 2 && comm.Rank < 2 && comm.Size >= 2; i++)
            {
                var w = Stopwatch.StartNew();
                if (comm.Rank == 0) { comm.Send(buf, 1, 99); comm.Recv(buf, 1, 99); }
                else { comm.Recv(buf, 0, 99); comm.Send(buf, 0, 99); }
                if (i >= 2) times.Add(w.Elapsed.TotalSeconds / 2);
            }
            double[] t = [times.Count > 0 ? Median(times) : 0];
            comm.AllreduceMax(t);
            return t[0];
        }
        double small = Once(1), big = Once(bigFloats);
        return new LinkCost("MPI point-to-point", small, bigFloats * 4.0 / Math.Max(1e-9, big - small));
    }
}
