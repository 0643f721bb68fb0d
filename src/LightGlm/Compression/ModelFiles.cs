// Loads and saves a model directory (config.json + safetensors [+ tokenizer files]) for compression commands.
using LightGlm.Compression.Tensors;
using LightGlm.Model;
using LightGlm.Model.Checkpoints;

namespace LightGlm.Compression;

/// <summary>A model as compression sees it: its config and its named fp32 weights (small models; big ones stream, see MappedTeacher).</summary>
public sealed record ModelFiles(ModelConfig Config, TensorSet Weights)
{
    public static ModelFiles Load(string dir)
    {
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"{dir}: model directory not found (expected config.json and model.safetensors)");
        var config = ModelConfig.Load(Path.Combine(dir, "config.json"), arena: false);
        using var archive = CheckpointArchive.Open(dir);
        var weights = new TensorSet();
        foreach (var e in archive.Tensors.Values)
            weights.Add(e.Name, e.Shape.Select(d => checked((int)d)).ToArray(), archive.ReadAll(e));
        return new ModelFiles(config, weights);
    }

    /// <summary>The model as an inference weight source (its tensors in place, no copy): what measuring a student runs on.</summary>
    public Model.Inference.InferenceWeights InferenceWeights() =>
        Model.Inference.InferenceWeights.Named(Config,
            name => Weights.TryGet(name) is { } t && t.Shape.Length == 2 ? new Model.Inference.ArrayRows(t.Data, t.Rows, t.Cols) : null,
            name => Weights.TryGet(name)?.Data);

    /// <summary>
    /// Writes config.json and model.safetensors (F32, tensors in name order) as dir, copying the tokenizer files
    /// (tokenizer.json, tokenizer.model, …) from tokenizerFrom if given — the directory whole (<see cref="ModelDirectory.Replace"/>).
    /// </summary>
    public void Save(string dir, string? tokenizerFrom = null, IReadOnlyDictionary<string, string>? metadata = null) =>
        ModelDirectory.Replace(dir, partial => WriteFiles(partial, tokenizerFrom, metadata));

    /// <summary>The files of <see cref="Save"/> written into dir (created) one by one: for a folder published whole by its caller.</summary>
    public void WriteFiles(string dir, string? tokenizerFrom = null, IReadOnlyDictionary<string, string>? metadata = null)
    {
        Directory.CreateDirectory(dir);
        Config.Save(Path.Combine(dir, "config.json"));
        var list = Weights.All.OrderBy(t => t.Name, StringComparer.Ordinal)
            .Select(t => TensorToWrite.Of(t.Name, t.Shape.Select(d => (long)d).ToArray(), t.Data)).ToList();
        SafeTensorsWriter.Write(Path.Combine(dir, "model.safetensors"), list, metadata);
        if (tokenizerFrom is not null) Interop.TokenizerFiles.Copy(tokenizerFrom, dir);
    }
}
