// Inference over LinearOps (fp32 or int8/int4) with a KV cache: prefill with matrix products, decode with matrix-vector ones.
using System.Numerics.Tensors;
using LightGlm.Kernels.Quantized;
using static LightGlm.Compression.TensorNames;

namespace LightGlm.Compression.Quantization;

/// <summary>
/// One sequence, the contract's math (as <see cref="Importance.ReferenceForward"/>), every linear map behind a
/// <see cref="LinearOp"/> so the same code measures teacher, pruned student and quantized student (llama2.c's runq idea:
/// a sibling of the fp32 path, not a flag inside it). Embeddings and norms stay fp32.
/// </summary>
public sealed class CompactDecoder
{
    readonly ModelShape _t;
    readonly float[] _embed, _finalNorm;
    readonly float[][] _n1, _n2;
    readonly LinearOp[][] _lin; // per layer: q, k, v, o, gate, up, down
    readonly LinearOp _head;
    readonly float[][] _kCache, _vCache;
    readonly float[] _cos, _sin;
    readonly int _maxT;
    public int Length { get; private set; }

    /// <summary>Weight bytes of the linear maps + fp32 embeddings and norms: the model's inference memory for weights.</summary>
    public long WeightBytes { get; }

    public CompactDecoder(ModelFiles m, QuantFormat? format = null, int groupSize = 32, int maxT = 512)
    {
        _t = m.Shape;
        var w = m.Weights;
        int C = _t.C, D = _t.D;
        _maxT = maxT;
        LinearOp Op(string name, string? bias = null)
        {
            var t = w.Get(name);
            var b = bias is null ? null : w.TryGet(bias)?.Data;
            return format is { } f ? new QuantizedLinearOp(QuantizedMatrix.Quantize(t.Data, t.Rows, t.Cols, f, groupSize), b) : new Fp32Linear(t.Data, t.Rows, t.Cols, b);
        }
        _embed = w.Get(Embed, _t.V, C).Data;
        _finalNorm = w.Get(FinalNorm, C).Data;
        _n1 = Enumerable.Range(0, _t.L).Select(l => w.Get(InputNorm(l), C).Data).ToArray();
        _n2 = Enumerable.Range(0, _t.L).Select(l => w.Get(PostNorm(l), C).Data).ToArray();
        _lin = Enumerable.Range(0, _t.L).Select(l => new[]
        {
            Op(Q(l), QBias(l)), Op(K(l), KBias(l)), Op(TensorNames.V(l), VBias(l)), Op(O(l)), Op(Gate(l)), Op(Up(l)), Op(Down(l)),
        }).ToArray();
        _head = Op(w.Contains(LmHead) ? LmHead : Embed);
        _kCache = Enumerable.Range(0, _t.L).Select(_ => new float[maxT * _t.KV * D]).ToArray();
        _vCache = Enumerable.Range(0, _t.L).Select(_ => new float[maxT * _t.KV * D]).ToArray();
        int half = _t.R / 2;
        _cos = new float[maxT * half];
        _sin = new float[maxT * half];
        for (int p = 0; p < maxT; p++)
            for (int j = 0; j < half; j++)
            {
                double a = p * Math.Pow(_t.RopeTheta, -2.0 * j / _t.R);
                _cos[p * half + j] = (float)Math.Cos(a);
                _sin[p * half + j] = (float)Math.Sin(a);
            }
        WeightBytes = _lin.Sum(ls => ls.Sum(o => o.Bytes)) + (w.Contains(LmHead) ? _head.Bytes : 0) + (long)_embed.Length * 4
                      + (long)(_t.L * 2 + 1) * C * 4;
    }

    public void Reset() => Length = 0;

    /// <summary>Appends tokens (causal) and returns the logits of the last one (V).</summary>
    public float[] Forward(ReadOnlySpan<int> tokens)
    {
        int n = tokens.Length, C = _t.C, H = _t.H, KV = _t.KV, D = _t.D, F = _t.F;
        if (n == 0 || Length + n > _maxT) throw new ArgumentException($"{n} tokens after {Length} exceed the decoder's {_maxT} positions");
        var x = new float[n * C];
        for (int i = 0; i < n; i++) _embed.AsSpan(tokens[i] * C, C).CopyTo(x.AsSpan(i * C));
        var h = new float[n * C];
        var q = new float[n * H * D]; var k = new float[n * KV * D]; var v = new float[n * KV * D];
        var att = new float[n * H * D]; var a = new float[n * C];
        var g = new float[n * F]; var u = new float[n * F];
        for (int l = 0; l < _t.L; l++)
        {
            var ops = _lin[l];
            Norm(x, n, _n1[l], h);
            Apply(ops[0], h, n, q); Apply(ops[1], h, n, k); Apply(ops[2], h, n, v);
            for (int i = 0; i < n; i++) { Rope(q, i, H, Length + i); Rope(k, i, KV, Length + i); }
            k.CopyTo(_kCache[l].AsSpan(Length * KV * D));
            v.CopyTo(_vCache[l].AsSpan(Length * KV * D));
            Attend(l, q, n, att);
            Apply(ops[3], att, n, a);
            TensorPrimitives.Add(x, a, x);
            Norm(x, n, _n2[l], h);
            Apply(ops[4], h, n, g); Apply(ops[5], h, n, u);
            for (int i = 0; i < g.Length; i++) g[i] = g[i] / (1 + MathF.Exp(-g[i])) * u[i];
            Apply(ops[6], g, n, a);
            TensorPrimitives.Add(x, a, x);
        }
        Length += n;
        var last = new float[C];
        Norm(x.AsSpan((n - 1) * C, C).ToArray(), 1, _finalNorm, last);
        var logits = new float[_t.V];
        _head.MatVec(last, logits);
        return logits;
    }

    static void Apply(LinearOp op, float[] x, int n, float[] y)
    {
        if (n == 1) op.MatVec(x.AsSpan(0, op.Cols), y.AsSpan(0, op.Rows));
        else op.MatMul(x, n, y);
    }

    void Norm(float[] x, int n, float[] w, float[] o)
    {
        int C = _t.C;
        for (int i = 0; i < n; i++)
        {
            var row = x.AsSpan(i * C, C);
            float inv = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(row) / C + (float)_t.Eps);
            TensorPrimitives.Multiply(row, inv, o.AsSpan(i * C, C));
            TensorPrimitives.Multiply(o.AsSpan(i * C, C), w, o.AsSpan(i * C, C));
        }
    }

    void Rope(float[] x, int row, int heads, int pos)
    {
        int D = _t.D, half = _t.R / 2;
        var rot = new Pruning.RotaryChannels(D, _t.R, _t.RopeInterleaved);
        for (int hh = 0; hh < heads; hh++)
        {
            int o = (row * heads + hh) * D;
            for (int j = 0; j < half; j++)
            {
                var (ia, ib) = rot.Pair(j);
                float c = _cos[pos * half + j], s = _sin[pos * half + j], x0 = x[o + ia], x1 = x[o + ib];
                x[o + ia] = x0 * c - x1 * s;
                x[o + ib] = x0 * s + x1 * c;
            }
        }
    }

    void Attend(int l, float[] q, int n, float[] att)
    {
        int H = _t.H, KV = _t.KV, D = _t.D, group = H / KV;
        float scale = 1f / MathF.Sqrt(D);
        var kc = _kCache[l]; var vc = _vCache[l];
        Parallel.For(0, H, hh =>
        {
            int g = hh / group;
            var p = new float[Length + n];
            for (int i = 0; i < n; i++)
            {
                int visible = Length + i + 1;
                var qi = q.AsSpan((i * H + hh) * D, D);
                for (int j = 0; j < visible; j++) p[j] = TensorPrimitives.Dot(qi, kc.AsSpan((j * KV + g) * D, D)) * scale;
                TensorPrimitives.SoftMax(p.AsSpan(0, visible), p.AsSpan(0, visible));
                var o = att.AsSpan((i * H + hh) * D, D);
                o.Clear();
                for (int j = 0; j < visible; j++) TensorPrimitives.MultiplyAdd(vc.AsSpan((j * KV + g) * D, D), p[j], o, o);
            }
        });
    }
}
