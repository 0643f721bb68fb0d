// Vocabulary pruning: keep the tokens a domain corpus uses, shrink the embedding and LM head to them, remap tokenizer.json.
using System.Text.Json;
using System.Text.Json.Nodes;
using LightGlm.Compression.Tensors;
using LightGlm.IO;
using LightGlm.Model;
using LightGlm.Text.Tokenizers;
using static LightGlm.Model.TensorNames;

namespace LightGlm.Compression.Pruning;

/// <summary>What a vocabulary pruning kept: old ids ascending (new id = position), and the counts that chose them.</summary>
public sealed record VocabPlan(int[] Kept, int OldVocab, int Used, int ByteTokens, int Specials, int Ancestors)
{
    /// <summary>old id → new id, −1 for dropped ones.</summary>
    public int[] NewIds()
    {
        var map = Enumerable.Repeat(-1, OldVocab).ToArray();
        for (int i = 0; i < Kept.Length; i++) map[Kept[i]] = i;
        return map;
    }
}

/// <summary>
/// Kept = tokens the corpus uses ∪ the 256 byte tokens (any text still encodes) ∪ added/special tokens and the config's
/// bos/eos/pad ∪ the BPE merge ancestors of every kept token. With that closure, BPE on the counted text segments
/// exactly as before: every merge that fires while encoding it builds a symbol that ends up inside a kept token, so it
/// is kept, and the merges removed were never applicable-and-lowest-ranked on that text. New ids keep the old order.
/// Rows of the embedding and LM head are gathered, so the pruned model's logits over kept tokens are the original's.
/// </summary>
public static class VocabPruner
{
    /// <summary>How often each id occurs when <paramref name="texts"/> are encoded (specials parsed).</summary>
    public static long[] Count(HfTokenizer tokenizer, IEnumerable<string> texts)
    {
        var counts = new long[tokenizer.VocabSize];
        foreach (var t in texts)
            foreach (var id in tokenizer.Encode(t)) counts[id]++;
        return counts;
    }

    public static VocabPlan Plan(JsonObject tokenizerJson, long[] counts, int modelVocab, IEnumerable<int> alwaysKeep, long minCount = 1)
    {
        var model = tokenizerJson["model"] as JsonObject ?? throw new InvalidDataException("tokenizer.json: no 'model' object");
        if (model["type"]?.GetValue<string>() is { } type && type != "BPE") throw new InvalidDataException($"tokenizer.json: model type '{type}' is not BPE; vocabulary pruning needs merges to remap");
        var vocab = (model["vocab"] as JsonObject ?? throw new InvalidDataException("tokenizer.json: model.vocab missing"))
            .ToDictionary(p => p.Key, p => p.Value!.GetValue<int>(), StringComparer.Ordinal);
        var added = (tokenizerJson["added_tokens"] as JsonArray ?? []).Select(a => a!["id"]!.GetValue<int>()).ToList();
        int tokSize = Math.Max(vocab.Count == 0 ? 0 : vocab.Values.Max() + 1, added.Count == 0 ? 0 : added.Max() + 1);
        if (tokSize > modelVocab)
            throw new InvalidDataException($"tokenizer.json has ids up to {tokSize - 1} but the model's vocab_size is {modelVocab}: they do not belong together");
        var keep = new bool[modelVocab];
        int used = 0;
        for (int i = 0; i < counts.Length && i < modelVocab; i++) if (counts[i] >= minCount && counts[i] > 0) { keep[i] = true; used++; }
        int bytes = 0;
        foreach (var c in ByteLevel.ByteToChar) if (vocab.TryGetValue(c.ToString(), out int id) && !keep[id]) { keep[id] = true; bytes++; }
        for (int b = 0; b < 256; b++) if (vocab.TryGetValue($"<0x{b:X2}>", out int id) && !keep[id]) { keep[id] = true; bytes++; } // byte fallback
        int specials = 0;
        foreach (var id in added.Concat(alwaysKeep)) if ((uint)id < (uint)modelVocab && !keep[id]) { keep[id] = true; specials++; }
        // Merge closure: a kept token's two parts are kept, recursively.
        var idToToken = vocab.ToDictionary(p => p.Value, p => p.Key);
        var parts = new Dictionary<int, (int, int)>();
        foreach (var (a, b) in Merges(model))
            if (vocab.TryGetValue(a, out int ia) && vocab.TryGetValue(b, out int ib) && vocab.TryGetValue(a + b, out int iab)) parts.TryAdd(iab, (ia, ib));
        int ancestors = 0;
        var stack = new Stack<int>(Enumerable.Range(0, modelVocab).Where(i => keep[i]));
        while (stack.Count > 0)
            if (parts.TryGetValue(stack.Pop(), out var p))
                foreach (var x in new[] { p.Item1, p.Item2 })
                    if (!keep[x]) { keep[x] = true; ancestors++; stack.Push(x); }
        var kept = Enumerable.Range(0, modelVocab).Where(i => keep[i]).ToArray();
        return new VocabPlan(kept, modelVocab, used, bytes, specials, ancestors);
    }

    /// <summary>Merges as (left, right), from "a b" strings or ["a", "b"] pairs.</summary>
    static IEnumerable<(string, string)> Merges(JsonObject model)
    {
        foreach (var m in model["merges"] as JsonArray ?? [])
        {
            if (m is JsonArray pair) { yield return (pair[0]!.GetValue<string>(), pair[1]!.GetValue<string>()); continue; }
            var s = m!.GetValue<string>();
            int sp = s.IndexOf(' ', 1);
            if (sp < 0) throw new InvalidDataException($"tokenizer.json: merge '{s}' is not \"left right\"");
            yield return (s[..sp], s[(sp + 1)..]);
        }
    }

    /// <summary>tokenizer.json with the dropped tokens removed and every id renumbered (vocab, merges, added tokens, post-processor ids).</summary>
    public static JsonObject RemapTokenizer(JsonObject tokenizerJson, VocabPlan plan)
    {
        var map = plan.NewIds();
        int New(int old) => (uint)old < (uint)map.Length ? map[old] : -1;
        var j = (JsonObject)tokenizerJson.DeepClone();
        var model = (JsonObject)j["model"]!;
        var vocab = (JsonObject)model["vocab"]!;
        var kept = new JsonObject();
        var keptTokens = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (tok, id) in vocab)
            if (New(id!.GetValue<int>()) is var n and >= 0) { kept[tok] = n; keptTokens.Add(tok); }
        model["vocab"] = kept;
        var merges = new JsonArray();
        bool asPairs = (model["merges"] as JsonArray)?.FirstOrDefault() is JsonArray;
        foreach (var (a, b) in Merges(model))
            if (keptTokens.Contains(a) && keptTokens.Contains(b) && keptTokens.Contains(a + b))
                merges.Add(asPairs ? new JsonArray(a, b) : JsonValue.Create(a + " " + b));
        model["merges"] = merges;
        if (j["added_tokens"] is JsonArray added)
        {
            var remapped = new JsonArray();
            foreach (var a in added.Select(x => (JsonObject)x!.DeepClone()))
                if (New(a["id"]!.GetValue<int>()) is var n and >= 0) { a["id"] = n; remapped.Add(a); }
            j["added_tokens"] = remapped;
        }
        RemapIds(j["post_processor"], New);
        return j;
    }

    /// <summary>TemplateProcessing keeps {"special_tokens": {name: {"ids": [..]}}}: renumber those.</summary>
    static void RemapIds(JsonNode? node, Func<int, int> map)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (k, v) in o.ToList())
                    if (k == "ids" && v is JsonArray ids)
                        o[k] = new JsonArray(ids.Select(i => (JsonNode)JsonValue.Create(map(i!.GetValue<int>()))!).ToArray());
                    else RemapIds(v, map);
                break;
            case JsonArray a:
                foreach (var x in a) RemapIds(x, map);
                break;
        }
    }

    /// <summary>The model with embedding and LM head rows gathered to the kept ids; config vocab_size and bos/eos/pad ids renumbered.</summary>
    public static ModelFiles Prune(ModelFiles m, VocabPlan plan)
    {
        var t = m.Config;
        if (plan.OldVocab != t.V) throw new ArgumentException($"the plan is for vocab_size {plan.OldVocab}, the model has {t.V}");
        var map = plan.NewIds();
        var w = new TensorSet();
        foreach (var x in m.Weights.All)
            w.Add(x.Name is Embed or LmHead ? StructuredPruner.Gather(x, plan.Kept, Enumerable.Range(0, t.C).ToArray(), x.Name) : x);
        var renumbered = t.Clone(); // ids first, so that the resized config's ids are inside its vocabulary
        renumbered.BosTokenIds = t.BosTokenIds?.Map(id => map[id]);
        renumbered.EosTokenIds = t.EosTokenIds?.Map(id => map[id]);
        renumbered.PadTokenIds = t.PadTokenIds?.Map(id => map[id]);
        return new ModelFiles(renumbered.Resized(v: plan.Kept.Length), w);
    }

    /// <summary>The config's bos/eos/pad ids (numbers or lists): always kept.</summary>
    public static IEnumerable<int> ConfigTokenIds(ModelConfig s) =>
        new[] { s.BosTokenIds, s.EosTokenIds, s.PadTokenIds }.SelectMany(ids => ids?.Ids ?? []);

    /// <summary>
    /// `lightglm vocab-prune`: counts the ids of <paramref name="texts"/> with the model's tokenizer.json, prunes, and writes
    /// <paramref name="outDir"/> (config.json, model.safetensors, remapped tokenizer.json; other tokenizer files are not
    /// copied because their ids would be stale).
    /// </summary>
    public static VocabPlan Run(string modelDir, IEnumerable<string> texts, string outDir, long minCount = 1)
    {
        string tokPath = Path.Combine(modelDir, "tokenizer.json");
        if (!File.Exists(tokPath)) throw new FileNotFoundException($"{tokPath}: vocabulary pruning needs the model's tokenizer.json (ids are remapped in it)", tokPath);
        var m = ModelFiles.Load(modelDir);
        var tokJson = Model.Checkpoints.JsonFile.ReadObject(tokPath, "a tokenizer.json");
        var counts = Count(HfTokenizer.Create(tokPath), texts);
        var plan = Plan(tokJson, counts, m.Config.V, ConfigTokenIds(m.Config), minCount);
        var pruned = Prune(m, plan);
        Model.Checkpoints.ModelDirectory.Replace(outDir, partial =>
        {
            pruned.WriteFiles(partial);
            AtomicFile.WriteAllText(Path.Combine(partial, "tokenizer.json"),
                RemapTokenizer(tokJson, plan).ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
        });
        return plan;
    }
}
