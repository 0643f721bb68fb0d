// Linear layers y = x·Wᵀ + b and their backward, as GEMM calls (the one place the model talks to GEMM).
namespace LightGlm.Model.Ops;

/// <summary>Linear algebra the model needs, expressed on arena views. Forward/backward of nn.Linear.</summary>
internal static class Linear
{
    /// <summary>y (N, Out) = x (N, In) · wᵀ (In, Out) + b (Out). w is (Out, In) row-major, as PyTorch.</summary>
    public static void Forward(TensorView y, TensorView x, TensorView w, TensorView b, int N, int In, int Out)
    {
        Gemm.NT(y, x, w, N, Out, In, accumulate: false);
        if (!b.IsEmpty)
        {
            var bs = b.Span;
            for (int n = 0; n < N; n++) System.Numerics.Tensors.TensorPrimitives.Add(y.Span.Slice(n * Out, Out), bs, y.Span.Slice(n * Out, Out));
        }
    }

    /// <summary>
    /// Inverts y = x·Wᵀ + b: dW (Out, In) += dyᵀ·x; db (Out) += Σ_n dy[n]; dx (N, In) = dy·W (or += when <paramref name="accumulateDx"/>).
    /// dx may be empty (the embedding's input needs no gradient); dw (and db) may be empty (a frozen base under LoRA: the
    /// dW GEMM, a third of the backward's work, is skipped).
    /// </summary>
    public static void Backward(TensorView dx, TensorView dw, TensorView db, TensorView dy, TensorView x, TensorView w,
        int N, int In, int Out, bool accumulateDx = false)
    {
        if (!dw.IsEmpty) Gemm.TN(dw, dy, x, Out, In, N, accumulate: true);
        if (!db.IsEmpty)
        {
            var dbs = db.Span;
            for (int n = 0; n < N; n++) System.Numerics.Tensors.TensorPrimitives.Add(dbs, dy.Span.Slice(n * Out, Out), dbs);
        }
        if (!dx.IsEmpty) Gemm.NN(dx, dy, w, N, In, Out, accumulateDx);
    }
}
