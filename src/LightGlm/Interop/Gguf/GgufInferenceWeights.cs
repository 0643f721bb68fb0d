// A GGUF file (ours, or llama.cpp's llama / qwen2 / chatglm layout with F32, F16, Q8_0 or Q4_0 tensors) as an inference
// weight source: the quantized on-disk format. Q8_0/Q4_0 blocks are our int8/int4 group-32 blocks with an fp16 instead
// of an fp32 scale, so loading widens each scale and copies the quants — no re-quantization, seconds for a 6B model.
using System.Buffers.Binary;
using System.Text.Json.Nodes;
using LightGlm.Kernels.Quantized;
using LightGlm.Model;
using LightGlm.Model.Inference;
using static LightGlm.Model.TensorNames;

namespace LightGlm.Interop.Gguf;

public static class GgufInferenceWeights
{
    /// <summary>The metadata key under which export stores the model's tokenizer.json (llama.cpp ignores it).</summary>
    public const string TokenizerKey = "lightglm.tokenizer_json";

    /// <summary>
    /// Opens <paramref name="path"/>: the config from the architecture's metadata (the rotary pairing from the graph:
    /// interleaved for llama and chatglm, rotate_half for qwen2 — export permuted q/k rows to it), every tensor read once.
    /// </summary>
    public static InferenceWeights Open(string path) => Open(GgufFile.Read(path));

    /// <summary>The same over a file whose header was already read (its metadata also carries the tokenizer).</summary>
    public static InferenceWeights Open(GgufFile g)
    {
        string path = g.Path;
        string arch = g.Metadata.TryGetValue("general.architecture", out var a) && a is string s ? s
            : throw new InvalidDataException($"{path}: no general.architecture in the GGUF metadata");
        if (arch is not ("llama" or "qwen2" or "chatglm"))
            throw new InvalidDataException($"{path}: GGUF architecture '{arch}' is not one LightGlm runs (llama, qwen2, chatglm)");
        uint U(string key) => g.Metadata.TryGetValue($"{arch}.{key}", out var v) && v is uint u ? u
            : throw new InvalidDataException($"{path}: metadata key '{arch}.{key}' is missing or not a uint32");
        float F(string key) => g.Metadata.TryGetValue($"{arch}.{key}", out var v) && v is float f ? f
            : throw new InvalidDataException($"{path}: metadata key '{arch}.{key}' is missing or not a float32");
        int? Id(string key) => g.Metadata.TryGetValue($"tokenizer.ggml.{key}", out var v) && v is uint u ? (int)u : null;
        bool Has(string name) => g.Tensors.Any(t => t.Name == name);
        int D = (int)U("attention.key_length"), R = (int)U("rope.dimension_count");
        var config = new ModelConfig
        {
            ModelType = arch, VocabSize = (int)U("vocab_size"), HiddenSize = (int)U("embedding_length"), NumHiddenLayers = (int)U("block_count"),
            NumAttentionHeads = (int)U("attention.head_count"), NumKeyValueHeads = (int)U("attention.head_count_kv"), HeadDim = D,
            IntermediateSize = (int)U("feed_forward_length"), RmsNormEps = F("attention.layer_norm_rms_epsilon"), RopeTheta = F("rope.freq_base"),
            PartialRotaryFactor = (double)R / D, RopeInterleaved = arch is "llama" or "chatglm", AttentionBias = Has("blk.0.attn_q.bias"),
            TieWordEmbeddings = !Has("output.weight"), MaxPositionEmbeddings = (int)U("context_length"),
            BosTokenId = Id("bos_token_id"), EosTokenId = Id("eos_token_id"), PadTokenId = Id("padding_token_id"),
        }.Validate(path, arena: false);

        var types = g.Tensors.Where(t => t.Shape.Length == 2).Select(t => t.Type).Distinct().ToList();
        var format = types.Contains(GgmlType.Q4_0) ? WeightFormat.Int4 : types.Contains(GgmlType.Q8_0) ? WeightFormat.Int8 : WeightFormat.Fp32;
        var matrices = new Dictionary<string, WeightRows>(StringComparer.Ordinal);
        var vectors = new Dictionary<string, float[]>(StringComparer.Ordinal);
        using var fs = File.OpenRead(path);
        byte[] Raw(GgufTensorInfo t)
        {
            var raw = new byte[t.Bytes];
            fs.Position = g.DataStart + t.Offset;
            fs.ReadExactly(raw);
            return raw;
        }
        WeightRows Matrix(GgufTensorInfo t, int row0 = 0, int rows = -1)
        {
            if (t.Shape.Length != 2) throw new InvalidDataException($"{path}: tensor '{t.Name}' has {t.Shape.Length} dims, expected 2");
            int cols = checked((int)t.Shape[1]);
            if (rows < 0) rows = checked((int)t.Shape[0]);
            var raw = Raw(t);
            long rowBytes = GgmlQuant.Bytes(t.Type, cols);
            var part = raw.AsSpan(checked((int)(row0 * rowBytes)), checked((int)(rows * rowBytes)));
            if (t.Type is GgmlType.Q8_0 or GgmlType.Q4_0)
            {
                var qf = t.Type == GgmlType.Q8_0 ? QuantFormat.Int8 : QuantFormat.Int4;
                var layout = QuantBlockLayout.Create(qf, GgmlQuant.BlockValues);
                int src = t.Type == GgmlType.Q8_0 ? GgmlQuant.Q8_0BlockBytes : GgmlQuant.Q4_0BlockBytes, blocks = part.Length / src;
                var data = new byte[checked((long)blocks * layout.BlockBytes)];
                for (int b = 0; b < blocks; b++)
                {
                    var from = part.Slice(b * src, src);
                    var to = data.AsSpan(b * layout.BlockBytes, layout.BlockBytes);
                    BinaryPrimitives.WriteSingleLittleEndian(to, (float)BinaryPrimitives.ReadHalfLittleEndian(from));
                    from[2..].CopyTo(to[4..]);
                }
                return new QuantizedRows(new QuantizedMatrix(layout, rows, cols, data));
            }
            var values = new float[(long)rows * cols];
            GgmlQuant.Decode(t.Type, part, values);
            return new ArrayRows(values, rows, cols);
        }
        float[] Vector(GgufTensorInfo t)
        {
            var v = new float[t.Elements];
            GgmlQuant.Decode(t.Type, Raw(t), v);
            return v;
        }

        matrices[Embed] = Matrix(g.Tensor("token_embd.weight"));
        vectors[TensorNames.FinalNorm] = Vector(g.Tensor("output_norm.weight"));
        if (!config.TieWordEmbeddings) matrices[LmHead] = Matrix(g.Tensor("output.weight"));
        for (int l = 0; l < config.L; l++)
        {
            string b = $"blk.{l}.";
            vectors[TensorNames.InputNorm(l)] = Vector(g.Tensor(b + "attn_norm.weight"));
            vectors[TensorNames.PostNorm(l)] = Vector(g.Tensor(b + "ffn_norm.weight"));
            matrices[Q(l)] = Matrix(g.Tensor(b + "attn_q.weight"));
            matrices[K(l)] = Matrix(g.Tensor(b + "attn_k.weight"));
            matrices[TensorNames.V(l)] = Matrix(g.Tensor(b + "attn_v.weight"));
            if (config.AttentionBias)
            {
                vectors[QBias(l)] = Vector(g.Tensor(b + "attn_q.bias"));
                vectors[KBias(l)] = Vector(g.Tensor(b + "attn_k.bias"));
                vectors[VBias(l)] = Vector(g.Tensor(b + "attn_v.bias"));
            }
            matrices[TensorNames.O(l)] = Matrix(g.Tensor(b + "attn_output.weight"));
            if (arch == "chatglm")
            {
                var up = g.Tensor(b + "ffn_up.weight"); // gate | up stacked
                matrices[Gate(l)] = Matrix(up, 0, config.F);
                matrices[Up(l)] = Matrix(up, config.F, config.F);
            }
            else
            {
                matrices[Gate(l)] = Matrix(g.Tensor(b + "ffn_gate.weight"));
                matrices[Up(l)] = Matrix(g.Tensor(b + "ffn_up.weight"));
            }
            matrices[TensorNames.Down(l)] = Matrix(g.Tensor(b + "ffn_down.weight"));
        }
        return InferenceWeights.Named(config, n => matrices.GetValueOrDefault(n), n => vectors.GetValueOrDefault(n),
            format, format == WeightFormat.Fp32 ? 0 : GgmlQuant.BlockValues);
    }

    /// <summary>The tokenizer.json export stored in the file's metadata, or null.</summary>
    public static string? TokenizerJson(GgufFile g) => g.Metadata.TryGetValue(TokenizerKey, out var v) && v is string s ? s : null;
}
