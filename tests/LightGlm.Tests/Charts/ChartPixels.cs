// Reads a chart back as pixels: how much of it is drawn in a given colour, and how two images differ. The charts'
// series are coloured (ScottPlot's Category10) while axes, text, grid and frame are grey, so coloured pixels = data.
using SkiaSharp;

namespace LightGlm.Tests.Charts;

public static class ChartPixels
{
    public static readonly SKColor Blue = SKColor.Parse("#1f77b4"), Orange = SKColor.Parse("#ff7f0e"), Green = SKColor.Parse("#2ca02c");

    /// <summary>The text elements of an SVG chart, trimmed (ScottPlot writes each on its own indented line), with their fonts.</summary>
    public static IReadOnlyList<(string Text, string? Font)> Texts(string svg) =>
        System.Xml.Linq.XDocument.Parse(svg).Descendants().Where(e => e.Name.LocalName == "text")
            .Select(e => (e.Value.Trim(), e.Attribute("font-family")?.Value)).ToArray();

    public static SKBitmap Decode(byte[] png) => SKBitmap.Decode(png) ?? throw new InvalidDataException($"not a decodable image ({png.Length} bytes)");

    /// <summary>Pixels within <paramref name="tolerance"/> (per channel) of <paramref name="color"/>.</summary>
    public static int Count(SKBitmap bmp, SKColor color, int tolerance = 40)
    {
        int n = 0;
        for (int y = 0; y < bmp.Height; y++)
            for (int x = 0; x < bmp.Width; x++)
            {
                var p = bmp.GetPixel(x, y);
                if (Math.Abs(p.Red - color.Red) <= tolerance && Math.Abs(p.Green - color.Green) <= tolerance && Math.Abs(p.Blue - color.Blue) <= tolerance) n++;
            }
        return n;
    }

    public static int Count(byte[] png, SKColor color, int tolerance = 40)
    {
        using var bmp = Decode(png);
        return Count(bmp, color, tolerance);
    }

    /// <summary>Coloured pixels (channels spread by more than 80: series colours, not the greys of axes, text and grid)
    /// in the left half of the image, where the plot is and the legend (right of the plot) is not: 0 for a chart whose
    /// data is not drawn; a single marker is ~100 at the PNG's 2× scale.</summary>
    public static int DataPixels(byte[] png)
    {
        using var bmp = Decode(png);
        int n = 0;
        for (int y = 0; y < bmp.Height; y++)
            for (int x = 0; x < bmp.Width / 2; x++)
            {
                var p = bmp.GetPixel(x, y);
                if (Math.Max(p.Red, Math.Max(p.Green, p.Blue)) - Math.Min(p.Red, Math.Min(p.Green, p.Blue)) > 80) n++;
            }
        return n;
    }

    /// <summary>Pixels whose channels differ by more than 64 between two images of the same size.</summary>
    public static int Differing(byte[] a, byte[] b)
    {
        using var x = Decode(a);
        using var y = Decode(b);
        Assert.Equal((x.Width, x.Height), (y.Width, y.Height));
        int n = 0;
        for (int r = 0; r < x.Height; r++)
            for (int c = 0; c < x.Width; c++)
            {
                var p = x.GetPixel(c, r);
                var q = y.GetPixel(c, r);
                if (Math.Abs(p.Red - q.Red) + Math.Abs(p.Green - q.Green) + Math.Abs(p.Blue - q.Blue) > 64) n++;
            }
        return n;
    }
}
