// Loads and saves a model directory (config.json + model.safetensors [+ tokenizer.json]) for compression commands.
using LightGlm.Compression.Tensors;

namespace LightGlm.Compression;

/// <summary>A model as compression sees it: its shape and its named weights.</summary>
public sealed record ModelFiles(ModelShape Shape, TensorSet Weights)
{
    public static ModelFiles Load(string dir)
    {
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"{dir}: model directory not found (expected config.json and model.safetensors)");
        var shape = ModelShape.Load(Path.Combine(dir, "config.json"));
        var weights = SafeTensorsFile.Read(Path.Combine(dir, "model.safetensors"));
        return new ModelFiles(shape, weights);
    }

    /// <summary>Writes config.json and model.safetensors into dir (created), copying tokenizer.json from tokenizerFrom if given.</summary>
    public void Save(string dir, string? tokenizerFrom = null, IReadOnlyDictionary<string, string>? metadata = null)
    {
        Directory.CreateDirectory(dir);
        Shape.Save(Path.Combine(dir, "config.json"));
        SafeTensorsFile.Write(Path.Combine(dir, "model.safetensors"), Weights, metadata);
        if (tokenizerFrom is not null && File.Exists(Path.Combine(tokenizerFrom, "tokenizer.json")))
            File.Copy(Path.Combine(tokenizerFrom, "tokenizer.json"), Path.Combine(dir, "tokenizer.json"), overwrite: true);
    }
}
