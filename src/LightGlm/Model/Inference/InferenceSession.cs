// Forward-only inference with a KV cache: prefill prompts with GEMMs over all their rows and the blocked attention
// kernel, decode one token per sequence with matrix-vector products (sgemv or the int8/int4 kernel) and AttentionDecode.
// Importance scoring runs here too: whole sequences (every position's logits), block by block, under a structure mask,
// with an observer that reads each block's activations.
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
/// <see cref="Observer"/> and <see cref="Mask"/> cost one null check per block when unset.
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
    float[] _probs = [], _xIn = [];
    int _segments;
    IBlockObserver? _observer;
    StructureMask? _mask;

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

    /// <summary>Called with each block's activations on every pass (importance scoring); null = none.</summary>
    public IBlockObserver? Observer
    {
        get => _observer;
        set
        {
            if (value is not null && _xIn.Length < _x.Length) _xIn = new float[_x.Length]; // x_in of Block, once
            _observer = value;
        }
    }

    /// <summary>Structures masked out on every pass (<see cref="StructureMask"/>); null = the whole model.</summary>
    public StructureMask? Mask
    {
        get => _mask;
        set
        {
            var c = Config;
            if (value is not null && value.Shape != (c.L, c.C, c.H, c.KV, c.D, c.F))
                throw new ArgumentException($"a structure mask for (L, C, H, KV, D, F) = {value.Shape} does not fit this model's {(c.L, c.C, c.H, c.KV, c.D, c.F)}");
            _mask = value;
        }
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

    /// <summary>
    /// One whole sequence from position 0 in slot 0 (which is reset): tokens [0, prefix) see each other (the GLM prefix
    /// mask; a prefix beyond the sequence covers all of it), the rest are causal. Writes the logits of every position
    /// into <paramref name="logits"/> (n, V), or none when it is empty (a pass for the observer only).
    /// </summary>
    public void ForwardSequence(ReadOnlySpan<int> tokens, int prefix, Span<float> logits)
    {
        int n = tokens.Length, V = Config.V;
        CheckSequence(n, prefix);
        if (!logits.IsEmpty && logits.Length < n * V) throw new ArgumentException($"logits span holds {logits.Length} floats, needs {n}·{V}");
        StartSequence(n, prefix);
        Run(tokens, n, logits, everyRow: true);
    }

    /// <summary>x (n, C) = the embedding rows of <paramref name="tokens"/> (masked hidden channels zero): the input of <see cref="ForwardBlock"/>.</summary>
    public void Embed(ReadOnlySpan<int> tokens, Span<float> x)
    {
        int C = Config.C, V = Config.V;
        if (x.Length != tokens.Length * C) throw new ArgumentException($"x holds {x.Length} floats; {tokens.Length} tokens need {tokens.Length}·{C}");
        for (int r = 0; r < tokens.Length; r++)
            if ((uint)tokens[r] >= (uint)V) throw new ArgumentException($"token id {tokens[r]} at position {r} is outside the vocabulary [0, {V})");
        Weights.Embed(tokens, x);
        _mask?.ZeroHidden(x, tokens.Length);
    }

    /// <summary>
    /// x (n, C) ← block <paramref name="layer"/>(x) in place, for a sequence from position 0 (prefix as in
    /// <see cref="ForwardSequence"/>; uses slot 0). With <see cref="Embed"/> and <see cref="Logits"/> this runs a model
    /// block by block: all sequences through block l before block l + 1 reads only that block's weights (a mapped teacher).
    /// </summary>
    public void ForwardBlock(int layer, Span<float> x, int prefix)
    {
        int C = Config.C;
        if ((uint)layer >= (uint)Config.L) throw new ArgumentOutOfRangeException(nameof(layer), layer, $"layer must be in [0, {Config.L})");
        if (x.Length == 0 || x.Length % C != 0) throw new ArgumentException($"x holds {x.Length} floats: not a whole number (≥ 1) of rows of {C}");
        int n = x.Length / C;
        CheckSequence(n, prefix);
        StartSequence(n, prefix);
        x.CopyTo(_x);
        Block(layer, n);
        _x.AsSpan(0, n * C).CopyTo(x);
        Cache.Reset(0);
    }

    /// <summary>logits (n, V) of the residual stream x (n, C): the final RMSNorm and the LM head over every row.</summary>
    public void Logits(ReadOnlySpan<float> x, Span<float> logits)
    {
        int C = Config.C, V = Config.V, n = x.Length / C;
        if (x.Length % C != 0) throw new ArgumentException($"x holds {x.Length} floats: not a whole number of rows of {C}");
        if (logits.Length < n * V) throw new ArgumentException($"logits span holds {logits.Length} floats, needs {n}·{V}");
        for (int r0 = 0; r0 < n; r0 += MaxRows)
        {
            int rows = Math.Min(MaxRows, n - r0);
            x.Slice(r0 * C, rows * C).CopyTo(_out);
            Head(_out.AsSpan(0, rows * C), rows, logits.Slice(r0 * V, rows * V));
        }
    }

    void CheckSequence(int n, int prefix)
    {
        if (n == 0) throw new ArgumentException("empty sequence: a forward pass needs at least one token");
        if (n > MaxRows || n > Cache.MaxLength)
            throw new ArgumentException($"a sequence of {n} tokens exceeds the session's {Math.Min(MaxRows, Cache.MaxLength)} rows (all its rows run in one pass)");
        if (prefix < 0) throw new ArgumentOutOfRangeException(nameof(prefix), prefix, "the prefix length must be ≥ 0");
    }

    /// <summary>Rows [0, n) = positions 0..n−1 of slot 0, one segment, keys [0, prefix) a prefix.</summary>
    void StartSequence(int n, int prefix)
    {
        Cache.Reset(0);
        Cache.PrefixEnd[0] = Math.Min(prefix, n);
        for (int r = 0; r < n; r++) { _slots[r] = 0; _pos[r] = r; }
        _segRow[0] = 0; _segRow[1] = n; _segments = 1;
        _filled[0] = n;
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

    /// <summary>Rows [0, rows) in segments _segRow; logits of each segment's last row, or of every row (if requested).</summary>
    void Run(ReadOnlySpan<int> tokens, int rows, Span<float> logits, bool everyRow = false)
    {
        var c = Config;
        int C = c.C, V = c.V;
        for (int r = 0; r < rows; r++)
        {
            if ((uint)tokens[r] >= (uint)V) throw new ArgumentException($"token id {tokens[r]} is outside the vocabulary [0, {V})");
            if (_pos[r] >= Cache.MaxLength) throw new InvalidOperationException($"sequence in slot {_slots[r]} reached the KV cache length {Cache.MaxLength}");
        }
        if (!everyRow && !logits.IsEmpty && logits.Length < _segments * V) throw new ArgumentException($"logits span holds {logits.Length} floats, needs {_segments}·{V}");
        for (int r = 0; r < rows; r++) _filled[_slots[r]] = Math.Max(Cache.Length[_slots[r]], _pos[r] + 1);
        var x = _x.AsSpan(0, rows * C);
        Weights.Embed(tokens[..rows], x);
        _mask?.ZeroHidden(x, rows);
        for (int l = 0; l < c.L; l++) Block(l, rows);
        for (int r = 0; r < rows; r++) Cache.Length[_slots[r]] = _filled[_slots[r]];
        if (logits.IsEmpty) return;
        if (everyRow) { Head(x, rows, logits); return; }
        // Final norm of each segment's last row, then the head over those rows (sgemv for one).
        int S = _segments;
        for (int s = 0; s < S; s++) x.Slice((_segRow[s + 1] - 1) * C, C).CopyTo(_out.AsSpan(s * C, C));
        Head(_out.AsSpan(0, S * C), S, logits);
    }

    /// <summary>logits (n, V) = LM head(RMSNorm(x)·w_final) of n ≤ MaxRows rows.</summary>
    void Head(ReadOnlySpan<float> x, int n, Span<float> logits)
    {
        var ln = _ln.AsSpan(0, n * Config.C);
        Norm(ln, x, Weights.FinalNorm, n);
        Weights.Head.Forward(logits[..(n * Config.V)], ln, n, _scratch);
    }

    /// <summary>
    /// x ← x + attention(RMSNorm(x)·w1) + FFN(RMSNorm(·)·w2) over rows [0, rows) of _x, K/V appended to the cache (the
    /// identity when the mask drops the layer). The observer sees each activation as it is made.
    /// </summary>
    void Block(int l, int rows)
    {
        var mask = _mask;
        if (mask is not null && !mask.Layers[l]) return;
        var obs = _observer;
        var wts = Weights;
        var c = wts.Config;
        int C = c.C, H = c.H, KV = c.KV, D = c.D, W = c.QkvDim, F = c.F, HD = H * D;
        var x = _x.AsSpan(0, rows * C);
        var ln = _ln.AsSpan(0, rows * C);
        var qkv = _qkv.AsSpan(0, rows * W);
        var att = _att.AsSpan(0, rows * HD);
        var branch = _branch.AsSpan(0, rows * C);
        var gu = _gu.AsSpan(0, rows * 2 * F);
        var act = _act.AsSpan(0, rows * F);
        if (obs is not null) x.CopyTo(_xIn);
        Norm(ln, x, wts.InputNorm(l), rows);
        obs?.AttentionInput(l, ln, rows);
        wts.Qkv(l).Forward(qkv, ln, rows, _scratch);
        mask?.PerLayer[l].ZeroQkv(qkv, rows);
        wts.Rotary.ApplyRows(qkv, _pos.AsSpan(0, rows), rows, H + KV, D, W); // the q and k heads of every row, in place (the training forward's kernel)
        for (int r = 0; r < rows; r++)
        {
            var row = qkv.Slice(r * W, W);
            int off = Cache.Offset(l, _slots[r], _pos[r]);
            row.Slice(HD, KV * D).CopyTo(Cache.K.AsSpan(off, KV * D));
            row.Slice(HD + KV * D, KV * D).CopyTo(Cache.V.AsSpan(off, KV * D));
        }
        obs?.Qkv(l, qkv, rows);
        Attend(l);
        mask?.PerLayer[l].ZeroHeads(att, rows);
        obs?.HeadOutputs(l, att, rows);
        wts.O(l).Forward(branch, att, rows, _scratch);
        mask?.ZeroHidden(branch, rows);
        TensorPrimitives.Add(x, branch, x);
        Norm(ln, x, wts.PostNorm(l), rows);
        obs?.FfnInput(l, ln, rows);
        wts.GateUp(l).Forward(gu, ln, rows, _scratch);
        Pointwise.SwiGluForward(act, gu, rows, F);
        mask?.PerLayer[l].ZeroNeurons(act, rows);
        obs?.FfnActivations(l, act, rows);
        wts.Down(l).Forward(branch, act, rows, _scratch);
        mask?.ZeroHidden(branch, rows);
        TensorPrimitives.Add(x, branch, x);
        obs?.Block(l, _xIn.AsSpan(0, rows * C), x, rows);
    }

    /// <summary>
    /// y = x·rstd·w, rstd = 1/√(Σx²/K + eps) with K the kept hidden channels (all C without a mask). The kernel divides
    /// by C, so under a mask it runs with eps' = eps·K/C and y is scaled by √(K/C): Σx²/C + eps·K/C = (K/C)(Σx²/K + eps).
    /// Masked channels of x are zero, so they stay zero.
    /// </summary>
    void Norm(Span<float> y, ReadOnlySpan<float> x, ReadOnlySpan<float> w, int rows)
    {
        int C = Config.C, K = _mask?.HiddenCount ?? C;
        float eps = (float)Config.RmsNormEps;
        if (K == C) { Pointwise.RmsNormForward(y, _rstd, x, w, rows, C, eps); return; }
        Pointwise.RmsNormForward(y, _rstd, x, w, rows, C, eps * K / C);
        TensorPrimitives.Multiply(y, MathF.Sqrt((float)K / C), y);
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
