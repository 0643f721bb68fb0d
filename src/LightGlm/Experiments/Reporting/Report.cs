// The report of a run: sections of text, tables, figures and the commands that reproduce them,
// rendered to Markdown and to one self-contained HTML page (figures inlined as data URIs).
using System.Text;
using System.Text.Json.Nodes;
using LightGlm.IO;
using LightGlm.Charts;

namespace LightGlm.Experiments.Reporting;

/// <summary>A table: a header row and rows of cells (already formatted as text).</summary>
public sealed record ReportTable(string Caption, IReadOnlyList<string> Header, IReadOnlyList<IReadOnlyList<string>> Rows)
{
    public ReportTable Validate()
    {
        for (int r = 0; r < Rows.Count; r++)
            if (Rows[r].Count != Header.Count)
                throw new ArgumentException($"table '{Caption}': row {r + 1} has {Rows[r].Count} cells, the header has {Header.Count}");
        return this;
    }
}

/// <summary>A figure: a chart saved beside the report as figures/<see cref="FileName"/> (SVG) and the same name with .png
/// (for slides). The HTML report inlines the SVG.</summary>
public sealed record ReportFigure(string FileName, string Caption, ChartImage Chart)
{
    public string PngFileName => Path.ChangeExtension(FileName, ".png");
}

/// <summary>One block of a section, in order.</summary>
public abstract record ReportBlock;
public sealed record TextBlock(string Text) : ReportBlock;
public sealed record TableBlock(ReportTable Table) : ReportBlock;
public sealed record FigureBlock(ReportFigure Figure) : ReportBlock;
public sealed record CommandBlock(string Command) : ReportBlock;

public sealed class ReportSection(string title)
{
    public string Title { get; } = title;
    public List<ReportBlock> Blocks { get; } = [];
    public ReportSection Text(string text) { Blocks.Add(new TextBlock(text)); return this; }
    public ReportSection Table(ReportTable table) { Blocks.Add(new TableBlock(table.Validate())); return this; }
    public ReportSection Figure(ReportFigure figure) { Blocks.Add(new FigureBlock(figure)); return this; }
    public ReportSection Command(string command) { Blocks.Add(new CommandBlock(command)); return this; }
}

public sealed class Report(string title)
{
    public string Title { get; } = title;
    public List<ReportSection> Sections { get; } = [];
    /// <summary>The numbers behind the report, written as report.json.</summary>
    public JsonObject Numbers { get; } = new();

    public ReportSection Section(string title)
    {
        var s = new ReportSection(title);
        Sections.Add(s);
        return s;
    }

    public IEnumerable<ReportFigure> Figures => Sections.SelectMany(s => s.Blocks).OfType<FigureBlock>().Select(b => b.Figure);

    public string ToMarkdown()
    {
        var sb = new StringBuilder($"# {Title}\n\n");
        foreach (var s in Sections)
        {
            sb.Append($"## {s.Title}\n\n");
            foreach (var b in s.Blocks)
                switch (b)
                {
                    case TextBlock t: sb.Append(t.Text).Append("\n\n"); break;
                    case CommandBlock c: sb.Append("```bash\n").Append(c.Command).Append("\n```\n\n"); break;
                    case FigureBlock f: sb.Append($"![{f.Figure.Caption}](figures/{f.Figure.FileName})\n\n*{f.Figure.Caption}*\n\n"); break;
                    case TableBlock tb:
                        var t2 = tb.Table;
                        if (t2.Caption.Length > 0) sb.Append($"**{t2.Caption}**\n\n");
                        sb.Append("| ").Append(string.Join(" | ", t2.Header.Select(MdCell))).Append(" |\n");
                        sb.Append('|').Append(string.Concat(t2.Header.Select(_ => "---|"))).Append('\n');
                        foreach (var row in t2.Rows) sb.Append("| ").Append(string.Join(" | ", row.Select(MdCell))).Append(" |\n");
                        sb.Append('\n');
                        break;
                }
        }
        return sb.ToString();
    }

    public string ToHtml()
    {
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
        sb.Append($"<title>{H(Title)}</title>\n<style>");
        sb.Append("body{font-family:sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}");
        sb.Append("table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}");
        sb.Append("th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}caption{font-weight:bold;margin-bottom:.4em}");
        sb.Append("pre{background:#f6f8fa;padding:.6em;overflow-x:auto}figure{margin:1em 0}figcaption{font-style:italic}");
        sb.Append("</style></head><body>\n");
        sb.Append($"<h1>{H(Title)}</h1>\n");
        foreach (var s in Sections)
        {
            sb.Append($"<h2>{H(s.Title)}</h2>\n");
            foreach (var b in s.Blocks)
                switch (b)
                {
                    case TextBlock t: sb.Append($"<p>{H(t.Text)}</p>\n"); break;
                    case CommandBlock c: sb.Append($"<pre><code>{H(c.Command)}</code></pre>\n"); break;
                    case FigureBlock f:
                        var data = Convert.ToBase64String(Encoding.UTF8.GetBytes(f.Figure.Chart.Svg));
                        sb.Append($"<figure><img alt=\"{H(f.Figure.Caption)}\" width=\"{Chart.Width}\" height=\"{Chart.Height}\" src=\"data:image/svg+xml;base64,{data}\">");
                        sb.Append($"<figcaption>{H(f.Figure.Caption)} (<a href=\"figures/{H(f.Figure.FileName)}\">{H(f.Figure.FileName)}</a>, ");
                        sb.Append($"<a href=\"figures/{H(f.Figure.PngFileName)}\">{H(f.Figure.PngFileName)}</a>)</figcaption></figure>\n");
                        break;
                    case TableBlock tb:
                        sb.Append("<table>");
                        if (tb.Table.Caption.Length > 0) sb.Append($"<caption>{H(tb.Table.Caption)}</caption>");
                        sb.Append("<tr>").Append(string.Concat(tb.Table.Header.Select(h => $"<th>{H(h)}</th>"))).Append("</tr>\n");
                        foreach (var row in tb.Table.Rows)
                            sb.Append("<tr>").Append(string.Concat(row.Select(c => $"<td>{H(c)}</td>"))).Append("</tr>\n");
                        sb.Append("</table>\n");
                        break;
                }
        }
        // Lets a headless browser check the page: every image decoded → data-images="n/n" on <body>.
        sb.Append("<script>window.addEventListener('load',function(){var a=Array.prototype.slice.call(document.images);");
        sb.Append("var ok=a.filter(function(i){return i.complete&&i.naturalWidth>0;}).length;");
        sb.Append("document.body.setAttribute('data-images',ok+'/'+a.length);});</script>\n");
        sb.Append("</body></html>\n");
        return sb.ToString();
    }

    /// <summary>Writes report.md, report.html, report.json and figures/*.svg + *.png into <paramref name="dir"/>, each atomically.</summary>
    public void Save(string dir)
    {
        Directory.CreateDirectory(Path.Combine(dir, "figures"));
        foreach (var f in Figures) f.Chart.Save(Path.Combine(dir, "figures", f.FileName));
        AtomicFile.WriteAllText(Path.Combine(dir, "report.md"), ToMarkdown());
        AtomicFile.WriteAllText(Path.Combine(dir, "report.html"), ToHtml());
        AtomicFile.WriteAllText(Path.Combine(dir, "report.json"), Numbers.ToJsonString(new() { WriteIndented = true }));
    }

    static string MdCell(string s) => s.Replace("|", "\\|").Replace("\n", " ");
    static string H(string s) => System.Net.WebUtility.HtmlEncode(s);
}
