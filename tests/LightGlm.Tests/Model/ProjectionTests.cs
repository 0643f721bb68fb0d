// Quantizing a projection a tile of rows at a time gives the bytes of quantizing the whole matrix at once.
using LightGlm.Kernels.Quantized;
using LightGlm.Model.Inference;

namespace LightGlm.Tests.Model;

public class ProjectionTests
{
    [Theory]
    [InlineData(QuantFormat.Int8, 1200, 512)]
    [InlineData(QuantFormat.Int4, 700, 1000)]
    public void TiledQuantizationEqualsWholeMatrix(QuantFormat f, int rows, int cols)
    {
        var rng = new Random(5);
        var w = new float[rows * cols];
        for (int i = 0; i < w.Length; i++) w[i] = (float)(rng.NextDouble() * 2 - 1);
        Assert.True(rows > (1 << 18) / cols, "the matrix must span several tiles");
        var tiled = QuantizedProjection.From(new Fp32Projection(w, rows, cols, default), f, 32);
        var whole = QuantizedMatrix.Quantize(w, rows, cols, f, 32);
        Assert.Equal(whole.Data, tiled.Matrix.Data);
        Assert.Equal((whole.Rows, whole.Cols), (tiled.Matrix.Rows, tiled.Matrix.Cols));
    }
}
