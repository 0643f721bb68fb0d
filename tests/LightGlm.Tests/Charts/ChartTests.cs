// The charts (ScottPlot): well-formed SVG and a PNG that shows every series; ragged or empty input is refused;
// Chinese labels are drawn with glyphs, not boxes, when a CJK font is installed.
using System.Xml.Linq;
using LightGlm.Charts;

namespace LightGlm.Tests.Charts;

/// <summary>Skipped, with the reason, when no font with CJK glyphs is installed (scripts/setup.sh --tests installs fonts-noto-cjk).</summary>
public sealed class CjkFontFactAttribute : FactAttribute
{
    public CjkFontFactAttribute()
    {
        if (ChartFonts.CjkFamily is null) Skip = "no CJK font is installed (apt-get install fonts-noto-cjk; scripts/setup.sh --tests does)";
    }
}

public class ChartTests
{
    [Fact]
    public void LineChartIsWellFormedSvgAndItsPngShowsEverySeries()
    {
        var chart = Chart.Line("Loss <&>", "step", "loss",
            [new ChartSeries("a", [0.0, 1, 2], [3.0, 2, 1.5]), new ChartSeries("b", [0.0, 1, 2], [3.5, 2.5, double.NaN])]);
        var doc = XDocument.Parse(chart.Svg); // throws on malformed XML (e.g. an unescaped '<&>')
        Assert.Equal("svg", doc.Root!.Name.LocalName);
        Assert.Contains(ChartPixels.Texts(chart.Svg), t => t.Text == "Loss <&>");
        using var png = ChartPixels.Decode(chart.Png);
        Assert.Equal((Chart.Width * Chart.PngScale, Chart.Height * Chart.PngScale), (png.Width, png.Height));
        // Both lines are drawn (series colours, well beyond their legend symbols' few hundred pixels).
        Assert.True(ChartPixels.Count(png, ChartPixels.Blue) > 1500, $"series a: {ChartPixels.Count(png, ChartPixels.Blue)} px");
        Assert.True(ChartPixels.Count(png, ChartPixels.Orange) > 1000, $"series b: {ChartPixels.Count(png, ChartPixels.Orange)} px");
        Assert.Equal(0, ChartPixels.Count(png, ChartPixels.Green)); // and nothing else is
    }

    [Fact]
    public void BarChartDrawsEveryBarAndRejectsRaggedGroups()
    {
        Assert.Throws<ArgumentException>(() => Chart.Bars("t", "y", ["s1", "s2"], [new BarGroup("c", [1.0])]));
        var chart = Chart.Bars("t", "y", ["s1", "s2"], [new BarGroup("c1", [1.0, 2.0]), new BarGroup("c2", [-1.0, 0.5])]);
        XDocument.Parse(chart.Svg);
        using var png = ChartPixels.Decode(chart.Png);
        Assert.True(ChartPixels.Count(png, ChartPixels.Blue) > 20000, $"s1 bars: {ChartPixels.Count(png, ChartPixels.Blue)} px");
        Assert.True(ChartPixels.Count(png, ChartPixels.Orange) > 20000, $"s2 bars: {ChartPixels.Count(png, ChartPixels.Orange)} px");
    }

    [Fact]
    public void ASinglePointIsDrawnAndALegendAloneIsNotData()
    {
        var one = Chart.Line("one point", "step", "loss", [new ChartSeries("a long series name for a wide legend", [(3.0, 1.5)])]);
        Assert.InRange(ChartPixels.DataPixels(one.Png), 50, 2000);
        var plot = new ScottPlot.Plot(); // the same legend, no data drawn
        plot.Legend.ManualItems.Add(new ScottPlot.LegendItem { LabelText = "a long series name for a wide legend", FillColor = ScottPlot.Color.FromHex("#1f77b4") });
        plot.ShowLegend(ScottPlot.Edge.Right);
        Assert.Equal(0, ChartPixels.DataPixels(plot.GetImageBytes(Chart.Width * 2, Chart.Height * 2, ScottPlot.ImageFormat.Png)));
    }

    [Fact]
    public void ChartsWithNothingToDrawAreRefused()
    {
        Assert.Contains("no data points", Assert.Throws<ArgumentException>(() => Chart.Line("t", "x", "y", [])).Message);
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => Chart.Line("t", "x", "y", [new ChartSeries("s", [0.0], [double.NaN])])).Message);
        Assert.Contains("log x", Assert.Throws<ArgumentException>(() => Chart.Line("t", "x", "y", [new ChartSeries("s", [0.0], [1.0])], logX: true)).Message);
        Assert.Contains("2 x values but 1", Assert.Throws<ArgumentException>(() => Chart.Line("t", "x", "y", [new ChartSeries("s", [0.0, 1], [1.0])])).Message);
        Assert.Throws<ArgumentException>(() => Chart.Bars("t", "y", ["s"], [new BarGroup("c", [double.NaN])]));
    }

    [Fact]
    public void LogXTicksSitAtTheDataAndSaveWritesSvgAndPng()
    {
        var chart = Chart.Line("Figure 3", "batch size", "seconds", [new ChartSeries("1F1B", [(1.0, 9.0), (2, 6), (4, 5), (16, 4)])], logX: true);
        var labels = ChartPixels.Texts(chart.Svg).Select(t => t.Text).ToHashSet();
        Assert.Superset(new HashSet<string> { "1", "2", "4", "16" }, labels);
        string dir = Directory.CreateTempSubdirectory("chart-").FullName;
        try
        {
            chart.Save(Path.Combine(dir, "figure3.svg"));
            Assert.Equal(chart.Svg, File.ReadAllText(Path.Combine(dir, "figure3.svg")));
            Assert.Equal(chart.Png, File.ReadAllBytes(Path.Combine(dir, "figure3.png")));
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>A font without CJK glyphs draws every Han character as the same box (.notdef), so two titles of as many
    /// different characters come out pixel for pixel alike; drawn with glyphs they differ. The control draws the same
    /// two titles in DejaVu Sans (no CJK) and must find them alike — so the check can fail.</summary>
    [CjkFontFact]
    public void ChineseLabelsAreDrawnWithGlyphsNotBoxes()
    {
        const string A = "训练损失曲线", B = "验证准确率图";
        ChartSeries[] data = [new ChartSeries("s", [0.0, 1], [1.0, 2])];
        var a = Chart.Line(A, "x", "y", data);
        var b = Chart.Line(B, "x", "y", data);
        var titleFont = ChartPixels.Texts(a.Svg).First(t => t.Text == A).Font;
        Assert.Equal(ChartFonts.CjkFamily, titleFont);
        int glyphs = ChartPixels.Differing(a.Png, b.Png);
        Assert.True(glyphs > 300, $"the two Chinese titles differ in only {glyphs} px: drawn as boxes?");

        Assert.False(ChartFonts.HasGlyphs("DejaVu Sans", A));
        byte[] Boxes(string title)
        {
            var plot = new ScottPlot.Plot();
            plot.Add.Scatter(new double[] { 0, 1 }, new double[] { 1, 2 });
            plot.Title(title);
            plot.Axes.Title.Label.FontName = "DejaVu Sans";
            return plot.GetImageBytes(Chart.Width, Chart.Height, ScottPlot.ImageFormat.Png);
        }
        Assert.Equal(0, ChartPixels.Differing(Boxes(A), Boxes(B)));
    }

    [Fact]
    public void LatinLabelsKeepTheLatinFontAndChineseOnesTakeTheCjkFont()
    {
        Assert.Equal(ChartFonts.LatinFamily, ChartFonts.For("dev loss (en-zh) α λ"));
        Assert.Equal(ChartFonts.CjkFamily ?? ChartFonts.LatinFamily, ChartFonts.For("术语 terms"));
        Assert.Equal(ChartFonts.LatinFamily, ChartFonts.For(""));
    }
}
