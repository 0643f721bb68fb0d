// Draws line and grouped-bar charts as standalone SVG documents: the report's figures,
// drawn by our own code (no plotting library is available on NuGet here).
using System.Globalization;
using System.Text;

namespace LightGlm.Experiments.Reporting;

/// <summary>One named series of (x, y) points.</summary>
public sealed record ChartSeries(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y)
{
    public ChartSeries(string name, IReadOnlyList<(double X, double Y)> points)
        : this(name, points.Select(p => p.X).ToArray(), points.Select(p => p.Y).ToArray()) { }
}

/// <summary>Grouped bars: one value per (category, series).</summary>
public sealed record BarGroup(string Category, IReadOnlyList<double> Values);

public static class SvgChart
{
    const int Width = 720, Height = 420, Left = 70, Right = 170, Top = 40, Bottom = 60;
    static readonly string[] Palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>A line chart with markers, axes with "nice" ticks, and a legend on the right.</summary>
    public static string Line(string title, string xLabel, string yLabel, IReadOnlyList<ChartSeries> series, bool logX = false)
    {
        if (series.Count == 0 || series.All(s => s.X.Count == 0))
            throw new ArgumentException($"chart '{title}': no data points to draw");
        foreach (var s in series)
            if (s.X.Count != s.Y.Count)
                throw new ArgumentException($"chart '{title}', series '{s.Name}': {s.X.Count} x values but {s.Y.Count} y values");
        Func<double, double> fx = logX ? v => Math.Log10(Math.Max(v, 1e-12)) : v => v;
        var finite = series.SelectMany(s => s.X.Zip(s.Y)).Where(p => double.IsFinite(p.First) && double.IsFinite(p.Second)).ToArray();
        if (finite.Length == 0) throw new ArgumentException($"chart '{title}': every point is NaN or infinite");
        var (x0, x1) = Range(finite.Select(p => fx(p.First)));
        var (y0, y1) = Range(finite.Select(p => p.Second));
        var yTicks = NiceTicks(y0, y1, 6);
        y0 = Math.Min(y0, yTicks[0]); y1 = Math.Max(y1, yTicks[^1]);
        var xTicks = logX ? LogTicks(x0, x1) : NiceTicks(x0, x1, 8);
        if (!logX) { x0 = Math.Min(x0, xTicks[0]); x1 = Math.Max(x1, xTicks[^1]); }

        var sb = Begin(title);
        Axes(sb, xLabel, yLabel);
        double Px(double v) => Left + (fx(v) - x0) / (x1 - x0) * (Width - Left - Right);
        double Py(double v) => Height - Bottom - (v - y0) / (y1 - y0) * (Height - Top - Bottom);
        foreach (var t in yTicks)
            TickY(sb, Py(t), Format(t));
        foreach (var t in xTicks)
        {
            double px = Left + (t - x0) / (x1 - x0) * (Width - Left - Right);
            if (px < Left - 0.5 || px > Width - Right + 0.5) continue;
            TickX(sb, px, logX ? Format(Math.Pow(10, t)) : Format(t));
        }
        for (int i = 0; i < series.Count; i++)
        {
            var s = series[i];
            string color = Palette[i % Palette.Length];
            var pts = s.X.Zip(s.Y).Where(p => double.IsFinite(p.First) && double.IsFinite(p.Second))
                .Select(p => $"{F(Px(p.First))},{F(Py(p.Second))}").ToArray();
            if (pts.Length > 1)
                sb.Append($"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{string.Join(' ', pts)}\"/>\n");
            if (pts.Length <= 60)
                foreach (var p in pts)
                {
                    var xy = p.Split(',');
                    sb.Append($"<circle cx=\"{xy[0]}\" cy=\"{xy[1]}\" r=\"3\" fill=\"{color}\"/>\n");
                }
            Legend(sb, i, s.Name, color);
        }
        return End(sb);
    }

    /// <summary>Grouped vertical bars, one colour per series, categories along x.</summary>
    public static string Bars(string title, string yLabel, IReadOnlyList<string> seriesNames, IReadOnlyList<BarGroup> groups)
    {
        if (groups.Count == 0) throw new ArgumentException($"chart '{title}': no bars to draw");
        foreach (var g in groups)
            if (g.Values.Count != seriesNames.Count)
                throw new ArgumentException($"chart '{title}', category '{g.Category}': {g.Values.Count} values for {seriesNames.Count} series");
        var values = groups.SelectMany(g => g.Values).Where(double.IsFinite).ToArray();
        if (values.Length == 0) throw new ArgumentException($"chart '{title}': every value is NaN or infinite");
        var ticks = NiceTicks(Math.Min(0, values.Min()), Math.Max(0, values.Max()), 6);
        double y0 = ticks[0], y1 = ticks[^1];
        var sb = Begin(title);
        Axes(sb, "", yLabel);
        double Py(double v) => Height - Bottom - (v - y0) / (y1 - y0) * (Height - Top - Bottom);
        foreach (var t in ticks) TickY(sb, Py(t), Format(t));
        double plotW = Width - Left - Right, groupW = plotW / groups.Count, barW = groupW * 0.8 / seriesNames.Count;
        for (int g = 0; g < groups.Count; g++)
        {
            double gx = Left + g * groupW + groupW * 0.1;
            for (int s = 0; s < seriesNames.Count; s++)
            {
                double v = groups[g].Values[s];
                if (!double.IsFinite(v)) continue;
                double top = Py(Math.Max(v, 0)), bottom = Py(Math.Min(v, 0));
                sb.Append($"<rect x=\"{F(gx + s * barW)}\" y=\"{F(top)}\" width=\"{F(barW * 0.95)}\" height=\"{F(Math.Max(bottom - top, 0.5))}\" fill=\"{Palette[s % Palette.Length]}\"><title>{Esc(seriesNames[s])}: {Format(v)}</title></rect>\n");
            }
            TickX(sb, gx + groupW * 0.4, groups[g].Category);
        }
        for (int s = 0; s < seriesNames.Count; s++) Legend(sb, s, seriesNames[s], Palette[s % Palette.Length]);
        return End(sb);
    }

    static StringBuilder Begin(string title)
    {
        var sb = new StringBuilder();
        sb.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        sb.Append($"<rect width=\"{Width}\" height=\"{Height}\" fill=\"white\"/>\n");
        sb.Append($"<text x=\"{Width / 2}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">{Esc(title)}</text>\n");
        return sb;
    }

    static string End(StringBuilder sb) => sb.Append("</svg>\n").ToString();

    static void Axes(StringBuilder sb, string xLabel, string yLabel)
    {
        int x1 = Width - Right, y1 = Height - Bottom;
        sb.Append($"<line x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{y1}\" stroke=\"black\"/>\n");
        sb.Append($"<line x1=\"{Left}\" y1=\"{y1}\" x2=\"{x1}\" y2=\"{y1}\" stroke=\"black\"/>\n");
        sb.Append($"<text x=\"{(Left + x1) / 2}\" y=\"{Height - 15}\" text-anchor=\"middle\">{Esc(xLabel)}</text>\n");
        sb.Append($"<text x=\"18\" y=\"{(Top + y1) / 2}\" text-anchor=\"middle\" transform=\"rotate(-90 18 {(Top + y1) / 2})\">{Esc(yLabel)}</text>\n");
    }

    static void TickY(StringBuilder sb, double py, string label)
    {
        sb.Append($"<line x1=\"{Left - 4}\" y1=\"{F(py)}\" x2=\"{Width - Right}\" y2=\"{F(py)}\" stroke=\"#e0e0e0\"/>\n");
        sb.Append($"<text x=\"{Left - 7}\" y=\"{F(py + 4)}\" text-anchor=\"end\">{Esc(label)}</text>\n");
    }

    static void TickX(StringBuilder sb, double px, string label)
    {
        sb.Append($"<line x1=\"{F(px)}\" y1=\"{Height - Bottom}\" x2=\"{F(px)}\" y2=\"{Height - Bottom + 4}\" stroke=\"black\"/>\n");
        sb.Append($"<text x=\"{F(px)}\" y=\"{Height - Bottom + 18}\" text-anchor=\"middle\">{Esc(label)}</text>\n");
    }

    static void Legend(StringBuilder sb, int i, string name, string color)
    {
        int x = Width - Right + 15, y = Top + 10 + i * 20;
        sb.Append($"<rect x=\"{x}\" y=\"{y - 9}\" width=\"12\" height=\"12\" fill=\"{color}\"/>\n");
        sb.Append($"<text x=\"{x + 18}\" y=\"{y + 1}\">{Esc(name)}</text>\n");
    }

    static (double, double) Range(IEnumerable<double> values)
    {
        double lo = values.Min(), hi = values.Max();
        if (hi - lo < 1e-12) { double pad = Math.Abs(lo) > 1e-12 ? Math.Abs(lo) * 0.1 : 1; lo -= pad; hi += pad; }
        return (lo, hi);
    }

    /// <summary>Ticks at 1, 2 or 5 × 10^k spacing covering [lo, hi] (Heckbert's "nice numbers").</summary>
    internal static double[] NiceTicks(double lo, double hi, int count)
    {
        if (hi - lo < 1e-12) hi = lo + 1;
        double raw = (hi - lo) / Math.Max(count - 1, 1);
        double mag = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = new[] { 1.0, 2.0, 5.0, 10.0 }.Select(m => m * mag).First(s => s >= raw * 0.999);
        double start = Math.Floor(lo / step) * step, end = Math.Ceiling(hi / step) * step;
        var ticks = new List<double>();
        for (double t = start; t <= end + step * 0.5; t += step) ticks.Add(Math.Round(t / step) * step);
        return ticks.ToArray();
    }

    static double[] LogTicks(double lo, double hi)
    {
        var t = new List<double>();
        for (double k = Math.Floor(lo); k <= Math.Ceiling(hi); k++) t.Add(k);
        return t.ToArray();
    }

    static string Format(double v) => Math.Abs(v) >= 1e5 || (Math.Abs(v) < 1e-3 && v != 0)
        ? v.ToString("0.##e0", Inv) : v.ToString("0.###", Inv);

    static string F(double v) => v.ToString("0.##", Inv);

    internal static string Esc(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&quot;");
}
