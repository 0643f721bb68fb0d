// Prints `lightglm bench tokenizer` results: one side-by-side table per tokenizer (LightGlm | peer | advantage), or JSON.
using System.Globalization;
using System.Text.Json.Nodes;
using LightGlm.Evaluation.Bench;
using Spectre.Console;

namespace LightGlm.Cli.Commands;

internal static class TokenizerBenchReport
{
    /// <summary>(label, seconds of a side, is it a token rate) for every row of the table and every JSON field.</summary>
    static readonly (string Label, string Key, Func<TokenizerSide, double?> Seconds)[] Rows =
    [
        ("encode cold", "encode_first", s => s.EncodeFirstS),
        ("encode", "encode_line", s => s.EncodeLineS),
        ("encode batch", "encode_batch", s => s.EncodeBatchS),
        ("decode", "decode_line", s => s.DecodeLineS),
        ("decode batch", "decode_batch", s => s.DecodeBatchS),
    ];

    public static void Print(List<TokenizerBenchResult> results, string load, string source)
    {
        foreach (var r in results)
        {
            if (r.Case.Peer != TokenizerPeer.Tiktoken || r.Ml is null) PrintSide(r, r.Peer, r.Agreement, r.PeerError, r.Case.Name, source); // Tiktoken's peer is Ml's
            if (r.Ml is { } ml) PrintSide(r, ml.Side, ml.Agreement, ml.Error, $"{r.Case.Name}: LightGlm vs Microsoft.ML.Tokenizers", source);
        }
        AnsiConsole.MarkupLine("[grey]MB/s = UTF-8 bytes of the input texts per second (decode too). encode/decode = one call per text on one thread, best of repeated passes over all texts; "
            + "cold = the first pass on a freshly loaded tokenizer (word caches empty); batch×N = one call for all texts over N threads. advantage = LightGlm / peer; > 1 = LightGlm faster.[/]");
        AnsiConsole.MarkupLine($"[grey]{Markup.Escape(load)}[/]");
    }

    static void PrintSide(TokenizerBenchResult r, TokenizerSide? peer, IdAgreement? agreement, string? peerError, string title, string source)
    {
        {
            var table = new Table().Border(TableBorder.Rounded)
                .Title($"[bold]{Markup.Escape(title)}[/]")
                .Caption(Markup.Escape($"{r.Texts} texts of {source}: {r.Bytes / 1e6:F2} MB UTF-8, {r.Tokens} tokens ({(double)r.Bytes / Math.Max(1, r.Tokens):F2} bytes/token)"))
                .AddColumn("metric").AddColumn(new TableColumn("LightGlm").RightAligned());
            bool vs = peer is not null;
            if (vs) table.AddColumn(new TableColumn(Markup.Escape(peer!.Who)).RightAligned()).AddColumn(new TableColumn("advantage").RightAligned());
            foreach (var (label, _, secs) in Rows)
            {
                double? a = secs(r.LightGlm), b = vs ? secs(peer!) : null;
                if (a is null && b is null) continue;
                string threads = label.EndsWith("batch", StringComparison.Ordinal) ? $"×{r.LightGlm.Threads}" : "";
                AddRow(table, $"{label}{threads} MB/s", Rate(r.Bytes / 1e6, a), Rate(r.Bytes / 1e6, b), a, b, vs);
                AddRow(table, $"{label}{threads} tokens/s", Rate(r.Tokens, a), Rate(r.Tokens, b), a, b, vs);
            }
            AnsiConsole.Write(table);
            if (agreement is { } g)
            {
                string color = g.Equal == g.Compared ? "green" : "red";
                AnsiConsole.MarkupLine($"[{color}]ids equal to {Markup.Escape(peer!.Who)} on {g.Equal}/{g.Compared} texts ({100.0 * g.Equal / Math.Max(1, g.Compared):0.00}%)[/]"
                    + (g.FirstMismatch is { } m ? $"[red]; first difference: {Markup.Escape(m)}[/]" : ""));
            }
            if (peerError is { } e) AnsiConsole.MarkupLine($"[yellow]peer not measured: {Markup.Escape(e)}[/]");
            AnsiConsole.MarkupLine($"[grey]{Markup.Escape(r.Case.File)}{(r.Case.Origin is { } o ? $" ({Markup.Escape(o)})" : "")}[/]");
            AnsiConsole.MarkupLine($"[grey]{Markup.Escape(r.LightGlm.Note)}[/]");
            if (vs) AnsiConsole.MarkupLine($"[grey]{Markup.Escape(peer!.Note)}[/]");
            AnsiConsole.WriteLine();
        }
    }

    static void AddRow(Table t, string label, double? a, double? b, double? secA, double? secB, bool vs)
    {
        var cells = new List<string> { label, Fmt(a) };
        if (vs) cells.AddRange([Fmt(b), secA is { } x && secB is { } y && x > 0 ? $"{y / x:0.00}×" : ""]);
        t.AddRow(cells.Select(Markup.Escape).ToArray());
    }

    static double? Rate(double amount, double? seconds) => seconds is { } s && s > 0 ? amount / s : null;

    static string Fmt(double? x) => x is not { } v ? "—" : v >= 1000 ? v.ToString("N0", CultureInfo.InvariantCulture) : v.ToString("0.000", CultureInfo.InvariantCulture);

    public static string ToJson(List<TokenizerBenchResult> results, string load, string source)
    {
        JsonObject Side(TokenizerSide s, TokenizerBenchResult r)
        {
            var o = new JsonObject { ["who"] = s.Who, ["threads"] = s.Threads, ["note"] = s.Note };
            foreach (var (_, key, secs) in Rows)
            {
                if (secs(s) is not { } x) continue;
                o[$"{key}_mb_s"] = Math.Round(r.Bytes / 1e6 / x, 4);
                o[$"{key}_tokens_s"] = Math.Round(r.Tokens / x, 1);
            }
            return o;
        }
        var arr = new JsonArray();
        foreach (var r in results)
            arr.Add(new JsonObject
            {
                ["name"] = r.Case.Name, ["file"] = r.Case.File, ["origin"] = r.Case.Origin,
                ["texts"] = r.Texts, ["bytes"] = r.Bytes, ["tokens"] = r.Tokens,
                ["lightglm"] = Side(r.LightGlm, r), ["peer"] = r.Peer is null ? null : Side(r.Peer, r),
                ["ids_equal"] = r.Agreement?.Equal, ["ids_compared"] = r.Agreement?.Compared,
                ["first_mismatch"] = r.Agreement?.FirstMismatch, ["peer_error"] = r.PeerError,
                ["ml_peer"] = r.Ml?.Side is { } ml ? Side(ml, r) : null, ["ml_ids_equal"] = r.Ml?.Agreement?.Equal,
                ["ml_ids_compared"] = r.Ml?.Agreement?.Compared, ["ml_first_mismatch"] = r.Ml?.Agreement?.FirstMismatch, ["ml_error"] = r.Ml?.Error,
            });
        return new JsonObject { ["source"] = source, ["load"] = load, ["results"] = arr }.ToJsonString();
    }
}
