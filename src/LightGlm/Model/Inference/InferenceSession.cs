// Forward-only inference with a KV cache: prefill prompts with GEMMs over all their rows and the blocked attention
// kernel, decode one token per sequence with matrix-vector products (sgemv or the int8/int4 kernel) and AttentionDecode.
using System.Numerics.Tensors;
using LightGlm.Kernels;
using LightGlm.Model.Ops;

namespace LightGlm.Model.Inference;

/// <summary>
/// Runs rows through the model, each row = (slot, position, token); rows come in segments, a segment being consecutive
/// positions of one slot (a prompt, or one decoded token). K/V are appended to the cache before attention, so a
/// prompt's rows see each other under the GLM prefix mask. Prefill: the rows of several prompts in one GEMM per
/// projection; a prompt that starts an empty slot attends with <see cref="Attention.ForwardQkv"/> over its own rows.
/// Decode: one row per active slot, sgemv when there is one, <see cref="AttentionDecode"/> over the slot's cache.
/// Every buffer is sized once here; Prefill and Decode allocate nothing per token.
/// </summary>
public sealed class InferenceSession
{
    public InferenceWeights Weights { get; }
    public ModelConfig Config => Weights.Config;
    public KvCache Cache { get; }
    public int MaxRows { get; }
    readonly float[] _x, _ln, _qkv, _att, _branch, _gu, _act, _rstd, _out;
    readonly int[] _slots, _pos, _filled, _segRow, _one = new int[1], _prefix = new int[1];
    readonly ProjectionScratch _scratch;
    float[] _probs = [];
    int _segments;

    /// <summary>A session over a model's own fp32 weights (or <paramref name="weights"/> made from it).</summary>
    public InferenceSession(GlmModel model, int slots, int maxLength, int maxRows = 0, InferenceWeights? weights = null)
        : this(weights ?? InferenceWeights.Fp32(model), slots, maxLength, maxRows)
    {
        if (weights is not null && !SameShape(weights.Config, model.Config)) throw new ArgumentException("the inference weights were made from a model of another shape");
    }

    /// <summary>A session over any weight source: <paramref name="slots"/> sequences of up to <paramref name="maxLength"/> positions.</summary>
    public InferenceSession(InferenceWeights weights, int slots, int maxLength, int maxRows = 0)
    {
        if (slots < 1) throw new ArgumentOutOfRangeException(nameof(slots), slots, "an inference session needs at least one slot");
        Weights = weights;
        var c = weights.Config;
        Cache = new KvCache(c, slots, maxLength);
        MaxRows = Math.Max(maxRows > 0 ? maxRows : maxLength, slots);
        int R = MaxRows;
        _x = new float[R * c.C];
        _ln = new float[R * c.C];
        _qkv = new float[R * c.QkvDim];
        _att = new float[R * c.H * c.D];
        _branch = new float[R * c.C];
        _gu = new float[R * 2 * c.F];
        _act = new float[R * c.F];
        _rstd = new float[R];
        _out = new float[R * c.C];
        _slots = new int[R];
        _pos = new int[R];
        _segRow = new int[R + 1];
        _filled = new int[slots];
        _scratch = new ProjectionScratch(Math.Min(R, Projection.SmallRows), Weights.MaxPaddedIn);
    }

    internal static bool SameShape(ModelConfig a, ModelConfig b) => (a.C, a.L, a.V, a.H, a.KV, a.D, a.F) == (b.C, b.L, b.V, b.H, b.KV, b.D, b.F);

    /// <summary>
    /// Appends <paramref name="tokens"/> to <paramref name="slot"/> (from its current length) and writes the logits of the
    /// last token into <paramref name="logits"/> (V). With <paramref name="bidirectional"/> (GLM prefix LM), the whole
    /// prompt is the prefix: its tokens see each other.
    /// </summary>
    public void Prefill(int slot, ReadOnlySpan<int> tokens, Span<float> logits, bool bidirectional = false)
    {
        int n = tokens.Length;
        if (n == 0) throw new ArgumentException("empty prompt: prefill needs at least one token");
        CheckSlot(slot);
        if (bidirectional && n > MaxRows)
            throw new ArgumentException($"a bidirectional prompt of {n} tokens exceeds the session's {MaxRows} rows (its tokens must see each other in one pass)");
        int start = Cache.Length[slot];
        MarkPrefix(slot, start, n, bidirectional);
        for (int done = 0; done < n; done += MaxRows)
        {
            int rows = Math.Min(MaxRows, n - done);
            for (int r = 0; r < rows; r++) { _slots[r] = slot; _pos[r] = start + done + r; }
            _segRow[0] = 0; _segRow[1] = rows; _segments = 1;
            bool last = done + rows == n;
            Run(tokens.Slice(done, rows), rows, last ? logits : default);
        }
    }

    /// <summary>
    /// Prefills several prompts, each into its own (empty or not) slot, with one GEMM per projection over all their
    /// rows (as many prompts per pass as fit in <see cref="MaxRows"/>). Logits of each prompt's last token go to
    /// logits[i·V, (i+1)·V).
    /// </summary>
    public void Prefill(ReadOnlySpan<int> slots, IReadOnlyList<int[]> prompts, Span<float> logits, bool bidirectional = false)
    {
        int V = Config.V, S = slots.Length;
        if (prompts.Count != S) throw new ArgumentException($"{S} slots for {prompts.Count} prompts");
        if (logits.Length < S * V) throw new ArgumentException($"logits span holds {logits.Length} floats, needs {S}·{V}");
        var tokens = new int[Math.Min(MaxRows, prompts.Sum(p => p.Length))];
        int i = 0;
        while (i < S)
        {
            if (prompts[i].Length == 0) throw new ArgumentException($"prompt {i} is empty: prefill needs at least one token");
            if (prompts[i].Length > MaxRows) { Prefill(slots[i], prompts[i], logits.Slice(i * V, V), bidirectional); i++; continue; }
            int first = i, rows = 0;
            _segments = 0;
            for (; i < S && prompts[i].Length > 0 && rows + prompts[i].Length <= MaxRows; i++)
            {
                int slot = slots[i], n = prompts[i].Length;
                CheckSlot(slot);
                for (int k = first; k < i; k++)
                    if (slots[k] == slot) throw new ArgumentException($"slot {slot} appears twice in one prefill");
                int start = Cache.Length[slot];
                MarkPrefix(slot, start, n, bidirectional);
                _segRow[_segments++] = rows;
                for (int r = 0; r < n; r++) { _slots[rows + r] = slot; _pos[rows + r] = start + r; tokens[rows + r] = prompts[i][r]; }
                rows += n;
            }
            _segRow[_segments] = rows;
            Run(tokens.AsSpan(0, rows), rows, logits.Slice(first * V, (i - first) * V));
        }
    }

    /// <summary>One token for each of <paramref name="slots"/>; logits (slots.Length, V).</summary>
    public void Decode(ReadOnlySpan<int> slots, ReadOnlySpan<int> tokens, Span<float> logits)
    {
        int rows = slots.Length;
        if (rows > MaxRows) throw new ArgumentException($"{rows} sequences exceed the session's {MaxRows} rows");
        if (tokens.Length < rows) throw new ArgumentException($"{tokens.Length} tokens for {rows} sequences");
        for (int r = 0; r < rows; r++)
        {
            CheckSlot(slots[r]);
            for (int k = 0; k < r; k++)
                if (slots[k] == slots[r]) throw new ArgumentException($"slot {slots[r]} appears twice in one decode step");
            _slots[r] = slots[r]; _pos[r] = Cache.Length[slots[r]]; _segRow[r] = r;
        }
        _segRow[rows] = rows;
        _segments = rows;
        Run(tokens, rows, logits);
    }

    /// <summary>A bidirectional prompt makes keys [0, start + n) a prefix; a causal prompt into an empty slot clears a stale one.</summary>
    void MarkPrefix(int slot, int start, int n, bool bidirectional)
    {
        if (bidirectional) Cache.PrefixEnd[slot] = start + n;
        else if (start == 0) Cache.PrefixEnd[slot] = 0;
    }

    void CheckSlot(int slot)
    {
        if ((uint)slot >= (uint)Cache.Slots) throw new ArgumentOutOfRangeException(nameof(slot), slot, $"slot must be in [0, {Cache.Slots})");
    }

    /// <summary>Rows [0, rows) in segments _segRow; logits of each segment's last row (if requested).</summary>
    void Run(ReadOnlySpan<int> tokens, int rows, Span<float> logits)
    {
        var wts = Weights;
        var c = wts.Config;
        var rotary = wts.Rotary;
        int C = c.C, H = c.H, KV = c.KV, D = c.D, W = c.QkvDim, F = c.F, HD = H * D, V = c.V;
        float eps = (float)c.RmsNormEps;
        for (int r = 0; r < rows; r++)
        {
            if ((uint)tokens[r] >= (uint)V) throw new ArgumentException($"token id {tokens[r]} is outside the vocabulary [0, {V})");
            if (_pos[r] >= Cache.MaxLength) throw new InvalidOperationException($"sequence in slot {_slots[r]} reached the KV cache length {Cache.MaxLength}");
        }
        if (!logits.IsEmpty && logits.Length < _segments * V) throw new ArgumentException($"logits span holds {logits.Length} floats, needs {_segments}·{V}");
        for (int r = 0; r < rows; r++) _filled[_slots[r]] = Math.Max(Cache.Length[_slots[r]], _pos[r] + 1);
        var x = _x.AsSpan(0, rows * C);
        var ln = _ln.AsSpan(0, rows * C);
        var qkv = _qkv.AsSpan(0, rows * W);
        var att = _att.AsSpan(0, rows * HD);
        var branch = _branch.AsSpan(0, rows * C);
        var gu = _gu.AsSpan(0, rows * 2 * F);
        var act = _act.AsSpan(0, rows * F);
        wts.Embed(tokens[..rows], x);
        for (int l = 0; l < c.L; l++)
        {
            Pointwise.RmsNormForward(ln, _rstd, x, wts.InputNorm(l), rows, C, eps);
            wts.Qkv(l).Forward(qkv, ln, rows, _scratch);
            rotary.ApplyRows(qkv, _pos.AsSpan(0, rows), rows, H + KV, D, W); // the q and k heads of every row, in place (the training forward's kernel)
            for (int r = 0; r < rows; r++)
            {
                var row = qkv.Slice(r * W, W);
                int off = Cache.Offset(l, _slots[r], _pos[r]);
                row.Slice(HD, KV * D).CopyTo(Cache.K.AsSpan(off, KV * D));
                row.Slice(HD + KV * D, KV * D).CopyTo(Cache.V.AsSpan(off, KV * D));
            }
            Attend(l);
            wts.O(l).Forward(branch, att, rows, _scratch);
            TensorPrimitives.Add(x, branch, x);
            Pointwise.RmsNormForward(ln, _rstd, x, wts.PostNorm(l), rows, C, eps);
            wts.GateUp(l).Forward(gu, ln, rows, _scratch);
            Pointwise.SwiGluForward(act, gu, rows, F);
            wts.Down(l).Forward(branch, act, rows, _scratch);
            TensorPrimitives.Add(x, branch, x);
        }
        for (int r = 0; r < rows; r++) Cache.Length[_slots[r]] = _filled[_slots[r]];
        if (logits.IsEmpty) return;
        // Final norm of each segment's last row, then the head over those rows (sgemv for one).
        int S = _segments;
        for (int s = 0; s < S; s++) x.Slice((_segRow[s + 1] - 1) * C, C).CopyTo(_out.AsSpan(s * C, C));
        Pointwise.RmsNormForward(_ln.AsSpan(0, S * C), _rstd, _out.AsSpan(0, S * C), wts.FinalNorm, S, C, eps);
        wts.Head.Forward(logits[..(S * V)], _ln.AsSpan(0, S * C), S, _scratch);
    }

    /// <summary>
    /// Attention of every row. A segment that fills an empty slot from position 0 is a whole prompt: blocked attention
    /// over its own q/k/v rows (prefix mask = the slot's PrefixEnd). Any other row (decode, or a prompt appended to a
    /// filled slot) attends over its slot's cache [0, visible), visible = max(pos + 1, prefix end) ≤ filled.
    /// </summary>
    void Attend(int layer)
    {
        var c = Config;
        int H = c.H, KV = c.KV, D = c.D, W = c.QkvDim, HD = H * D, L = Cache.MaxLength, KD = KV * D;
        for (int s = 0; s < _segments; s++)
        {
            int r0 = _segRow[s], n = _segRow[s + 1] - r0, slot = _slots[r0];
            if (n > 1 && _pos[r0] == 0)
            {
                _prefix[0] = Math.Min(Cache.PrefixEnd[slot], n);
                long need = (long)H * n * n;
                if (_probs.Length < need) _probs = new float[need]; // grows to the longest prompt once
                Kernels.Attention.ForwardQkv(_att.AsSpan(r0 * HD, n * HD), _probs.AsSpan(0, (int)need), _qkv.AsSpan(r0 * W, n * W),
                    1, n, H, KV, D, _prefix);
                continue;
            }
            var k = Cache.K.AsSpan(Cache.Offset(layer, slot, 0), L * KD);
            var v = Cache.V.AsSpan(Cache.Offset(layer, slot, 0), L * KD);
            for (int r = r0; r < r0 + n; r++)
            {
                _one[0] = Math.Min(Math.Max(_pos[r] + 1, Cache.PrefixEnd[slot]), _filled[slot]);
                AttentionDecode.Forward(_att.AsSpan(r * HD, HD), _qkv.AsSpan(r * W, HD), k, v, _one, default, 1, L, H, KV, D);
            }
        }
    }
}
