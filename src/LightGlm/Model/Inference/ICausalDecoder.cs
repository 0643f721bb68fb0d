// One sequence fed causally, token ids in, the last token's logits out: our SequenceDecoder and a peer engine
// (llama.cpp in the CLI) alike, so a benchmark's procedure is written once for both.
namespace LightGlm.Model.Inference;

public interface ICausalDecoder
{
    int VocabSize { get; }
    /// <summary>Tokens fed since the last <see cref="Reset"/>.</summary>
    int Length { get; }
    int MaxTokens { get; }

    /// <summary>Empties the sequence (the K/V cache).</summary>
    void Reset();

    /// <summary>Appends <paramref name="tokens"/>; the logits of the last one (V; a view valid until the next call).</summary>
    ReadOnlySpan<float> Forward(scoped ReadOnlySpan<int> tokens);
}
