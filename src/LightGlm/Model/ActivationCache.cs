// Activations of one micro-batch for a range of layers: one arena sized once per (B, T), cut into named views.
namespace LightGlm.Model;

/// <summary>What block i's backward needs from its forward (all views of the cache's arena; N = B·T, W = (H+2KV)·D).</summary>
public sealed class BlockActivations
{
    public TensorView Ln1;      // (N, C) RMSNorm(x)·w1
    public TensorView Rstd1;    // (N)
    public TensorView Qkv;      // (N, W) q|k after rotary, v
    public TensorView Probs;    // (B, H, T, T) attention probabilities
    public TensorView Att;      // (N, H·D) attention output before o_proj
    public TensorView Mid;      // (N, C) h = x + attention branch
    public TensorView Ln2;      // (N, C)
    public TensorView Rstd2;    // (N)
    public TensorView GateUp;   // (N, 2F) gate | up pre-activation
    public TensorView Act;      // (N, F) silu(gate)·up
    public TensorView Mask1;    // (N, C) dropout mask of the attention branch (empty without dropout)
    public TensorView Mask2;    // (N, C) dropout mask of the MLP branch
}

/// <summary>
/// A micro-batch's activations for blocks [FirstBlock, EndBlock) (+ the head when <see cref="HasHead"/>).
/// <see cref="Hidden"/>(i) is the residual stream entering block i (Hidden(L) enters the final norm): a pipeline stage
/// writes its received input into Hidden(FirstBlock) and sends Hidden(EndBlock). <see cref="GradHidden"/> carries
/// dLoss/dHidden backwards in place: a non-last stage writes the received gradient there before Backward, and after
/// Backward it holds dLoss/dHidden(FirstBlock) to send on. The hot loop never allocates: everything is cut here once.
/// </summary>
public sealed class ActivationCache
{
    public ModelConfig Config { get; }
    public int B { get; }
    public int T { get; }
    public int N => B * T;
    public LayerRange Range { get; }
    public bool HasHead => Range.Head;
    public int FirstBlock => Range.FirstBlock;
    public int EndBlock => Range.EndBlock;
    public long ArenaFloats => _arena.LongLength;

    readonly float[] _arena;
    readonly TensorView[] _hidden;            // index i - FirstBlock, for i in [FirstBlock, EndBlock]
    readonly BlockActivations[] _blocks;      // index i - FirstBlock
    public TensorView GradHidden { get; }     // (N, C)
    // Scratch shared by the blocks of this micro-batch (used one block at a time).
    internal TensorView Branch, DBranch, DLn, DQkv, DAtt, DGateUp, DAct;
    // Head: final-norm output, its rstd, logits (become dlogits in place), per-row loss and loss scale.
    public TensorView NormOut { get; }        // (N, C)
    internal TensorView RstdF;                // (N)
    public TensorView Logits { get; }         // (N, V); with an objective, rows [0, ActiveCount) for the rows in ActiveRows
    /// <summary>
    /// With a training objective the head runs only on rows that have a target (the source side of a prefix-LM pair
    /// has none, about half the tokens): Logits row m is row ActiveRows[m] of the batch, for m &lt; ActiveCount.
    /// −1 = the head ran on every row (no objective), Logits row n is row n.
    /// </summary>
    public int ActiveCount { get; internal set; } = -1;
    internal readonly int[] ActiveRowIndex;   // (N)
    /// <summary>The batch row of each logits row (all rows when <see cref="ActiveCount"/> is −1).</summary>
    public ReadOnlySpan<int> ActiveRows => ActiveRowIndex.AsSpan(0, ActiveCount < 0 ? N : ActiveCount);
    public readonly double[] RowLoss;         // (N) unscaled CE per row (0 when ignored)
    public readonly float[] RowScale;         // (N) loss scale per row
    internal readonly float[] RowLossF;       // (N) scratch: the kernel's per-row loss in float
    /// <summary>(N) position of each row in its example (rotary angles): n % T, or n % T − segment start when packed.</summary>
    internal readonly int[] Positions;

    public ActivationCache(ModelConfig c, int b, int t, LayerRange? range = null, bool dropout = false)
    {
        Config = c; B = b; T = t;
        var r = range ?? LayerRange.Full(c);
        r.Validate(c);
        Range = r;
        int N = b * t, C = c.C, W = c.QkvDim, HD = c.H * c.D, F = c.F;
        long perBlock = (long)N * C * 3 + 2L * N + (long)N * W + (long)b * c.H * t * t + (long)N * HD + (long)N * 2 * F + (long)N * F
                        + (dropout ? 2L * N * C : 0);
        int nb = r.EndBlock - r.FirstBlock;
        long total = (long)(nb + 1) * N * C + perBlock * nb + (long)N * C                   // hidden, blocks, grad
                     + (long)N * C * 3 + (long)N * W + (long)N * HD + (long)N * 2 * F + (long)N * F // scratch
                     + (r.Head ? (long)N * C + N + (long)N * c.V : 0);
        if (total > Array.MaxLength)
            throw new InvalidOperationException($"activation cache for (B={b}, T={t}) needs {total} floats (> {Array.MaxLength}): use smaller micro-batches");
        _arena = new float[total];
        int off = 0;
        TensorView Cut(long len) { var v = new TensorView(_arena, off, (int)len); off += (int)len; return v; }

        _hidden = new TensorView[nb + 1];
        for (int i = 0; i <= nb; i++) _hidden[i] = Cut((long)N * C);
        _blocks = new BlockActivations[nb];
        for (int i = 0; i < nb; i++)
        {
            _blocks[i] = new BlockActivations
            {
                Ln1 = Cut((long)N * C), Rstd1 = Cut(N), Qkv = Cut((long)N * W), Probs = Cut((long)b * c.H * t * t),
                Att = Cut((long)N * HD), Mid = Cut((long)N * C), Ln2 = Cut((long)N * C), Rstd2 = Cut(N),
                GateUp = Cut((long)N * 2 * F), Act = Cut((long)N * F),
                Mask1 = dropout ? Cut((long)N * C) : default, Mask2 = dropout ? Cut((long)N * C) : default,
            };
        }
        GradHidden = Cut((long)N * C);
        Branch = Cut((long)N * C); DBranch = Cut((long)N * C); DLn = Cut((long)N * C);
        DQkv = Cut((long)N * W); DAtt = Cut((long)N * HD); DGateUp = Cut((long)N * 2 * F); DAct = Cut((long)N * F);
        if (r.Head) { NormOut = Cut((long)N * C); RstdF = Cut(N); Logits = Cut((long)N * c.V); }
        RowLoss = new double[N];
        RowScale = new float[N];
        RowLossF = new float[N];
        Positions = new int[N];
        for (int n = 0; n < N; n++) Positions[n] = n % t;
        ActiveRowIndex = new int[N];
        for (int n = 0; n < N; n++) ActiveRowIndex[n] = n;
        DropoutEnabled = dropout;
    }

    /// <summary>Positions of <paramref name="batch"/>'s tokens: n % T, restarted at every example of a packed row.</summary>
    internal void SetPositions(Batch batch)
    {
        var starts = batch.SegmentStarts;
        for (int n = 0; n < N; n++) Positions[n] = starts is null ? n % T : n % T - starts[n];
    }

    /// <summary>True when the cache holds dropout masks (created with dropout: true).</summary>
    public bool DropoutEnabled { get; }

    /// <summary>Residual stream entering block i (i = L: entering the final norm). i in [FirstBlock, EndBlock].</summary>
    public TensorView Hidden(int i)
    {
        if (i < FirstBlock || i > EndBlock) throw new ArgumentOutOfRangeException(nameof(i), $"hidden {i} is outside this cache's range [{FirstBlock}, {EndBlock}]");
        return _hidden[i - FirstBlock];
    }

    public BlockActivations Block(int i) => _blocks[i - FirstBlock];

    /// <summary>Per-row loss (unscaled CE) of the last forward; 0 for ignored rows.</summary>
    public ReadOnlySpan<double> RowLosses => RowLoss;
}

/// <summary>
/// A contiguous piece of the model: blocks [FirstBlock, EndBlock), with the embedding in front (stage 0) and/or the
/// final norm + LM head + loss behind (last stage).
/// </summary>
public readonly record struct LayerRange(int FirstBlock, int EndBlock, bool Embedding, bool Head)
{
    public static LayerRange Full(ModelConfig c) => new(0, c.L, true, true);

    public void Validate(ModelConfig c)
    {
        if (FirstBlock < 0 || EndBlock > c.L || FirstBlock > EndBlock)
            throw new ArgumentOutOfRangeException(nameof(FirstBlock), $"layer range [{FirstBlock}, {EndBlock}) is not inside [0, {c.L}]");
        if (Embedding && FirstBlock != 0) throw new ArgumentException($"a range with the embedding must start at block 0, not {FirstBlock}");
        if (Head && EndBlock != c.L) throw new ArgumentException($"a range with the head must end at block L = {c.L}, not {EndBlock}");
    }
}
