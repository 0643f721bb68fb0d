// Converts between compression's named tensors and the engine's GlmModel arena (same contract names and shapes).
using LightGlm.Compression.Tensors;
using LightGlm.Model;

namespace LightGlm.Compression;

public static class ModelBridge
{
    /// <summary>A GlmModel holding these weights (every tensor of its layout must be present with its shape).</summary>
    public static GlmModel ToModel(ModelFiles m)
    {
        var model = new GlmModel(m.Config);
        foreach (var t in model.Layout.Tensors)
            m.Weights.Get(t.Name, t.Shape).Data.AsSpan().CopyTo(model.Weights.AsSpan(t.Offset, t.Length));
        return model;
    }

    /// <summary>Named copies of a model's weights (or of its gradients with <paramref name="grads"/>).</summary>
    public static TensorSet Tensors(GlmModel model, bool grads = false)
    {
        var set = new TensorSet();
        var src = grads ? model.Grads : model.Weights;
        foreach (var t in model.Layout.Tensors) set.Add(t.Name, (int[])t.Shape.Clone(), src.AsSpan(t.Offset, t.Length).ToArray());
        return set;
    }

    /// <summary>The model as compression's files, under its own config.</summary>
    public static ModelFiles FromModel(GlmModel model) => new(model.Config, Tensors(model));
}
