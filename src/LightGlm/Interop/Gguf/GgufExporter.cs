// `export --format gguf`: a model (ours or a Hugging Face checkpoint, through MappedWeights) as one GGUF file that
// llama.cpp loads with its `llama`, `qwen2` or `chatglm` graph; tensor and key names as llama.cpp's gguf-py constants.py spells them.
using LightGlm.IO;
using LightGlm.Model;
using LightGlm.Model.Checkpoints;

namespace LightGlm.Interop.Gguf;

public sealed record GgufExportReport(string Path, string Architecture, GgmlType Type, long Bytes, long Parameters, IReadOnlyList<string> Notes);

public static class GgufExporter
{
    /// <summary>
    /// llama.cpp's graph for this config. `llama` rotates every dim of a head with interleaved pairs (2j, 2j+1)
    /// (LLAMA_ROPE_TYPE_NORM) and is what llama.cpp's converter writes for models without q/k/v bias; `qwen2` rotates
    /// with rotate_half pairs (j, j+D/2) (NEOX) and always has q/k/v biases. Both rotate the whole head (llama refuses
    /// rope.dimension_count ≠ head dim, qwen2 asserts it), so partial rotary (GLM-style R = D/2) goes to `chatglm`:
    /// interleaved pairs over the first rope.dimension_count dims, optional q/k/v biases, gate|up fused in ffn_up
    /// (swiglu: silu(first half) · second half), but q of width n_embd (H·D must equal C). q/k rows (and biases) are
    /// permuted within each head when our pairing differs from the graph's.
    /// </summary>
    public static string ArchitectureFor(ModelConfig c)
    {
        if (c.R == c.D) return c.AttentionBias ? "qwen2" : "llama";
        if (c.H * c.D != c.C)
            throw new NotSupportedException($"this model rotates R = {c.R} of its D = {c.D} head dims (partial_rotary_factor {c.PartialRotaryFactor}) and has " +
                $"H·D = {c.H}·{c.D} = {c.H * c.D} ≠ hidden size {c.C}: llama.cpp's llama and qwen2 graphs rotate every dim of a head, and its chatglm graph " +
                "(the one with partial rotary) sizes q as hidden × hidden; export this model as hf-chatglm or onnx instead");
        return "chatglm";
    }

    static bool Interleaved(string arch) => arch is "llama" or "chatglm";

    public static GgufExportReport Export(string modelDir, string outFile, GgmlType type)
    {
        using var w = MappedWeights.Open(modelDir);
        return Export(w, outFile, type);
    }

    public static GgufExportReport Export(MappedWeights weights, string outFile, GgmlType type)
    {
        var c = weights.Config;
        string arch = ArchitectureFor(c);
        var notes = new List<string>();
        if (c.PrefixLm)
            notes.Add("this model has the GLM prefix mask (prefix_lm: true) and llama.cpp attends causally over the prompt too, so its outputs for a prompt differ from `translate`'s; decoding after the prompt is causal in both");
        var w = new GgufWriter();
        string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(weights.Archive.Directory)));
        WriteMetadata(w, c, arch, name, type);
        // Our tokenizer travels inside the file (llama.cpp ignores the key), so `translate --model FILE.gguf` needs nothing else.
        if (ModelDirectory.TokenizerPath(weights.Archive.Directory) is { } tj) w.Add(GgufInferenceWeights.TokenizerKey, File.ReadAllText(tj));

        // q/k rows: target row t of a head is our row inverse[t] (rotary pairing changed to the graph's)
        int[] perm = ArchitectureMap.RotaryRowOrder(c.D, c.R, c.RopeInterleaved, Interleaved(arch));
        int[] inverse = new int[c.D];
        for (int i = 0; i < c.D; i++) inverse[perm[i]] = i;
        if (!perm.SequenceEqual(Enumerable.Range(0, c.D)))
            notes.Add($"q/k rows permuted inside each head: our {(c.RopeInterleaved ? "interleaved" : "rotate_half")} rotary pairs -> {arch}'s {(Interleaved(arch) ? "interleaved (NORM)" : "rotate_half (NEOX)")}");

        long parameters = 0;
        var fallback = new List<string>();
        void Matrix(string gguf, string ours, bool rope) => Stacked(gguf, [ours], rope);
        void Stacked(string gguf, string[] ours, bool rope) // our tensors' rows one after the other (chatglm's ffn_up = gate | up)
        {
            var parts = ours.Select(n => weights[n]).ToArray();
            long[] shape = [parts.Sum(t => (long)t.Map.HfRows.Length), parts[0].Map.RowLength];
            var tt = type;
            if (!GgmlQuant.Fits(type, shape[1])) { tt = GgmlType.F16; fallback.Add(gguf); }
            parameters += shape[0] * shape[1];
            w.AddTensor(gguf, shape, tt, s => { foreach (var t in parts) WriteRows(s, weights, t, tt, rope ? inverse : null); });
        }
        void Vector(string gguf, string? ours, int length, bool rope)
        {
            parameters += length;
            w.AddTensor(gguf, [length], GgmlType.F32, s =>
            {
                var v = ours is null ? new float[length] : weights.ReadAll(ours);
                if (rope) v = Permute(v, 1, inverse);
                var bytes = new byte[v.Length * 4];
                GgmlQuant.Encode(GgmlType.F32, v, bytes);
                s.Write(bytes);
            });
        }

        Matrix("token_embd.weight", TensorNames.Embed, false);
        for (int l = 0; l < c.L; l++)
        {
            string b = $"blk.{l}.";
            Vector(b + "attn_norm.weight", TensorNames.InputNorm(l), c.C, false);
            Matrix(b + "attn_q.weight", TensorNames.Q(l), true);
            Matrix(b + "attn_k.weight", TensorNames.K(l), true);
            Matrix(b + "attn_v.weight", TensorNames.V(l), false);
            if (arch == "qwen2" || (arch == "chatglm" && c.AttentionBias))
            {
                Vector(b + "attn_q.bias", c.AttentionBias ? TensorNames.QBias(l) : null, c.H * c.D, true);
                Vector(b + "attn_k.bias", c.AttentionBias ? TensorNames.KBias(l) : null, c.KV * c.D, true);
                Vector(b + "attn_v.bias", c.AttentionBias ? TensorNames.VBias(l) : null, c.KV * c.D, false);
            }
            Matrix(b + "attn_output.weight", TensorNames.O(l), false);
            Vector(b + "ffn_norm.weight", TensorNames.PostNorm(l), c.C, false);
            if (arch == "chatglm") Stacked(b + "ffn_up.weight", [TensorNames.Gate(l), TensorNames.Up(l)], false);
            else
            {
                Matrix(b + "ffn_gate.weight", TensorNames.Gate(l), false);
                Matrix(b + "ffn_up.weight", TensorNames.Up(l), false);
            }
            Matrix(b + "ffn_down.weight", TensorNames.Down(l), false);
        }
        Vector("output_norm.weight", TensorNames.FinalNorm, c.C, false);
        if (!c.TieWordEmbeddings) Matrix("output.weight", TensorNames.LmHead, false);
        else notes.Add("tied head: no output.weight (llama.cpp uses token_embd.weight)");
        if (fallback.Count > 0)
            notes.Add($"{fallback.Count} tensor(s) stored as f16 because their rows are not whole {GgmlQuant.Name(type)} blocks of 32, e.g. {string.Join(", ", fallback.Take(3))}");

        long bytes = 0;
        AtomicFile.Write(outFile, s => bytes = w.WriteTo(s));
        return new GgufExportReport(Path.GetFullPath(outFile), arch, type, bytes, parameters, notes);
    }

    static void WriteMetadata(GgufWriter w, ModelConfig c, string arch, string name, GgmlType type)
    {
        w.Add("general.architecture", arch);
        w.Add("general.name", name);
        w.Add("general.alignment", (uint)GgufWriter.Alignment);
        // enum llama_ftype: ALL_F32 0, MOSTLY_F16 1, MOSTLY_Q4_0 2, MOSTLY_Q8_0 7
        w.Add("general.file_type", type switch { GgmlType.F32 => 0u, GgmlType.F16 => 1u, GgmlType.Q4_0 => 2u, _ => 7u });
        if (type is GgmlType.Q8_0 or GgmlType.Q4_0) w.Add("general.quantization_version", 2u);
        w.Add($"{arch}.vocab_size", (uint)c.V);
        w.Add($"{arch}.context_length", (uint)c.MaxPositionEmbeddings);
        w.Add($"{arch}.embedding_length", (uint)c.C);
        w.Add($"{arch}.block_count", (uint)c.L);
        w.Add($"{arch}.feed_forward_length", (uint)c.F);
        w.Add($"{arch}.attention.head_count", (uint)c.H);
        w.Add($"{arch}.attention.head_count_kv", (uint)c.KV);
        w.Add($"{arch}.attention.key_length", (uint)c.D);
        w.Add($"{arch}.attention.value_length", (uint)c.D);
        w.Add($"{arch}.attention.layer_norm_rms_epsilon", (float)c.RmsNormEps);
        w.Add($"{arch}.rope.freq_base", (float)c.RopeTheta);
        w.Add($"{arch}.rope.dimension_count", (uint)c.R);
        DummyVocabulary(w, c);
    }

    /// <summary>
    /// A SentencePiece-style vocabulary of V entries ("&lt;unk&gt;", "&lt;s&gt;", "&lt;/s&gt;", the byte tokens "&lt;0x00&gt;".."&lt;0xFF&gt;" as far
    /// as V allows, then placeholders): enough for llama.cpp to load the model, which the bench and tests feed token ids.
    /// It does not tokenize text like our tokenizer.
    /// </summary>
    static void DummyVocabulary(GgufWriter w, ModelConfig c)
    {
        int V = c.V;
        var tokens = new string[V];
        var scores = new float[V];
        var types = new int[V];
        for (int i = 0; i < V; i++)
        {
            // llama_token_type: 1 normal, 2 unknown, 3 control, 6 byte
            (tokens[i], types[i]) = i switch
            {
                0 => ("<unk>", 2),
                1 => ("<s>", 3),
                2 => ("</s>", 3),
                < 3 + 256 => ($"<0x{i - 3:X2}>", 6),
                _ => ($"<placeholder_{i}>", 1),
            };
            scores[i] = -i;
        }
        w.Add("tokenizer.ggml.model", "llama");
        w.Add("tokenizer.ggml.tokens", tokens);
        w.Add("tokenizer.ggml.scores", scores);
        w.Add("tokenizer.ggml.token_type", types);
        w.Add("tokenizer.ggml.unknown_token_id", 0u);
        if (c.BosTokenId is int bos && bos >= 0 && bos < V) w.Add("tokenizer.ggml.bos_token_id", (uint)bos);
        if (c.EosTokenId is int eos && eos >= 0 && eos < V) w.Add("tokenizer.ggml.eos_token_id", (uint)eos);
        if (c.PadTokenId is int pad && pad >= 0 && pad < V) w.Add("tokenizer.ggml.padding_token_id", (uint)pad);
        w.Add("tokenizer.ggml.add_bos_token", false);
        w.Add("tokenizer.ggml.add_eos_token", false);
    }

    /// <summary>Streams a matrix in blocks of rows (whole heads when permuted), converted to <paramref name="type"/>.</summary>
    static void WriteRows(Stream s, MappedWeights weights, MappedTensor t, GgmlType type, int[]? headInverse)
    {
        int rows = t.Map.HfRows.Length, cols = (int)t.Map.RowLength;
        int unit = headInverse?.Length ?? 1;
        int block = Math.Max(unit, (1 << 18) / Math.Max(1, cols) / unit * unit);
        var buf = new float[(long)block * cols];
        var scratch = new byte[buf.Length * 4 + 16];
        var outBytes = new byte[GgmlQuant.Bytes(type, buf.Length)];
        for (int r0 = 0; r0 < rows; r0 += block)
        {
            int n = Math.Min(block, rows - r0);
            var src = buf.AsSpan(0, n * cols);
            weights.ReadRows(t, r0, n, src, scratch);
            var rowsOut = headInverse is null ? src : Permute(src.ToArray(), cols, headInverse);
            var dst = outBytes.AsSpan(0, (int)GgmlQuant.Bytes(type, n * cols));
            GgmlQuant.Encode(type, rowsOut, dst);
            s.Write(dst);
        }
    }

    /// <summary>Rows of <paramref name="cols"/> values reordered within each head: output row h·D + j = input row h·D + inverse[j].</summary>
    static float[] Permute(float[] x, int cols, int[] inverse)
    {
        int D = inverse.Length;
        var y = new float[x.Length];
        int rows = x.Length / cols;
        for (int r = 0; r < rows; r++)
            Array.Copy(x, (r / D * D + inverse[r % D]) * cols, y, r * cols, cols);
        return y;
    }
}
