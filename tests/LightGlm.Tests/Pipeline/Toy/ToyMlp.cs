// A small MLP classifier (Linear+tanh layers, a Linear head, softmax cross-entropy) used to
// prove schedules and transports before and besides the real model: cheap, exact, splittable.
using System.Numerics.Tensors;

using LightGlm.Pipeline;

namespace LightGlm.Tests.Pipeline.Toy;

/// <summary>Rows of features and class labels.</summary>
public sealed record ToyBatch(float[] X, int[] Y, int Features)
{
    public int Rows => Y.Length;

    /// <summary>A deterministic random batch (features ~ U(−1,1), labels from a fixed teacher rule).</summary>
    public static ToyBatch Random(int rows, int features, int classes, int seed)
    {
        var rng = new Random(seed);
        var x = new float[rows * features];
        var y = new int[rows];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        for (int r = 0; r < rows; r++)
        {
            double s = 0;
            for (int j = 0; j < features; j++) s += x[r * features + j] * (j % 3 - 1);
            y[r] = (int)Math.Abs(Math.Floor(s * 2)) % classes;
        }
        return new ToyBatch(x, y, features);
    }
}

/// <summary>Weights of the MLP in one flat arena; layer i is W_i (out×in, row-major) then b_i (out).
/// Layers 0..L−2 apply tanh; layer L−1 is the head whose logits feed the loss.</summary>
public sealed class ToyMlp
{
    public int[] Widths { get; }
    public float[] Parameters { get; }
    readonly int[] _offset;

    public int Layers => Widths.Length - 1;
    public int Classes => Widths[^1];

    public ToyMlp(int[] widths, int seed)
    {
        if (widths.Length < 2) throw new ArgumentException("an MLP needs at least input and output widths");
        Widths = widths;
        _offset = new int[widths.Length];
        for (int i = 0; i < Layers; i++) _offset[i + 1] = _offset[i] + widths[i + 1] * widths[i] + widths[i + 1];
        Parameters = new float[_offset[Layers]];
        var rng = new Random(seed);
        for (int i = 0; i < Layers; i++)
        {
            float scale = 1f / MathF.Sqrt(widths[i]);
            var w = Parameters.AsSpan(_offset[i], widths[i + 1] * widths[i]);
            for (int k = 0; k < w.Length; k++) w[k] = (float)(rng.NextDouble() * 2 - 1) * scale;
        }
    }

    ToyMlp(int[] widths, int[] offset, float[] parameters) { Widths = widths; _offset = offset; Parameters = parameters; }

    public ToyMlp Clone() => new(Widths, _offset, (float[])Parameters.Clone());

    /// <summary>Offset of layer i's parameters in <see cref="Parameters"/>; ParameterOffset(Layers) = total.</summary>
    public int ParameterOffset(int layer) => _offset[layer];

    /// <summary>y (rows, out) = x (rows, in) · Wᵀ + b, then tanh unless it is the head.</summary>
    internal void LayerForward(int layer, ReadOnlySpan<float> x, Span<float> y, int rows)
    {
        int nIn = Widths[layer], nOut = Widths[layer + 1];
        var w = Parameters.AsSpan(_offset[layer], nOut * nIn);
        var b = Parameters.AsSpan(_offset[layer] + nOut * nIn, nOut);
        for (int r = 0; r < rows; r++)
        {
            var xr = x.Slice(r * nIn, nIn);
            for (int o = 0; o < nOut; o++) y[r * nOut + o] = TensorPrimitives.Dot(xr, w.Slice(o * nIn, nIn)) + b[o];
        }
        if (layer < Layers - 1) TensorPrimitives.Tanh(y[..(rows * nOut)], y[..(rows * nOut)]);
    }

    /// <summary>Inverts LayerForward: dz = dy ⊙ (1 − y²) (tanh layers); dW += dzᵀ·x; db += Σ_rows dz;
    /// dx = dz · W. <paramref name="dy"/> is overwritten with dz. <paramref name="grads"/> holds parameters from offset <paramref name="gradBase"/> on.</summary>
    internal void LayerBackward(int layer, ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> dy, Span<float> dx, Span<float> grads, int rows, int gradBase = 0)
    {
        int nIn = Widths[layer], nOut = Widths[layer + 1];
        var w = Parameters.AsSpan(_offset[layer], nOut * nIn);
        var dw = grads.Slice(_offset[layer] - gradBase, nOut * nIn);
        var db = grads.Slice(_offset[layer] - gradBase + nOut * nIn, nOut);
        if (layer < Layers - 1)
            for (int i = 0; i < rows * nOut; i++) dy[i] *= 1 - y[i] * y[i];
        if (!dx.IsEmpty) dx[..(rows * nIn)].Clear();
        for (int r = 0; r < rows; r++)
        {
            var xr = x.Slice(r * nIn, nIn);
            for (int o = 0; o < nOut; o++)
            {
                float g = dy[r * nOut + o];
                db[o] += g;
                TensorPrimitives.MultiplyAdd(xr, g, dw.Slice(o * nIn, nIn), dw.Slice(o * nIn, nIn));
                if (!dx.IsEmpty) TensorPrimitives.MultiplyAdd(w.Slice(o * nIn, nIn), g, dx.Slice(r * nIn, nIn), dx.Slice(r * nIn, nIn));
            }
        }
    }

    /// <summary>Softmax cross-entropy of logits (rows, V) against labels, divided by <paramref name="normaliser"/>
    /// (the global row count). Writes dlogits = (softmax − onehot)/normaliser into <paramref name="dLogits"/>.</summary>
    internal static double CrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, Span<float> dLogits, int classes, int normaliser)
    {
        double loss = 0;
        for (int r = 0; r < labels.Length; r++)
        {
            var z = logits.Slice(r * classes, classes);
            var p = dLogits.Slice(r * classes, classes);
            TensorPrimitives.SoftMax(z, p);
            loss -= Math.Log(Math.Max(p[labels[r]], 1e-30f));
            p[labels[r]] -= 1;
            TensorPrimitives.Divide(p, normaliser, p);
        }
        return loss / normaliser;
    }

    /// <summary>Single-process reference: mean loss of the whole batch and its gradient (layout of
    /// <see cref="Parameters"/>) in one forward and one backward, no pipeline, no micro-batches.</summary>
    public double LossAndGradients(ToyBatch batch, float[] grads)
    {
        int rows = batch.Rows;
        Array.Clear(grads);
        var acts = new float[Layers + 1][];
        acts[0] = batch.X;
        for (int i = 0; i < Layers; i++)
        {
            acts[i + 1] = new float[rows * Widths[i + 1]];
            LayerForward(i, acts[i], acts[i + 1], rows);
        }
        var dy = new float[rows * Classes];
        double loss = CrossEntropy(acts[Layers], batch.Y, dy, Classes, rows);
        for (int i = Layers - 1; i >= 0; i--)
        {
            var dx = i > 0 ? new float[rows * Widths[i]] : [];
            LayerBackward(i, acts[i], acts[i + 1], dy, dx, grads, rows);
            dy = dx;
        }
        return loss;
    }

    /// <summary>Plain SGD on the parameter range [from, to): w −= lr·g.</summary>
    public void Sgd(ReadOnlySpan<float> grads, float lr, int from, int to)
    {
        var w = Parameters.AsSpan(from, to - from);
        TensorPrimitives.MultiplyAdd(grads[..(to - from)], -lr, w, w);
    }
}
