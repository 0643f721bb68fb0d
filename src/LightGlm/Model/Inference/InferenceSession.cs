// Forward-only inference with a KV cache: prefill a prompt with GEMM, decode one token per sequence with GEMV.
using System.Numerics.Tensors;
using LightGlm.Model.Ops;

namespace LightGlm.Model.Inference;

/// <summary>
/// Runs rows through the model, each row = (slot, position, token), appending K/V to the cache before attention so a
/// prompt's rows can see each other under the GLM prefix mask. Prefill: many rows of one slot (GEMM over rows).
/// Decode: one row per active slot (GEMV when a single row, GEMM over the slots otherwise). Buffers are sized once.
/// </summary>
public sealed class InferenceSession
{
    public GlmModel Model { get; }
    public KvCache Cache { get; }
    readonly int _maxRows;
    readonly float[] _x, _ln, _qkv, _att, _branch, _gu, _act, _scores, _normLast;
    readonly int[] _slots, _pos, _filled;

    public InferenceSession(GlmModel model, int slots, int maxLength, int maxRows = 0)
    {
        Model = model;
        var c = model.Config;
        Cache = new KvCache(c, slots, maxLength);
        _maxRows = Math.Max(maxRows > 0 ? maxRows : maxLength, slots);
        _x = new float[_maxRows * c.C];
        _ln = new float[_maxRows * c.C];
        _qkv = new float[_maxRows * c.QkvDim];
        _att = new float[_maxRows * c.H * c.D];
        _branch = new float[_maxRows * c.C];
        _gu = new float[_maxRows * 2 * c.F];
        _act = new float[_maxRows * c.F];
        _scores = new float[_maxRows * c.H * maxLength];
        _normLast = new float[_maxRows * c.C];
        _slots = new int[_maxRows];
        _pos = new int[_maxRows];
        _filled = new int[slots];
    }

    /// <summary>
    /// Appends <paramref name="tokens"/> to <paramref name="slot"/> (from its current length) and writes the logits of the
    /// last token into <paramref name="logits"/> (V). With <paramref name="bidirectional"/> (GLM prefix LM), the whole
    /// prompt is the prefix: its tokens see each other.
    /// </summary>
    public void Prefill(int slot, ReadOnlySpan<int> tokens, Span<float> logits, bool bidirectional = false)
    {
        int n = tokens.Length;
        if (n == 0) throw new ArgumentException("empty prompt: prefill needs at least one token");
        int start = Cache.Length[slot];
        for (int done = 0; done < n; done += _maxRows)
        {
            int rows = Math.Min(_maxRows, n - done);
            for (int r = 0; r < rows; r++) { _slots[r] = slot; _pos[r] = start + done + r; }
            if (bidirectional && done == 0) Cache.PrefixEnd[slot] = start + n;
            bool last = done + rows == n;
            Run(tokens.Slice(done, rows), rows, last ? logits : default, lastRowOnly: true);
        }
    }

    /// <summary>One token for each of <paramref name="slots"/>; logits (slots.Length, V).</summary>
    public void Decode(ReadOnlySpan<int> slots, ReadOnlySpan<int> tokens, Span<float> logits)
    {
        int rows = slots.Length;
        if (rows > _maxRows) throw new ArgumentException($"{rows} sequences exceed the session's {_maxRows} rows");
        for (int r = 0; r < rows; r++) { _slots[r] = slots[r]; _pos[r] = Cache.Length[slots[r]]; }
        Run(tokens, rows, logits, lastRowOnly: false);
    }

    void Run(ReadOnlySpan<int> tokens, int rows, Span<float> logits, bool lastRowOnly)
    {
        var m = Model;
        var c = m.Config;
        int C = c.C, H = c.H, KV = c.KV, D = c.D, W = c.QkvDim, F = c.F, HD = H * D, V = c.V;
        float eps = (float)c.RmsNormEps;
        var lo = m.Layout;
        for (int r = 0; r < rows; r++)
        {
            if ((uint)tokens[r] >= (uint)V) throw new ArgumentException($"token id {tokens[r]} is outside the vocabulary [0, {V})");
            if (_pos[r] >= Cache.MaxLength) throw new InvalidOperationException($"sequence in slot {_slots[r]} reached the KV cache length {Cache.MaxLength}");
        }
        for (int r = 0; r < rows; r++) _filled[_slots[r]] = Cache.Length[_slots[r]];
        for (int r = 0; r < rows; r++) _filled[_slots[r]] = Math.Max(_filled[_slots[r]], _pos[r] + 1);
        var x = _x.AsSpan(0, rows * C);
        Pointwise.EmbeddingForward(x, tokens[..rows], m.W(lo.Embedding, V * C), C);
        var xv = new TensorView(_x, 0, rows * C);
        var lnv = new TensorView(_ln, 0, rows * C);
        var qkvv = new TensorView(_qkv, 0, rows * W);
        var attv = new TensorView(_att, 0, rows * HD);
        var brv = new TensorView(_branch, 0, rows * C);
        var guv = new TensorView(_gu, 0, rows * 2 * F);
        var actv = new TensorView(_act, 0, rows * F);
        for (int l = 0; l < c.L; l++)
        {
            var o = lo.Blocks[l];
            Pointwise.RmsNormForward(lnv, _normLast, x, m.W(o.InputNorm, C), rows, C, eps);
            Project(qkvv, lnv, m.W(o.Qkv, W * C), o.QkvBias >= 0 ? m.W(o.QkvBias, W) : default, rows, C, W);
            for (int r = 0; r < rows; r++)
            {
                var row = _qkv.AsSpan(r * W, W);
                m.Rotary.Apply(row[..((H + KV) * D)], H + KV, D, _pos[r]);
                int off = Cache.Offset(l, _slots[r], _pos[r]);
                row.Slice(HD, KV * D).CopyTo(Cache.K.AsSpan(off, KV * D));
                row.Slice(HD + KV * D, KV * D).CopyTo(Cache.V.AsSpan(off, KV * D));
            }
            Attend(l, rows);
            Project(brv, attv, m.W(o.O, C * HD), default, rows, HD, C);
            TensorPrimitives.Add(x, _branch.AsSpan(0, rows * C), x);
            Pointwise.RmsNormForward(lnv, _normLast, x, m.W(o.PostNorm, C), rows, C, eps);
            Project(guv, lnv, m.W(o.GateUp, 2 * F * C), default, rows, C, 2 * F);
            Pointwise.SwiGluForward(actv, guv, rows, F);
            Project(brv, actv, m.W(o.Down, C * F), default, rows, F, C);
            TensorPrimitives.Add(x, _branch.AsSpan(0, rows * C), x);
        }
        for (int r = 0; r < rows; r++) Cache.Length[_slots[r]] = _filled[_slots[r]];
        if (logits.IsEmpty) return;
        int first = lastRowOnly ? rows - 1 : 0, outRows = rows - first;
        var normed = new TensorView(_ln, 0, outRows * C);
        Pointwise.RmsNormForward(normed, _normLast, x.Slice(first * C, outRows * C), m.W(lo.FinalNorm, C), outRows, C, eps);
        if (logits.Length < outRows * V) throw new ArgumentException($"logits span holds {logits.Length} floats, needs {outRows}·{V}");
        if (outRows == 1) Gemm.Gemv(logits[..V], m.W(lo.LmHead, V * C), _ln.AsSpan(0, C), V, C);
        else
        {
            // logits (outRows, V) through a row-major GEMM into a view of the caller's span is not possible (spans are not
            // capturable); decode batches are small, so one GEMV per row keeps this allocation-free.
            for (int r = 0; r < outRows; r++) Gemm.Gemv(logits.Slice(r * V, V), m.W(lo.LmHead, V * C), _ln.AsSpan(r * C, C), V, C);
        }
    }

    /// <summary>y (rows, Out) = x·Wᵀ + b: GEMV for a single row (decode), GEMM otherwise.</summary>
    static void Project(TensorView y, TensorView x, TensorView w, TensorView b, int rows, int In, int Out)
    {
        if (rows == 1)
        {
            Gemm.Gemv(y.Span[..Out], w, x.Span[..In], Out, In);
            if (!b.IsEmpty) TensorPrimitives.Add(y.Span[..Out], b.Span, y.Span[..Out]);
        }
        else Linear.Forward(y, x, w, b, rows, In, Out);
    }

    /// <summary>Each row's query heads over its slot's cached keys [0, visible), visible = max(pos + 1, prefix end).</summary>
    void Attend(int layer, int rows)
    {
        var c = Model.Config;
        int H = c.H, KV = c.KV, D = c.D, W = c.QkvDim, group = H / KV, L = Cache.MaxLength;
        float scale = 1f / MathF.Sqrt(D);
        Parallelism.For(rows * H, (long)Cache.MaxLength * D, rh =>
        {
            int r = rh / H, h = rh % H, kvh = h / group, slot = _slots[r];
            int visible = Math.Min(Math.Max(_pos[r] + 1, Cache.PrefixEnd[slot]), _filled[slot]);
            var q = _qkv.AsSpan(r * W + h * D, D);
            var s = _scores.AsSpan(rh * L, visible);
            float max = float.NegativeInfinity;
            for (int j = 0; j < visible; j++)
            {
                s[j] = scale * TensorPrimitives.Dot(q, Cache.K.AsSpan(Cache.Offset(layer, slot, j) + kvh * D, D));
                if (s[j] > max) max = s[j];
            }
            float sum = 0;
            for (int j = 0; j < visible; j++) { s[j] = MathF.Exp(s[j] - max); sum += s[j]; }
            var o = _att.AsSpan(r * H * D + h * D, D);
            o.Clear();
            float inv = 1f / sum;
            for (int j = 0; j < visible; j++)
                TensorPrimitives.MultiplyAdd(Cache.V.AsSpan(Cache.Offset(layer, slot, j) + kvh * D, D), s[j] * inv, o, o);
        });
    }
}
