// A weight matrix (out, in) stored int8 or int4 with one fp32 scale per group of G input columns.
namespace LightGlm.Kernels.Quantized;

/// <summary>
/// Row-major (Rows, Cols) weights as in nn.Linear, quantized per row in groups of <see cref="QuantBlockLayout.GroupSize"/>
/// columns; a row whose width is not a multiple of G is zero-padded to <see cref="PaddedCols"/> (pruned widths rarely are).
/// Per element, |w − d·q| ≤ d/2 with d = max|w in group| / QMax (round to nearest), the bound the tests check.
/// </summary>
public sealed class QuantizedMatrix
{
    public QuantBlockLayout Layout { get; }
    public int Rows { get; }
    public int Cols { get; }
    public int PaddedCols { get; }
    public int BlocksPerRow => PaddedCols / Layout.GroupSize;
    public int RowBytes => BlocksPerRow * Layout.BlockBytes;

    /// <summary>All blocks, row after row: Rows · BlocksPerRow · BlockBytes bytes.</summary>
    public byte[] Data { get; }

    public QuantizedMatrix(QuantBlockLayout layout, int rows, int cols, byte[] data)
    {
        if (rows <= 0 || cols <= 0) throw new ArgumentException($"quantized matrix shape ({rows}, {cols}) must be positive");
        Layout = QuantBlockLayout.Create(layout.Format, layout.GroupSize);
        Rows = rows;
        Cols = cols;
        PaddedCols = (cols + layout.GroupSize - 1) / layout.GroupSize * layout.GroupSize;
        long expected = (long)rows * RowBytes;
        if (data.LongLength != expected)
            throw new ArgumentException($"quantized matrix ({rows}, {cols}) {layout.Format} G={layout.GroupSize} needs {expected} bytes, got {data.LongLength}");
        Data = data;
    }

    /// <summary>Size in bytes of the stored weights (scales included).</summary>
    public long ByteSize => Data.LongLength;

    /// <summary>Quantizes fp32 weights w (rows·cols, row-major).</summary>
    public static QuantizedMatrix Quantize(ReadOnlySpan<float> w, int rows, int cols, QuantFormat format, int groupSize = 32)
    {
        var layout = QuantBlockLayout.Create(format, groupSize);
        if (w.Length != (long)rows * cols) throw new ArgumentException($"weights have {w.Length} values, expected rows·cols = {rows}·{cols}");
        int padded = (cols + groupSize - 1) / groupSize * groupSize;
        int blocks = padded / groupSize, rowBytes = blocks * layout.BlockBytes;
        var data = new byte[checked(rows * rowBytes)];
        var group = new float[groupSize];
        for (int r = 0; r < rows; r++)
            for (int b = 0; b < blocks; b++)
            {
                int c0 = b * groupSize, n = Math.Min(groupSize, cols - c0);
                Array.Clear(group);
                w.Slice(r * cols + c0, n).CopyTo(group);
                QuantizeBlock(group, layout, data.AsSpan(checked(r * rowBytes + b * layout.BlockBytes), layout.BlockBytes));
            }
        return new QuantizedMatrix(layout, rows, cols, data);
    }

    /// <summary>One block: d = max|w|/QMax; q = round(w/d). Int4 packs q+8 as byte i = q[i] | q[i+G/2] &lt;&lt; 4 (ggml Q4_0 order).</summary>
    static void QuantizeBlock(ReadOnlySpan<float> g, QuantBlockLayout layout, Span<byte> block)
    {
        float amax = 0;
        foreach (var v in g) amax = MathF.Max(amax, MathF.Abs(v));
        float d = amax / layout.QMax;
        float inv = d > 0 ? 1f / d : 0f;
        BitConverter.TryWriteBytes(block, d);
        var qs = block[4..];
        int G = layout.GroupSize;
        if (layout.Format == QuantFormat.Int8)
        {
            for (int i = 0; i < G; i++) qs[i] = (byte)(sbyte)Math.Clamp((int)MathF.Round(g[i] * inv), -127, 127);
        }
        else
        {
            for (int i = 0; i < G / 2; i++)
            {
                int lo = Math.Clamp((int)MathF.Round(g[i] * inv), -7, 7) + 8;
                int hi = Math.Clamp((int)MathF.Round(g[i + G / 2] * inv), -7, 7) + 8;
                qs[i] = (byte)(lo | hi << 4);
            }
        }
    }

    /// <summary>The scale of group b of row r.</summary>
    public float Scale(int r, int b) => BitConverter.ToSingle(Data, r * RowBytes + b * Layout.BlockBytes);

    /// <summary>Reference dequantization of row r into dst (Cols values): w = d·q.</summary>
    public void DequantizeRow(int r, Span<float> dst)
    {
        if (dst.Length < Cols) throw new ArgumentException($"destination has {dst.Length} values, row needs {Cols}");
        int G = Layout.GroupSize;
        for (int b = 0; b < BlocksPerRow; b++)
        {
            int off = r * RowBytes + b * Layout.BlockBytes;
            float d = BitConverter.ToSingle(Data, off);
            for (int i = 0; i < G; i++)
            {
                int c = b * G + i;
                if (c >= Cols) break;
                int q = Layout.Format == QuantFormat.Int8
                    ? (sbyte)Data[off + 4 + i]
                    : (i < G / 2 ? Data[off + 4 + i] & 0xF : Data[off + 4 + i - G / 2] >> 4) - 8;
                dst[c] = d * q;
            }
        }
    }

    /// <summary>Reference dequantization of the whole matrix (Rows·Cols).</summary>
    public float[] Dequantize()
    {
        var w = new float[(long)Rows * Cols];
        for (int r = 0; r < Rows; r++) DequantizeRow(r, w.AsSpan(r * Cols, Cols));
        return w;
    }
}
