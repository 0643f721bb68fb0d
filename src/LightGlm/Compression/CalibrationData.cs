// Reads calibration / distillation sequences: JSONL token ids, or text lines encoded by the model's own tokenizer.
using System.Text.Json;
using LightGlm.Compression.Importance;
using LightGlm.Text.Tokenizers;

namespace LightGlm.Compression;

public static class CalibrationData
{
    /// <summary>
    /// *.jsonl: one sequence per line, either [ids…] or {"tokens": [ids…], "prefix": P} (targets = next token).
    /// Anything else: text, one sequence per non-empty line, encoded by <paramref name="tokenizer"/> — the model's own
    /// (<see cref="ModelTokenizer.Open"/>), so a BPE model is calibrated on its tokens, not on bytes that mean other tokens.
    /// Sequences are cut to <paramref name="maxLen"/> tokens; at most <paramref name="limit"/> are read.
    /// </summary>
    public static List<CalibrationSample> Read(string path, ITokenizer tokenizer, int vocab, int maxLen = 128, int limit = 256)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: calibration file not found", path);
        bool jsonl = path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase);
        var list = new List<CalibrationSample>();
        int lineNo = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNo++;
            if (list.Count >= limit) break;
            if (string.IsNullOrWhiteSpace(line)) continue;
            int[] ids; int prefix = 0;
            if (jsonl)
            {
                try
                {
                    using var doc = JsonDocument.Parse(line);
                    var root = doc.RootElement;
                    var arr = root.ValueKind == JsonValueKind.Array ? root : root.GetProperty("tokens");
                    ids = arr.EnumerateArray().Select(e => e.GetInt32()).ToArray();
                    if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("prefix", out var p)) prefix = p.GetInt32();
                }
                catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
                { throw new InvalidDataException($"{path}:{lineNo}: expected [ids…] or {{\"tokens\": [ids…]}}: {e.Message}", e); }
            }
            else ids = tokenizer.EncodeText(line);
            if (ids.Length < 2) continue;
            ids = ids.Take(maxLen + 1).ToArray();
            if (ids.Any(i => i < 0 || i >= vocab)) throw new InvalidDataException($"{path}:{lineNo}: token id {ids.First(i => i < 0 || i >= vocab)} is outside the vocabulary [0, {vocab})");
            list.Add(new CalibrationSample(ids[..^1], ids[1..], Math.Min(prefix, ids.Length - 1)));
        }
        if (list.Count == 0) throw new InvalidDataException($"{path}: no sequence of at least 2 tokens");
        return list;
    }
}
