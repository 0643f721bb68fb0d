// `lightglm export`: a LightGlm model directory -> a Hugging Face checkpoint of the matching architecture.
using LightGlm.IO;
using LightGlm.Model.Checkpoints;

namespace LightGlm.Interop;

public sealed record ExportReport(HfArchitecture Architecture, IReadOnlyList<string> WeightFiles, IReadOnlyList<(string Name, string Kind)> TokenizerFiles);

public static class HfExporter
{
    /// <summary>
    /// Writes <paramref name="model"/> (a LightGlm model directory; an HF checkpoint is accepted too) as
    /// <paramref name="target"/>: config.json of that architecture, its tensor names and fused layouts (q|k|v into
    /// ChatGLM's query_key_value, gate|up into dense_h_to_4h, rotary pairs permuted when conventions differ),
    /// safetensors in <paramref name="dtype"/> sharded like save_pretrained, and the tokenizer files.
    /// </summary>
    public static ExportReport Export(string model, HfArchitecture target, string outDir, TensorDType dtype = TensorDType.F32,
        long maxShardBytes = HfImporter.DefaultMaxShardBytes)
    {
        if (Path.GetFullPath(model).TrimEnd('/') == Path.GetFullPath(outDir).TrimEnd('/'))
            throw new IOException($"--out {outDir} is the model directory; choose a new directory");
        using var w = MappedWeights.Open(model);
        var c = w.Config;
        var layout = ArchitectureMap.For(target, c);
        var tensors = new List<TensorToWrite>();
        byte[]? shared = null;
        foreach (var group in layout.Mappings.GroupBy(m => m.Hf, StringComparer.Ordinal))
        {
            var parts = group.ToList();
            long[] shape = parts[0].HfShape;
            long rowLen = parts[0].RowLength;
            // HF row -> (our tensor, our row); every HF row must be covered exactly once
            var source = new (MappedTensor T, int Row)[shape[0]];
            foreach (var m in parts)
            {
                var t = w[m.Ours];
                for (int r = 0; r < m.HfRows.Length; r++)
                {
                    if (source[m.HfRows[r]].T is not null) throw new InvalidOperationException($"{group.Key}: row {m.HfRows[r]} mapped twice");
                    source[m.HfRows[r]] = (t, r);
                }
            }
            if (source.Any(s => s.T is null)) throw new InvalidOperationException($"{group.Key}: some rows have no source");
            tensors.Add(new TensorToWrite(group.Key, dtype, shape, (row, count, dst) =>
            {
                if (shared is null || shared.Length < rowLen * 2) shared = new byte[Math.Max(rowLen * 2, 1 << 16)];
                for (int i = 0; i < count; i++)
                {
                    var (t, r) = source[row + i];
                    w.ReadRows(t, r, 1, dst.Slice((int)(i * rowLen), (int)rowLen), shared);
                }
            }));
        }
        foreach (var (name, shape) in layout.Zero)
            tensors.Add(new TensorToWrite(name, dtype, shape, (_, _, dst) => dst.Clear()));
        foreach (var (name, values) in layout.Generated)
            tensors.Add(new TensorToWrite(name, dtype, [values.Length], (row, count, dst) => values.AsSpan((int)row, count).CopyTo(dst)));
        tensors.Sort((a, b) => NaturalOrder(a.Name, b.Name)); // HF's order: embedding, layers 0..L-1, final norm, head

        Directory.CreateDirectory(outDir);
        var files = SafeTensorsWriter.WriteSharded(outDir, tensors, maxShardBytes, new Dictionary<string, string> { ["format"] = "pt" });
        var hfConfig = ConfigTranslation.ToHf(target, c, dtype); // token ids as the config holds them, lists included
        AtomicFile.WriteAllText(Path.Combine(outDir, "config.json"),
            hfConfig.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n");
        var tok = TokenizerFiles.Copy(model, outDir);
        tok.AddRange(TokenizerFiles.WriteConfigFor(outDir, c));
        return new ExportReport(target, files, tok);
    }

    /// <summary>Orders names with numbers compared as numbers (layers.2 before layers.10), then embeddings first, heads last.</summary>
    static int NaturalOrder(string a, string b)
    {
        int Rank(string n) => n.Contains("embed") ? 0 : n.Contains("layers.") ? 1 : n.Contains("lm_head") || n.Contains("output_layer") ? 3 : 2;
        int c = Rank(a).CompareTo(Rank(b));
        if (c != 0) return c;
        int Layer(string n)
        {
            int i = n.IndexOf("layers.", StringComparison.Ordinal);
            if (i < 0) return -1;
            int j = i + 7, k = j;
            while (k < n.Length && char.IsDigit(n[k])) k++;
            return int.Parse(n.AsSpan(j, k - j));
        }
        c = Layer(a).CompareTo(Layer(b));
        return c != 0 ? c : string.CompareOrdinal(a, b);
    }
}
