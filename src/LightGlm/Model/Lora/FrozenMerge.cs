// LoRA adapters of a model over a frozen weight source (GlmModel(InferenceWeights)) merged into a copy of that base,
// written tensor by tensor and row block by row block: each block of base rows is read as fp32 from the source
// (mapped bf16, int8, …), s·B·A of those rows added, and the result stored — a 6B model is never whole in memory.
using LightGlm.Model.Checkpoints;
using LightGlm.Model.Inference;
using static LightGlm.Model.TensorNames;

namespace LightGlm.Model.Lora;

public static class FrozenMerge
{
    /// <summary>
    /// Every tensor of the merged model in our names and layout order (q, k, v and gate, up split from their fused
    /// maps), as <paramref name="dtype"/>: base rows + the adapters' update (none when no adapters are attached).
    /// </summary>
    public static List<TensorToWrite> Tensors(GlmModel model, TensorDType dtype)
    {
        var fb = model.FrozenBase ?? throw new ArgumentException("the model has no frozen weight source; save it with ModelDirectory.Save");
        var lora = model.Lora;
        var c = model.Config;
        int C = c.C, HD = c.H * c.D, KVD = c.KV * c.D, F = c.F;
        var list = new List<TensorToWrite>
        {
            new(Embed, dtype, [c.V, C], (row, count, dst) =>
            {
                var ids = new int[count];
                for (int i = 0; i < count; i++) ids[i] = (int)row + i;
                fb.Embed(ids, dst[..(count * C)]);
            }),
        };
        TensorToWrite Vector(string name, ReadOnlyMemory<float> v) => TensorToWrite.Of(name, [v.Length], v, dtype);
        TensorToWrite Rows(string name, Projection p, int first, int rows, int layer, LoraTarget? target) =>
            new(name, dtype, [rows, p.In], (row, count, dst) =>
            {
                var d = dst[..(count * p.In)];
                p.ReadRows(first + (int)row, count, d);
                if (lora is not null && target is { } t) lora.AddDelta(layer, t, first + (int)row, count, d);
            });
        for (int l = 0; l < c.L; l++)
        {
            var qkv = fb.Qkv(l);
            list.Add(Vector(InputNorm(l), model.Parameter(InputNorm(l)).ToArray()));
            list.Add(Rows(Q(l), qkv, 0, HD, l, LoraTarget.Qkv));
            list.Add(Rows(K(l), qkv, HD, KVD, l, LoraTarget.Qkv));
            list.Add(Rows(V(l), qkv, HD + KVD, KVD, l, LoraTarget.Qkv));
            if (c.AttentionBias)
            {
                var bias = qkv.Bias.IsEmpty ? new float[HD + 2 * KVD] : qkv.Bias;
                list.Add(Vector(QBias(l), bias[..HD]));
                list.Add(Vector(KBias(l), bias.Slice(HD, KVD)));
                list.Add(Vector(VBias(l), bias.Slice(HD + KVD, KVD)));
            }
            list.Add(Rows(O(l), fb.O(l), 0, C, l, LoraTarget.O));
            list.Add(Vector(PostNorm(l), model.Parameter(PostNorm(l)).ToArray()));
            list.Add(Rows(Gate(l), fb.GateUp(l), 0, F, l, LoraTarget.GateUp));
            list.Add(Rows(Up(l), fb.GateUp(l), F, F, l, LoraTarget.GateUp));
            list.Add(Rows(Down(l), fb.Down(l), 0, C, l, LoraTarget.Down));
        }
        list.Add(Vector(FinalNorm, model.Parameter(FinalNorm).ToArray()));
        if (!c.TieWordEmbeddings) list.Add(Rows(LmHead, fb.Head, 0, c.V, c.L, null));
        return list;
    }

    /// <summary>
    /// Writes the merged model as a model directory (config.json, weights in <paramref name="dtype"/>, sharded above
    /// <paramref name="maxShardBytes"/>, the tokenizer files of <paramref name="tokenizerFrom"/>), whole or not at all.
    /// </summary>
    public static void Save(GlmModel model, string outDir, string tokenizerFrom, TensorDType dtype = TensorDType.BF16, long maxShardBytes = 5_000_000_000)
    {
        var tensors = Tensors(model, dtype);
        ModelDirectory.Replace(outDir, partial =>
        {
            SafeTensorsWriter.WriteSharded(partial, tensors, maxShardBytes, new Dictionary<string, string> { ["format"] = "pt" });
            var config = model.Config.Clone();
            config.OtherFields?.Remove(QuantizationEntry.Key); // a quantized base's copy is a plain model of the stored dtype
            config.Save(Path.Combine(partial, "config.json"));
            ModelDirectory.CopyTokenizerFiles(tokenizerFrom, partial);
        });
    }
}
