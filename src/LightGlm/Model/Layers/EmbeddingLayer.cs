// Token embedding: x (N, C) = E[tokens], and its backward dE[tok] += dx.
using LightGlm.Model.Ops;

namespace LightGlm.Model.Layers;

public sealed class EmbeddingLayer(GlmModel model)
{
    /// <summary>Writes Hidden(0) from the batch's tokens.</summary>
    public void Forward(ActivationCache cache, Batch batch)
    {
        var c = model.Config;
        if (model.FrozenBase is { } fb)
        {
            batch.Validate(c);
            fb.Embed(batch.Tokens, cache.Hidden(0).Span);
            return;
        }
        Pointwise.EmbeddingForward(cache.Hidden(0), batch.Tokens, model.W(model.Layout.Embedding, c.V * c.C), c.C);
    }

    /// <summary>Adds GradHidden (= dLoss/dHidden(0)) into the embedding's gradient rows.</summary>
    public void Backward(ActivationCache cache, Batch batch)
    {
        var c = model.Config;
        if (model.Lora is not null) return; // frozen base (LoRA): the embedding takes no gradient
        Pointwise.EmbeddingBackward(model.G(model.Layout.Embedding, c.V * c.C), batch.Tokens, cache.GradHidden, c.C);
    }
}
