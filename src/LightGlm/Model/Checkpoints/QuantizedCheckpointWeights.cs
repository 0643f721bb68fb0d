// A quantized checkpoint (QuantizedCheckpoint) as an inference weight source: its quants and scales laid into the
// engine's int8/int4 blocks once, the projections the very QuantizedProjections quantizing at load would build.
using System.Runtime.InteropServices;
using LightGlm.Kernels.Quantized;
using LightGlm.Model.Inference;

namespace LightGlm.Model.Checkpoints;

/// <summary>
/// Opens a quantized checkpoint: every tensor checked against config.json first (all problems at once), then the
/// projections read out of the memory-mapped shards. The kernel's block layout interleaves each group's fp32 scale with
/// its quants ([d][G quants], <see cref="QuantBlockLayout"/>) while the file keeps them in two tensors, so loading copies
/// the quants once into that layout (one pass over the file, no arithmetic); q|k|v and gate|up become one matrix each, as
/// <see cref="QuantizedWeights"/> makes them. The embedding stays mapped (rows read per token); norms and biases are read once.
/// </summary>
public sealed class QuantizedCheckpointWeights : InferenceWeights, IDisposable
{
    readonly CheckpointArchive _archive;
    readonly TensorEntry _embed;
    readonly long _smallBytes;
    [ThreadStatic] static byte[]? _rowScratch;

    public QuantizationEntry Quantization { get; }
    /// <summary>Bytes of all tensors as stored, and the number of safetensors files holding them.</summary>
    public long StoredBytes => _archive.Tensors.Values.Sum(t => t.End - t.Begin);
    public int FileCount => _archive.Files.Count;

    QuantizedCheckpointWeights(ModelConfig config, QuantizationEntry q, CheckpointArchive archive)
        : base(config, q.Format, q.GroupSize)
    {
        Quantization = q;
        _archive = archive;
        var c = config;
        int C = c.C, HD = c.H * c.D, F = c.F;
        Check(archive, c, q);
        _embed = archive[TensorNames.Embed];
        float[] Vector(string name) => archive.ReadAll(archive[name]);
        var layers = Enumerable.Range(0, c.L).Select(l => new Layer(Vector(TensorNames.InputNorm(l)), Vector(TensorNames.PostNorm(l)),
            Load([TensorNames.Q(l), TensorNames.K(l), TensorNames.V(l)], C, StackedQkvBias(c, l, n => archive.Contains(n) ? Vector(n) : null)),
            Load([TensorNames.O(l)], HD, null),
            Load([TensorNames.Gate(l), TensorNames.Up(l)], C, null),
            Load([TensorNames.Down(l)], F, null))).ToArray();
        Hold(layers, Vector(TensorNames.FinalNorm), Load([TensorNames.LmHead], C, null));
        _smallBytes = NormAndBiasBytes();
    }

    /// <summary>
    /// Opens <paramref name="dir"/>, a directory written by <see cref="QuantizedCheckpointWriter"/> (`import|export --quantize`).
    /// Dispose it when done (the embedding is read from the map).
    /// </summary>
    public static QuantizedCheckpointWeights Open(string dir)
    {
        string cfgPath = Path.Combine(dir, ModelDirectory.ConfigFile);
        if (!File.Exists(cfgPath)) throw new FileNotFoundException($"{cfgPath}: no config.json; is {dir} a model directory?", cfgPath);
        var raw = JsonFile.ReadObject(cfgPath);
        var q = QuantizationEntry.Read(raw, cfgPath)
                ?? throw new InvalidDataException($"{cfgPath}: no \"{QuantizationEntry.Key}\" entry: not a quantized checkpoint (write one with `lightglm import|export --quantize int8|int4`)");
        var config = ModelConfig.Load(cfgPath, arena: false);
        var archive = CheckpointArchive.Open(dir);
        try { return new QuantizedCheckpointWeights(config, q, archive); }
        catch { archive.Dispose(); throw; }
    }

    /// <summary>Every tensor the config implies, with its dtype and shape, and no other: all problems in one message.</summary>
    static void Check(CheckpointArchive a, ModelConfig c, QuantizationEntry q)
    {
        int C = c.C, HD = c.H * c.D, KVD = c.KV * c.D, F = c.F, V = c.V, G = q.GroupSize;
        var expected = new Dictionary<string, (TensorDType[] DTypes, long[] Shape)>(StringComparer.Ordinal);
        var floats = new[] { TensorDType.F32, TensorDType.F16, TensorDType.BF16 };
        var quant = q.Format == WeightFormat.Int8 ? TensorDType.I8 : TensorDType.U8;
        void Matrix(string name, int rows, int cols)
        {
            expected[name] = ([quant], [rows, QuantizedCheckpoint.QuantRowLength(cols, q)]);
            expected[QuantizedCheckpoint.ScaleName(name)] = ([TensorDType.F32], [rows, QuantizedCheckpoint.Padded(cols, G) / G]);
        }
        expected[TensorNames.Embed] = (floats, [V, C]);
        expected[TensorNames.FinalNorm] = ([TensorDType.F32], [C]);
        bool anyBias = a.Contains(TensorNames.QBias(0)) || a.Contains(TensorNames.KBias(0)) || a.Contains(TensorNames.VBias(0));
        for (int l = 0; l < c.L; l++)
        {
            expected[TensorNames.InputNorm(l)] = ([TensorDType.F32], [C]);
            expected[TensorNames.PostNorm(l)] = ([TensorDType.F32], [C]);
            if (anyBias)
            {
                expected[TensorNames.QBias(l)] = ([TensorDType.F32], [HD]);
                expected[TensorNames.KBias(l)] = ([TensorDType.F32], [KVD]);
                expected[TensorNames.VBias(l)] = ([TensorDType.F32], [KVD]);
            }
            Matrix(TensorNames.Q(l), HD, C); Matrix(TensorNames.K(l), KVD, C); Matrix(TensorNames.V(l), KVD, C); Matrix(TensorNames.O(l), C, HD);
            Matrix(TensorNames.Gate(l), F, C); Matrix(TensorNames.Up(l), F, C); Matrix(TensorNames.Down(l), C, F);
        }
        Matrix(TensorNames.LmHead, V, C);
        var problems = new List<string>();
        foreach (var (name, (dtypes, shape)) in expected)
        {
            if (!a.Tensors.TryGetValue(name, out var e)) { problems.Add($"tensor '{name}' is missing"); continue; }
            if (!dtypes.Contains(e.DType) || !e.Shape.SequenceEqual(shape))
                problems.Add($"tensor '{name}' in {Path.GetFileName(e.File)} is {e.DType}{e.ShapeText}; {q} with this config.json needs " +
                             $"{string.Join("/", dtypes)}({string.Join(", ", shape)})");
        }
        foreach (var name in a.Tensors.Keys.Where(n => !expected.ContainsKey(n)).Order(StringComparer.Ordinal))
            problems.Add($"unexpected tensor '{name}' (not part of a {q} checkpoint of this config.json)");
        if (problems.Count > 0)
            throw new InvalidDataException($"{a.Directory}: the quantized checkpoint does not match its config.json ({problems.Count} problem{(problems.Count > 1 ? "s" : "")}):\n  - "
                                           + string.Join("\n  - ", problems.Take(20)) + "\n  write it again with `lightglm import|export --quantize`");
    }

    /// <summary>
    /// The matrices <paramref name="names"/> (same width <paramref name="cols"/>) stacked into one int8/int4 projection:
    /// row by row, each group's scale then its quants, as the kernel reads them. A scale that is negative, NaN or infinite
    /// (the quantizer writes max|w|/QMax) means the bytes are damaged, and is reported with its tensor and row.
    /// </summary>
    QuantizedProjection Load(string[] names, int cols, float[]? bias)
    {
        var format = Quantization.Format == WeightFormat.Int8 ? QuantFormat.Int8 : QuantFormat.Int4;
        var layout = QuantBlockLayout.Create(format, Quantization.GroupSize);
        int blocks = QuantizedCheckpoint.Padded(cols, layout.GroupSize) / layout.GroupSize, qb = layout.QuantBytes, bb = layout.BlockBytes;
        int rowBytes = blocks * bb;
        var entries = names.Select(n => (Quants: _archive[n], Scales: _archive[QuantizedCheckpoint.ScaleName(n)])).ToArray();
        int rows = entries.Sum(e => (int)e.Quants.Rows);
        var data = new byte[checked((long)rows * rowBytes)];
        int chunkRows = Math.Max(1, (1 << 20) / (blocks * qb));
        var qbuf = new byte[(long)chunkRows * blocks * qb];
        var sbuf = new byte[(long)chunkRows * blocks * 4];
        int at = 0;
        foreach (var (qe, se) in entries)
        {
            var qf = _archive.FileOf(qe);
            var sf = _archive.FileOf(se);
            for (int r0 = 0; r0 < qe.Rows; r0 += chunkRows)
            {
                int n = (int)Math.Min(chunkRows, qe.Rows - r0);
                var qs = qbuf.AsSpan(0, n * blocks * qb);
                var ss = sbuf.AsSpan(0, n * blocks * 4);
                qf.ReadBytes(qe, (long)r0 * blocks * qb, qs);
                sf.ReadBytes(se, (long)r0 * blocks * 4, ss);
                var scales = MemoryMarshal.Cast<byte, float>(ss);
                for (int i = 0; i < n; i++)
                {
                    var row = data.AsSpan(checked((int)((long)(at + r0 + i) * rowBytes)), rowBytes);
                    for (int b = 0; b < blocks; b++)
                    {
                        float d = scales[i * blocks + b];
                        if (!(d >= 0) || float.IsInfinity(d))
                            throw new InvalidDataException($"{se.File}: tensor '{se.Name}' row {r0 + i} group {b} has scale {d}; a scale is max|w|/QMax ≥ 0 and finite, " +
                                                           "so the file is damaged: write the checkpoint again");
                        MemoryMarshal.Write(row.Slice(b * bb, 4), in d);
                        qs.Slice((i * blocks + b) * qb, qb).CopyTo(row.Slice(b * bb + 4, qb));
                    }
                }
            }
            at += (int)qe.Rows;
        }
        return new QuantizedProjection(new QuantizedMatrix(layout, rows, cols, data), bias);
    }

    public override void Embed(ReadOnlySpan<int> tokens, Span<float> x)
    {
        int C = Config.C;
        var scratch = _rowScratch is { } s && s.Length >= C * 4 ? s : _rowScratch = new byte[C * 4];
        for (int i = 0; i < tokens.Length; i++) _archive.ReadRows(_embed, tokens[i], 1, x.Slice(i * C, C), scratch);
    }

    /// <summary>Projections and head as quantized, the embedding as stored, norms and biases.</summary>
    public override long HeldBytes => ProjectionBytes + (_embed.End - _embed.Begin) + _smallBytes;

    public void Dispose() => _archive.Dispose();
}
