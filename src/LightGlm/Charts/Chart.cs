// Line and grouped-bar charts drawn with ScottPlot: the report's figures and training's loss curves.
// Each chart comes out twice, as SVG (inlined in the HTML report) and as PNG at twice the size (for slides).
using System.Globalization;
using LightGlm.IO;
using ScottPlot;

namespace LightGlm.Charts;

/// <summary>One named series of (x, y) points.</summary>
public sealed record ChartSeries(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y)
{
    public ChartSeries(string name, IReadOnlyList<(double X, double Y)> points)
        : this(name, points.Select(p => p.X).ToArray(), points.Select(p => p.Y).ToArray()) { }
}

/// <summary>Grouped bars: one value per (category, series).</summary>
public sealed record BarGroup(string Category, IReadOnlyList<double> Values);

/// <summary>A drawn chart: the SVG document and the PNG image of the same plot.</summary>
public sealed record ChartImage(string Svg, byte[] Png)
{
    /// <summary>Writes the SVG to <paramref name="svgPath"/> and the PNG beside it (same name, .png), each atomically.</summary>
    public void Save(string svgPath)
    {
        AtomicFile.WriteAllText(svgPath, Svg);
        AtomicFile.WriteAllBytes(Path.ChangeExtension(svgPath, ".png"), Png);
    }
}

public static class Chart
{
    public const int Width = 720, Height = 420;
    /// <summary>The PNG is drawn at this multiple of <see cref="Width"/> × <see cref="Height"/>, sharp on a slide.</summary>
    public const int PngScale = 2;
    /// <summary>Lines with more points than this are drawn without markers.</summary>
    const int MarkerLimit = 60;
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>A line chart with markers, one colour per series, and the legend right of the plot.
    /// With <paramref name="logX"/> the x axis is logarithmic (Figure 3's batch sizes).</summary>
    public static ChartImage Line(string title, string xLabel, string yLabel, IReadOnlyList<ChartSeries> series, bool logX = false)
    {
        if (series.Count == 0 || series.All(s => s.X.Count == 0))
            throw new ArgumentException($"chart '{title}': no data points to draw");
        foreach (var s in series)
            if (s.X.Count != s.Y.Count)
                throw new ArgumentException($"chart '{title}', series '{s.Name}': {s.X.Count} x values but {s.Y.Count} y values");
        bool Drawable(double x, double y) => double.IsFinite(x) && double.IsFinite(y) && (!logX || x > 0);
        var points = series.Select(s => s.X.Zip(s.Y).Where(p => Drawable(p.First, p.Second)).ToArray()).ToArray();
        if (points.All(p => p.Length == 0))
            throw new ArgumentException($"chart '{title}': every point is NaN or infinite{(logX ? " (or ≤ 0 on the log x axis)" : "")}");

        var plot = NewPlot(title, xLabel, yLabel);
        var palette = new ScottPlot.Palettes.Category10();
        for (int i = 0; i < series.Count; i++)
        {
            double[] xs = points[i].Select(p => logX ? Math.Log10(p.First) : p.First).ToArray();
            double[] ys = points[i].Select(p => p.Second).ToArray();
            var line = plot.Add.Scatter(xs, ys, palette.GetColor(i));
            line.LegendText = series[i].Name;
            line.LineWidth = 2;
            line.MarkerSize = xs.Length <= MarkerLimit ? 6 : 0;
        }
        if (logX) LogTicks(plot, points.SelectMany(p => p.Select(q => q.First)));
        return Render(plot, series.Count > 1 || series[0].Name.Length > 0);
    }

    /// <summary>Grouped vertical bars, one colour per series, categories along x, each bar labelled with its value.</summary>
    public static ChartImage Bars(string title, string yLabel, IReadOnlyList<string> seriesNames, IReadOnlyList<BarGroup> groups)
    {
        if (groups.Count == 0) throw new ArgumentException($"chart '{title}': no bars to draw");
        foreach (var g in groups)
            if (g.Values.Count != seriesNames.Count)
                throw new ArgumentException($"chart '{title}', category '{g.Category}': {g.Values.Count} values for {seriesNames.Count} series");
        if (!groups.SelectMany(g => g.Values).Any(double.IsFinite))
            throw new ArgumentException($"chart '{title}': every value is NaN or infinite");

        var plot = NewPlot(title, "", yLabel);
        var palette = new ScottPlot.Palettes.Category10();
        int n = seriesNames.Count;
        double width = 0.8 / n; // a group takes 0.8 of the unit between category centres
        var bars = new List<Bar>();
        for (int g = 0; g < groups.Count; g++)
            for (int s = 0; s < n; s++)
            {
                double v = groups[g].Values[s];
                if (!double.IsFinite(v)) continue;
                bars.Add(new Bar
                {
                    Position = g + (s - (n - 1) / 2.0) * width, Value = v, Size = width * 0.92,
                    FillColor = palette.GetColor(s), LineWidth = 0, Label = Format(v),
                });
            }
        plot.Add.Bars(bars);
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, groups.Count).Select(i => (double)i).ToArray(), groups.Select(g => g.Category).ToArray());
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        plot.HideGrid();
        plot.Axes.Margins(bottom: 0, top: 0.15); // bars stand on the axis; room above for their labels
        for (int s = 0; s < n; s++)
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = seriesNames[s], FillColor = palette.GetColor(s) });
        return Render(plot, legend: n > 1 || seriesNames[0].Length > 0);
    }

    static Plot NewPlot(string title, string xLabel, string yLabel)
    {
        var plot = new Plot();
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.Axes.Title.Label.FontSize = 16;
        return plot;
    }

    /// <summary>Ticks at the data's own x values when there are few of them (batch sizes 1, 2, 4, …), else at powers of ten.</summary>
    static void LogTicks(Plot plot, IEnumerable<double> xs)
    {
        var distinct = xs.Distinct().Order().ToArray();
        double[] at = distinct.Length <= 12 ? distinct
            : Enumerable.Range((int)Math.Floor(Math.Log10(distinct[0])), (int)Math.Ceiling(Math.Log10(distinct[^1])) - (int)Math.Floor(Math.Log10(distinct[0])) + 1)
                .Select(k => Math.Pow(10, k)).ToArray();
        plot.Axes.Bottom.SetTicks(at.Select(Math.Log10).ToArray(), at.Select(Format).ToArray());
    }

    static ChartImage Render(Plot plot, bool legend)
    {
        // Each label gets a font that has its glyphs (ChartFonts); labels that share one style share one font. Set per
        // style: after plot.Font.Set, a style's FontName no longer changes the font it draws with (ScottPlot 5.1.59).
        var title = plot.Axes.Title.Label;
        title.FontName = ChartFonts.For(title.Text);
        foreach (var axis in plot.Axes.GetAxes())
        {
            axis.Label.FontName = ChartFonts.For(axis.Label.Text);
            axis.TickLabelStyle.FontName = ChartFonts.For(string.Concat(axis.TickGenerator.Ticks.Select(t => t.Label)));
        }
        foreach (var bars in plot.GetPlottables<ScottPlot.Plottables.BarPlot>())
            bars.ValueLabelStyle.FontName = ChartFonts.LatinFamily;
        if (legend)
        {
            plot.ShowLegend(Edge.Right);
            var items = plot.Legend.GetItems().ToList();
            string font = ChartFonts.For(string.Concat(items.Select(i => i.LabelText)));
            if (font != ChartFonts.LatinFamily)
            {
                // Noto Sans CJK's tall line metrics put legend text half a line above its symbol: shift it back down.
                foreach (var item in items) { item.LabelFontName = font; item.LabelOffsetY = 0.5f * (plot.Legend.FontSize ?? 12); }
                plot.Legend.ManualItems = items;
                plot.Legend.DisplayPlottableLegendItems = false;
            }
            plot.Legend.FontName = font;
        }
        string svg = plot.GetSvgXml(Width, Height);
        plot.ScaleFactor = PngScale;
        byte[] png = plot.GetImageBytes(Width * PngScale, Height * PngScale, ImageFormat.Png);
        return new ChartImage(svg, png);
    }

    internal static string Format(double v) => Math.Abs(v) >= 1e5 || (Math.Abs(v) < 1e-3 && v != 0)
        ? v.ToString("0.##e0", Inv) : v.ToString("0.###", Inv);
}
