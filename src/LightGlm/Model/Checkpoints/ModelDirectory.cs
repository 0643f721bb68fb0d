// A model directory: config.json + model.safetensors or shards + index (+ tokenizer.json). Saved whole (a kill leaves the
// old model or the new one, other files in the folder kept); loaded with named errors.
using LightGlm.IO;

namespace LightGlm.Model.Checkpoints;

public static class ModelDirectory
{
    public const string ConfigFile = "config.json";
    public const string WeightsFile = "model.safetensors";
    public const string TokenizerFile = "tokenizer.json";
    /// <summary>What the model was trained to read in its prompt (Translation/PromptFormat.cs); absent = the plain prompt.</summary>
    public const string PromptFormatFile = "prompt_format.json";

    /// <summary>The tokenizer files that travel with a checkpoint (tokenizers, their configs, generation defaults): part of the model.</summary>
    public static readonly string[] TokenizerFileNames =
    [
        TokenizerFile, "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json",
        "added_tokens.json", "vocab.json", "merges.txt", "generation_config.json",
    ];

    /// <summary>
    /// Writes config.json and model.safetensors (F32) as <paramref name="dir"/>, copying tokenizer.json when given — the
    /// directory whole (<see cref="Replace"/>): a kill leaves the old model or the new one, and other files kept there
    /// (a log, a plan, training checkpoints) stay.
    /// </summary>
    public static void Save(GlmModel model, string dir, string? tokenizerJson = null) =>
        Replace(dir, partial => WriteFiles(model, partial, tokenizerJson));

    /// <summary>
    /// The same, with every tokenizer file of the model in <paramref name="tokenizerFrom"/> (tokenizer.json or a
    /// SentencePiece tokenizer.model, their configs): what a command that derives a model from another writes.
    /// </summary>
    public static void SaveWithTokenizerOf(GlmModel model, string dir, string tokenizerFrom) =>
        Replace(dir, partial => { WriteFiles(model, partial); CopyTokenizerFiles(tokenizerFrom, partial); });

    /// <summary>Copies the tokenizer files present in <paramref name="from"/> to <paramref name="to"/> (each temp + rename); returns their names.</summary>
    public static List<string> CopyTokenizerFiles(string from, string to)
    {
        var copied = new List<string>();
        foreach (var n in TokenizerFileNames)
        {
            string src = Path.Combine(from, n), dst = Path.Combine(to, n);
            if (!File.Exists(src) || Path.GetFullPath(src) == Path.GetFullPath(dst)) continue;
            AtomicFile.Copy(src, dst);
            copied.Add(n);
        }
        return copied;
    }

    /// <summary>
    /// Writes a model directory whole: <paramref name="write"/> fills a fresh folder beside <paramref name="dir"/>, which
    /// then takes its place (<see cref="AtomicDirectory.Replace"/>). The model's own files of the old directory
    /// (<see cref="IsModelFile"/>: config, weights, shards, index, tokenizer files, prompt format) are replaced or dropped; every other
    /// entry is kept. The one way every command writes a model directory (prune, distill, finetune, vocab-prune, train).
    /// </summary>
    public static void Replace(string dir, Action<string> write) => AtomicDirectory.Replace(dir, write, IsModelFile);

    /// <summary>Whether a file of a model directory is part of the model (so a new model replaces or drops it).</summary>
    public static bool IsModelFile(string name)
    {
        int tmp = name.IndexOf(".tmp-", StringComparison.Ordinal);
        if (name.StartsWith('.') && tmp > 1) name = name[1..tmp]; // AtomicFile's temp of one (.NAME.tmp-PID-GUID), left by a kill of a per-file write
        return name is ConfigFile or WeightsFile or CheckpointArchive.IndexFile or PromptFormatFile || TokenizerFileNames.Contains(name)
            || (name.StartsWith("model-", StringComparison.Ordinal) && name.EndsWith(".safetensors", StringComparison.Ordinal));
    }

    /// <summary>Writes config.json and model.safetensors (F32) into <paramref name="dir"/> (created), file by file: for a folder that is itself published whole.</summary>
    public static void WriteFiles(GlmModel model, string dir, string? tokenizerJson = null)
    {
        Directory.CreateDirectory(dir);
        SafeTensorsWriter.Write(Path.Combine(dir, WeightsFile), SafeTensorsWriter.FromArena(model.Layout, model.Weights),
            new Dictionary<string, string> { ["format"] = "pt" });
        AtomicFile.WriteAllText(Path.Combine(dir, ConfigFile), model.Config.ToJson());
        if (tokenizerJson is not null)
        {
            var dest = Path.Combine(dir, TokenizerFile);
            if (!File.Exists(tokenizerJson)) throw new FileNotFoundException($"{tokenizerJson}: tokenizer file not found", tokenizerJson);
            if (Path.GetFullPath(tokenizerJson) != Path.GetFullPath(dest)) AtomicFile.Copy(tokenizerJson, dest);
        }
    }

    /// <summary>Loads config.json and model.safetensors from <paramref name="dir"/>.</summary>
    public static GlmModel Load(string dir)
    {
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"{dir}: model directory not found");
        QuantizedCheckpoint.RefuseFloatReader(dir); // int8/int4 quants are not an fp32 arena: say what the directory is
        var config = ModelConfig.Load(Path.Combine(dir, ConfigFile));
        var model = new GlmModel(config);
        var weights = Path.Combine(dir, WeightsFile);
        if (File.Exists(Path.Combine(dir, CheckpointArchive.IndexFile)))
        {   // sharded (e.g. a bf16 import): the index says which shard holds which tensor
            using var archive = CheckpointArchive.Open(dir);
            ReadArena(dir, archive.Tensors, (e, a, o) => archive.FileOf(e).ReadFloat32(e.Name, a, o), model.Layout, model.Weights, "");
            return model;
        }
        if (!File.Exists(weights)) throw new FileNotFoundException($"{weights}: weights file not found (a model directory holds {ConfigFile} and {WeightsFile}, or shards + {CheckpointArchive.IndexFile})", weights);
        ReadArena(weights, model.Layout, model.Weights);
        return model;
    }

    /// <summary>Path of tokenizer.json in <paramref name="dir"/>, or null.</summary>
    public static string? TokenizerPath(string dir)
    {
        var p = Path.Combine(dir, TokenizerFile);
        return File.Exists(p) ? p : null;
    }

    /// <summary>
    /// Fills an arena from a safetensors file: every tensor of the layout must be present with the layout's shape.
    /// Unknown tensors are errors (a wrong file), except rotary inv_freq buffers and a redundant lm_head of a tied model.
    /// </summary>
    public static void ReadArena(string path, ParameterLayout layout, float[] arena, string prefix = "")
    {
        using var f = new SafeTensorsFile(path);
        ReadArena(path, f.Tensors, (e, a, o) => f.ReadFloat32(e.Name, a, o), layout, arena, prefix);
    }

    static void ReadArena(string path, IReadOnlyDictionary<string, TensorEntry> tensors, Action<TensorEntry, float[], int> read,
        ParameterLayout layout, float[] arena, string prefix)
    {
        var problems = new List<string>();
        foreach (var t in layout.Tensors)
        {
            if (!tensors.TryGetValue(prefix + t.Name, out var info)) { problems.Add($"tensor '{prefix + t.Name}' {t.ShapeText} is missing"); continue; }
            if (!info.Shape.SequenceEqual(t.Shape.Select(d => (long)d)))
            { problems.Add($"tensor '{info.Name}' has shape {info.ShapeText}, the config needs {t.ShapeText}"); continue; }
            read(info, arena, t.Offset);
        }
        foreach (var name in tensors.Keys)
        {
            if (!name.StartsWith(prefix, StringComparison.Ordinal)) continue;
            var bare = name[prefix.Length..];
            if (layout.TryGet(bare, out _) || bare.EndsWith("inv_freq", StringComparison.Ordinal)) continue;
            if (bare == "lm_head.weight" && layout.Config.TieWordEmbeddings) continue;
            problems.Add($"unexpected tensor '{name}' (not in a model of this config)");
        }
        if (problems.Count > 0)
            throw new InvalidDataException($"{path}: does not match the config ({problems.Count} problem{(problems.Count > 1 ? "s" : "")}):\n  - "
                                           + string.Join("\n  - ", problems.Take(20)));
    }
}
