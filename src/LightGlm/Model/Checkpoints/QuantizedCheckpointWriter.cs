// Writes a quantized checkpoint from any fp32-readable weight source (a model's arena, a memory-mapped bf16 or Hugging Face
// checkpoint), one tensor at a time: the engine's quantizer on tiles of rows, so a 6B bf16 model never exists in fp32.
using System.Text.Json.Nodes;
using LightGlm.IO;
using LightGlm.Kernels.Quantized;
using LightGlm.Model.Inference;
using static LightGlm.Model.TensorNames;

namespace LightGlm.Model.Checkpoints;

public static class QuantizedCheckpointWriter
{
    /// <summary>Largest shard written (≈ 2 GB: a 6B int8 model is four shards).</summary>
    public const long DefaultMaxShardBytes = 2_000_000_000;

    /// <summary>
    /// Writes <paramref name="dir"/> (created; the caller publishes it whole, e.g. through AtomicDirectory): every projection
    /// and the LM head of <paramref name="source"/> quantized as <paramref name="q"/> says (quants I8/U8 + F32 scales,
    /// <see cref="QuantizedCheckpoint"/>), the embedding in <paramref name="embedDType"/>, norms and biases F32, sharded
    /// beyond <paramref name="maxShardBytes"/>, and config.json = <paramref name="config"/> with the "quantization" entry.
    /// The bytes are those <see cref="QuantizedProjection.From"/> makes at load time (the same quantizer on the same rows).
    /// Returns the weight files written.
    /// </summary>
    public static List<string> Write(InferenceWeights source, JsonObject config, string dir, QuantizationEntry q,
        TensorDType embedDType = TensorDType.F32, long maxShardBytes = DefaultMaxShardBytes)
    {
        if (source.Format != WeightFormat.Fp32) throw new ArgumentException($"the source is already {InferenceWeights.Name(source.Format)}; quantize from fp32/bf16 weights");
        if (!embedDType.IsFloat()) throw new ArgumentException($"the embedding is stored as a float type (F32, F16, BF16), not {embedDType}");
        var c = source.Config;
        int C = c.C, HD = c.H * c.D, KVD = c.KV * c.D, F = c.F, V = c.V;
        var tensors = new List<TensorToWrite>
        {
            new(Embed, embedDType, [V, C], (row, count, dst) =>
            {
                var ids = new int[count];
                for (int i = 0; i < count; i++) ids[i] = (int)row + i;
                source.Embed(ids, dst);
            }),
        };
        for (int l = 0; l < c.L; l++)
        {
            tensors.Add(Vector(InputNorm(l), source.InputNorm(l)));
            tensors.Add(Vector(PostNorm(l), source.PostNorm(l)));
            var qkv = source.Qkv(l);
            if (!qkv.Bias.IsEmpty)
            {
                tensors.Add(Vector(QBias(l), qkv.Bias.Span[..HD]));
                tensors.Add(Vector(KBias(l), qkv.Bias.Span.Slice(HD, KVD)));
                tensors.Add(Vector(VBias(l), qkv.Bias.Span.Slice(HD + KVD, KVD)));
            }
            tensors.AddRange(Quantized(Q(l), qkv, 0, HD, q));
            tensors.AddRange(Quantized(K(l), qkv, HD, KVD, q));
            tensors.AddRange(Quantized(TensorNames.V(l), qkv, HD + KVD, KVD, q));
            tensors.AddRange(Quantized(O(l), source.O(l), 0, C, q));
            tensors.AddRange(Quantized(Gate(l), source.GateUp(l), 0, F, q));
            tensors.AddRange(Quantized(Up(l), source.GateUp(l), F, F, q));
            tensors.AddRange(Quantized(Down(l), source.Down(l), 0, C, q));
        }
        tensors.Add(Vector(FinalNorm, source.FinalNorm));
        tensors.AddRange(Quantized(LmHead, source.Head, 0, V, q));
        Directory.CreateDirectory(dir);
        var files = SafeTensorsWriter.WriteSharded(dir, tensors, maxShardBytes,
            new Dictionary<string, string> { ["format"] = "pt", ["quantization"] = $"{InferenceWeights.Name(q.Format)} group {q.GroupSize}" });
        var cfg = (JsonObject)config.DeepClone();
        cfg[QuantizationEntry.Key] = q.ToJson();
        AtomicFile.WriteAllText(Path.Combine(dir, ModelDirectory.ConfigFile), cfg.ToJsonString(ModelConfig.JsonOptions) + "\n");
        return files;
    }

    static TensorToWrite Vector(string name, ReadOnlySpan<float> values) => TensorToWrite.Of(name, [values.Length], values.ToArray());

    /// <summary>
    /// Rows [r0, r0 + rows) of <paramref name="p"/> as two tensors: NAME (quants, one row of PaddedCols int8 or PaddedCols/2
    /// packed int4 bytes per weight row) and NAME_scale (F32, one per group). The writer asks for the quants first (file
    /// order), which quantizes each tile once and keeps its scales — rows × groups floats, ≤ 34 MB for a 6B model's head —
    /// until the scale tensor has been written.
    /// </summary>
    static TensorToWrite[] Quantized(string name, Projection p, int r0, int rows, QuantizationEntry q)
    {
        var format = q.Format == WeightFormat.Int8 ? QuantFormat.Int8 : QuantFormat.Int4;
        var layout = QuantBlockLayout.Create(format, q.GroupSize);
        int cols = p.In, G = q.GroupSize, blocks = QuantizedCheckpoint.Padded(cols, G) / G, qb = layout.QuantBytes;
        float[]? scales = null;
        long done = 0; // rows whose scales are known
        var quants = TensorToWrite.Raw(name, q.Format == WeightFormat.Int8 ? TensorDType.I8 : TensorDType.U8,
            [rows, QuantizedCheckpoint.QuantRowLength(cols, q)], (row, count, dst) =>
            {
                if (row != done) throw new InvalidOperationException($"tensor '{name}': rows are written in order ({row} after {done})");
                scales ??= new float[(long)rows * blocks];
                int tileRows = Math.Max(1, ProjectionScratch.TileFloats / cols);
                var tile = new float[(long)Math.Min(tileRows, count) * cols];
                for (int t0 = 0; t0 < count; t0 += tileRows)
                {
                    int n = Math.Min(tileRows, count - t0);
                    p.ReadRows(r0 + (int)row + t0, n, tile.AsSpan(0, n * cols));
                    var m = QuantizedMatrix.Quantize(tile.AsSpan(0, n * cols), n, cols, format, G);
                    var data = m.Data.AsSpan();
                    for (int i = 0; i < n; i++)
                        for (int b = 0; b < blocks; b++)
                        {   // block = [fp32 d][quants]: the quants to their row of the quant tensor, d to the scale tensor
                            var block = data.Slice((i * blocks + b) * layout.BlockBytes, layout.BlockBytes);
                            block[4..].CopyTo(dst.Slice(((t0 + i) * blocks + b) * qb, qb));
                            scales[(row + t0 + i) * blocks + b] = BitConverter.ToSingle(block);
                        }
                }
                done = row + count;
            });
        var scale = new TensorToWrite(QuantizedCheckpoint.ScaleName(name), TensorDType.F32, [rows, blocks], (row, count, dst) =>
        {
            if (scales is null || row + count > done) throw new InvalidOperationException($"tensor '{name}': its scales are written after its quants");
            scales.AsSpan((int)(row * blocks), count * blocks).CopyTo(dst);
            if (row + count == rows) scales = null; // written: let it go before the next tensor
        });
        return [quants, scale];
    }
}
