// The --json of `bench llama-cpp` and `bench large-decode` (keys in docs/INTEROP.md): our side and llama.cpp's per
// format, and how far their greedy tokens agree. The CLI measures (each side in a child process) and prints this.
using System.Text.Json;
using System.Text.Json.Nodes;
using LightGlm.Interop.Gguf;
using LightGlm.Model;

namespace LightGlm.Evaluation.Bench;

/// <summary>One GGUF type of `bench llama-cpp`: our side, llama.cpp's on the export, the export's time and size.</summary>
public sealed record GgufPeerRow(GgmlType Type, PeerResult Ours, PeerResult Peer, double ExportS, long Bytes);

public static class PeerBenchJson
{
    /// <summary>The key of a format measured from its quantized checkpoint ("int8_quantized_dir" beside "int8").</summary>
    public const string QuantizedSuffix = "_quantized_dir";

    /// <summary>One side's measurements.</summary>
    public static JsonObject Side(PeerResult x, int[] lengths)
    {
        var o = new JsonObject { ["decode_ms_per_token"] = x.DecodeMsPerToken };
        foreach (var p in lengths) o[$"prefill_ms_{p}"] = x.PrefillMs[p];
        o["load_s"] = x.LoadS;
        o["peak_rss_mb"] = x.PeakRssMb;
        return o;
    }

    /// <summary>How far llama.cpp's greedy tokens agree with ours (<see cref="PeerResult.Agreeing"/> and <see cref="PeerResult.ForcedAgreeing"/>).</summary>
    public static JsonObject Agreement(PeerResult ours, PeerResult peer, int tokens) => new()
    {
        ["leading_greedy_equal"] = PeerResult.Agreeing(ours.Greedy, peer.Greedy), ["argmax_equal_on_our_tokens"] = PeerResult.ForcedAgreeing(ours, peer), ["tokens"] = tokens,
    };

    /// <summary>`bench llama-cpp --json`.</summary>
    public static string LlamaCpp(string dir, int threads, int[] lengths, int tokens, IEnumerable<GgufPeerRow> rows, IEnumerable<string> notes)
    {
        JsonObject ours = [], peer = [], agree = [];
        foreach (var (t, o, p, exportS, bytes) in rows)
        {
            ours[o.Format] = Side(o, lengths);
            var ps = Side(p, lengths);
            ps["gguf_mb"] = bytes / 1e6;
            ps["export_s"] = exportS;
            peer[GgmlQuant.Name(t)] = ps;
            agree[$"{o.Format}_vs_{GgmlQuant.Name(t)}"] = Agreement(o, p, tokens);
        }
        var root = new JsonObject
        {
            ["model"] = dir, ["threads"] = threads, ["load_average"] = LoadAverage.Text(),
            ["lightglm"] = ours, ["llamacpp"] = peer, ["greedy"] = agree,
            ["notes"] = new JsonArray([.. notes.Select(n => (JsonNode)n)]),
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>`bench large-decode --json`: <paramref name="ours"/> by format (and format + <see cref="QuantizedSuffix"/>),
    /// <paramref name="peers"/> by our format with llama.cpp's type name.</summary>
    public static string LargeDecode(string shape, ModelConfig c, int threads, int[] lengths, int tokens,
        IReadOnlyDictionary<string, PeerResult> ours, IReadOnlyDictionary<string, (string Name, PeerResult Result)> peers)
    {
        JsonObject o = [], p = [], g = [];
        foreach (var (f, x) in ours)
        {
            o[f] = Side(x, lengths);
            if (!peers.TryGetValue(f, out var y)) continue;
            p[y.Name] = Side(y.Result, lengths);
            g[$"{f}_vs_{y.Name}"] = Agreement(x, y.Result, tokens);
        }
        foreach (var (f, x) in ours.Where(kv => kv.Key.EndsWith(QuantizedSuffix, StringComparison.Ordinal)))
            g[$"{f}_vs_{f[..^QuantizedSuffix.Length]}"] = new JsonObject
            {   // the same engine on the same quants: every token must agree (no forced run: there is no near-tie to excuse)
                ["leading_greedy_equal"] = PeerResult.Agreeing(x.Greedy, ours[f[..^QuantizedSuffix.Length]].Greedy), ["tokens"] = tokens,
            };
        var root = new JsonObject
        {
            ["shape"] = shape, ["layers"] = c.NumHiddenLayers, ["parameters"] = (long)c.ParameterEstimate(), ["threads"] = threads,
            ["cores"] = Environment.ProcessorCount, ["load_average"] = LoadAverage.Text(),
            ["lightglm"] = o, ["llamacpp"] = p, ["greedy"] = g,
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}
