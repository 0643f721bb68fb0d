using System.Text;
using System.Text.Json.Nodes;
using LightGlm.Model;
using LightGlm.Model.Checkpoints;
using Xunit.Abstractions;

namespace LightGlm.Tests.Reliability;

/// <summary>Thousands of mutated real model files: config.json and model.safetensors must fail cleanly.</summary>
public class CheckpointFuzzTests(ITestOutputHelper output)
{
    static ModelConfig Tiny() => ModelConfig.FromJson("""
        { "model_type": "chatglm", "vocab_size": 40, "hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 4,
          "num_key_value_heads": 2, "intermediate_size": 24, "partial_rotary_factor": 0.5, "rope_interleaved": true,
          "attention_bias": true, "prefix_lm": true, "max_position_embeddings": 32 }
        """);

    [Fact]
    public void MutatedConfigJsonFailsCleanly()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"fuzzcfg-{Guid.NewGuid():N}");
        try
        {
            ModelDirectory.Save(GlmModel.Create(Tiny(), seed: 3), dir);
            byte[] valid = File.ReadAllBytes(Path.Combine(dir, "config.json"));
            var outcome = Mutator.Run(valid, cases: 2000, seed: 11,
                bytes => ModelConfig.FromJson(Encoding.UTF8.GetString(bytes), "config.json"),
                [typeof(InvalidDataException)]);
            output.WriteLine($"config.json fuzz: {outcome.Cases} cases, {outcome.Accepted} accepted, {outcome.Rejected} rejected");
            Assert.True(outcome.Rejected > outcome.Cases / 4, $"only {outcome.Rejected} rejected");
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void MutatedSafetensorsFailCleanlyOrLoadCompletely()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"fuzzst-{Guid.NewGuid():N}");
        try
        {
            var model = GlmModel.Create(Tiny(), seed: 5);
            ModelDirectory.Save(model, dir);
            string weights = Path.Combine(dir, "model.safetensors");
            byte[] valid = File.ReadAllBytes(weights);
            string probe = Path.Combine(dir, "probe.safetensors");
            var outcome = Mutator.Run(valid, cases: 1500, seed: 13, bytes =>
            {
                File.WriteAllBytes(probe, bytes);
                var arena = new float[model.Layout.TotalLength];
                ModelDirectory.ReadArena(probe, model.Layout, arena);
            }, [typeof(InvalidDataException)]);
            output.WriteLine($"safetensors fuzz: {outcome.Cases} cases, {outcome.Accepted} accepted, {outcome.Rejected} rejected: " +
                             string.Join(", ", outcome.ByException.Select(kv => $"{kv.Key} {kv.Value}")));
            Assert.True(outcome.Rejected > outcome.Cases / 4, $"only {outcome.Rejected} rejected");
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>
    /// Structure-aware mutations of a real header (issue 18, class 1): offsets moved, shapes and dtypes changed, tensors
    /// dropped or their ranges swapped, fields of the wrong kind, bytes appended or cut. An independent oracle says
    /// whether the result is a valid file (offsets tile the data exactly, sizes = product(shape)·dtype size); the reader
    /// must refuse every invalid one with an InvalidDataException naming the file — silent acceptance fails the test.
    /// </summary>
    [Fact]
    public void StructurallyMutatedHeadersAreRefusedUnlessValid()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"fuzzsth-{Guid.NewGuid():N}");
        try
        {
            ModelDirectory.Save(GlmModel.Create(Tiny(), seed: 7), dir);
            byte[] valid = File.ReadAllBytes(Path.Combine(dir, "model.safetensors"));
            int n = (int)BitConverter.ToUInt64(valid, 0);
            var header = JsonNode.Parse(valid.AsSpan(8, n))!.AsObject();
            byte[] data = valid[(8 + n)..];
            string probe = Path.Combine(dir, "probe.safetensors");
            int cases = int.TryParse(Environment.GetEnvironmentVariable("LIGHTGLM_STFUZZ_CASES"), out int c) ? c : 3000;
            int refused = 0, acceptedValid = 0;
            for (int i = 0; i < cases; i++)
            {
                var rng = new Random(unchecked(29 * 1_000_003 + i));
                var h = header.DeepClone().AsObject();
                byte[] d = data;
                for (int k = rng.Next(1, 3); k > 0; k--) d = MutateHeader(h, d, rng);
                var hb = Encoding.UTF8.GetBytes(h.ToJsonString());
                File.WriteAllBytes(probe, [.. BitConverter.GetBytes((ulong)hb.Length), .. hb, .. d]);
                bool ok = OracleSaysValid(h, d.Length);
                try
                {
                    using var f = new SafeTensorsFile(probe);
                    foreach (var name in f.Tensors.Keys) f.ReadFloat32(name);
                    Assert.True(ok, $"case {i}: accepted an invalid header: {h.ToJsonString()[..Math.Min(400, hb.Length)]} with {d.Length} data bytes");
                    acceptedValid++;
                }
                catch (InvalidDataException e)
                {
                    Assert.False(ok, $"case {i}: refused a valid file: {e.Message}");
                    Assert.Contains(probe, e.Message);
                    refused++;
                }
            }
            output.WriteLine($"safetensors header fuzz: {cases} cases, {refused} clear errors, {acceptedValid} accepted (valid), 0 silently accepted invalid");
            Assert.True(refused > cases / 2, $"only {refused} refused");
        }
        finally { Directory.Delete(dir, true); }
    }

    static readonly JsonNode?[] WrongKinds = ["8", null, 1.5, new JsonArray(), new JsonObject(), -8, 1L << 62, true];

    static byte[] MutateHeader(JsonObject h, byte[] data, Random rng)
    {
        var names = h.Select(kv => kv.Key).Where(k => k != "__metadata__").ToList();
        if (names.Count == 0) return data;
        var t = h[names[rng.Next(names.Count)]]!.AsObject();
        long[] deltas = [-16, -8, -4, -2, -1, 1, 2, 4, 8, 16];
        long Delta() => deltas[rng.Next(deltas.Length)];
        JsonArray Offsets(JsonObject o) => o["data_offsets"] as JsonArray ?? [0, 0];
        void Shift(JsonArray a, int at, long by) { if (a[at] is JsonValue v && v.TryGetValue(out long x)) a[at] = x + by; }
        switch (rng.Next(10))
        {
            case 0: Shift(Offsets(t), 0, Delta()); break;
            case 1: Shift(Offsets(t), 1, Delta()); break;
            case 2: { long by = Delta(); var a = Offsets(t); Shift(a, 0, by); Shift(a, 1, by); break; }
            case 3:
                if (t["shape"] is JsonArray { Count: > 0 } s && s[rng.Next(s.Count)] is JsonValue dv && dv.TryGetValue(out long dim))
                    s[s.IndexOf(dv)] = rng.Next(3) switch { 0 => dim + 1, 1 => Math.Max(0, dim - 1), _ => dim * 2 };
                break;
            case 4: t["dtype"] = new[] { "F32", "F16", "BF16", "I8", "F64", "f32", "" }[rng.Next(7)]; break;
            case 5: h.Remove(names[rng.Next(names.Count)]); break;
            case 6:
            {
                var u = h[names[rng.Next(names.Count)]]!.AsObject();
                var a = Offsets(t).DeepClone(); t["data_offsets"] = Offsets(u).DeepClone(); u["data_offsets"] = a;
                break;
            }
            case 7:
            {
                string[] fields = ["dtype", "shape", "data_offsets"];
                string field = fields[rng.Next(3)];
                var wrong = WrongKinds[rng.Next(WrongKinds.Length)]?.DeepClone();
                if (rng.Next(2) == 0 && t[field] is JsonArray { Count: > 0 } arr) arr[rng.Next(arr.Count)] = wrong;
                else t[field] = wrong;
                break;
            }
            case 8: return rng.Next(2) == 0 ? [.. data, .. new byte[rng.Next(1, 17)]] : data[..Math.Max(0, data.Length - rng.Next(1, 17))];
            default: h["copy" + rng.Next(1000)] = t.DeepClone(); break; // a second tensor over the same bytes
        }
        return data;
    }

    /// <summary>The safetensors rules, written independently of the reader.</summary>
    static bool OracleSaysValid(JsonObject h, long dataLength)
    {
        var ranges = new List<(long Begin, long End)>();
        foreach (var (name, node) in h)
        {
            if (name == "__metadata__") { if (node is not JsonObject m || m.Any(kv => kv.Value is not JsonValue v || !v.TryGetValue(out string? _))) return false; continue; }
            if (node is not JsonObject t || t["dtype"] is not JsonValue dt || !dt.TryGetValue(out string? dtype)) return false;
            int size = dtype switch { "F32" => 4, "F16" or "BF16" => 2, _ => 0 };
            if (size == 0 || t["shape"] is not JsonArray shape || t["data_offsets"] is not JsonArray { Count: 2 } off) return false;
            static bool Long(JsonNode? x, out long v) { v = 0; return x is JsonValue j && j.GetValueKind() == System.Text.Json.JsonValueKind.Number && j.TryGetValue(out v) && v >= 0; }
            double elements = 1;
            foreach (var d in shape) { if (!Long(d, out long dim)) return false; elements *= dim; }
            if (!Long(off[0], out long b) || !Long(off[1], out long e) || e < b || elements * size != e - b) return false;
            ranges.Add((b, e));
        }
        long at = 0;
        foreach (var (b, e) in ranges.OrderBy(r => r.Begin).ThenBy(r => r.End)) { if (b != at) return false; at = e; }
        return at == dataLength;
    }

    /// <summary>
    /// Every config field set to values of every JSON kind and to range edges, one or two fields at a time (issue 18,
    /// class 2). A value of the wrong kind must be refused naming the field; an accepted config must build its model
    /// or be refused for memory — never an OutOfMemoryException, an overflow or another exception type.
    /// </summary>
    [Fact]
    public void ConfigsWithEveryFieldMutatedInKindAndRangeFailCleanly()
    {
        var valid = System.Text.Json.Nodes.JsonNode.Parse(Tiny().ToJson())!.AsObject();
        valid["hidden_act"] = "silu";
        string[] ints = ["vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "head_dim",
                         "intermediate_size", "max_position_embeddings"];
        string[] doubles = ["rms_norm_eps", "rope_theta", "partial_rotary_factor", "hidden_dropout"];
        string[] bools = ["rope_interleaved", "attention_bias", "tie_word_embeddings", "prefix_lm"];
        string[] strings = ["model_type", "hidden_act"];
        string[] ids = ["bos_token_id", "eos_token_id", "pad_token_id"];
        string[] nullable = ["num_key_value_heads", "head_dim", "hidden_act", .. ids];
        string[] values = ["0", "-1", "1", "2", "3", "7", "64", "65536", "2147483647", "-2147483648", "2147483648", "9007199254740993",
                           "0.5", "1.5", "-0.0", "1e-300", "1e300", "\"16\"", "\"\"", "\"gelu\"", "\"silu\"", "\"NaN\"", "true", "false",
                           "null", "[]", "[1]", "[1,\"x\"]", "{}", "{\"a\":1}"];
        var fields = ints.Concat(doubles).Concat(bools).Concat(strings).Concat(ids).ToArray();
        bool KindOk(string field, string v)
        {
            var node = System.Text.Json.JsonDocument.Parse(v).RootElement;
            if (node.ValueKind == System.Text.Json.JsonValueKind.Null) return nullable.Contains(field);
            bool isInt = node.ValueKind == System.Text.Json.JsonValueKind.Number && node.TryGetInt32(out _);
            if (ints.Contains(field)) return isInt;
            if (ids.Contains(field)) return isInt || node.ValueKind == System.Text.Json.JsonValueKind.Array && node.EnumerateArray().All(x => x.ValueKind == System.Text.Json.JsonValueKind.Number && x.TryGetInt32(out _));
            if (doubles.Contains(field)) return node.ValueKind == System.Text.Json.JsonValueKind.Number;
            if (bools.Contains(field)) return node.ValueKind is System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False;
            return node.ValueKind == System.Text.Json.JsonValueKind.String;
        }
        int cases = 0, refused = 0, accepted = 0;
        var rng = new Random(31);
        void Try(params (string Field, string Value)[] set)
        {
            set = set.GroupBy(x => x.Field).Select(g => g.Last()).ToArray(); // a field set twice holds its last value
            var j = valid.DeepClone().AsObject();
            foreach (var (f, v) in set) j[f] = System.Text.Json.Nodes.JsonNode.Parse(v);
            bool kindsOk = set.All(x => KindOk(x.Field, x.Value));
            cases++;
            try
            {
                var c = ModelConfig.FromJson(j.ToJsonString(), "fuzz/config.json");
                Assert.True(kindsOk, $"accepted a value of the wrong kind: {string.Join(", ", set)}");
                try { _ = new GlmModel(c); }
                catch (InvalidDataException e) { Assert.Contains("memory", e.Message); }
                accepted++;
            }
            catch (InvalidDataException e)
            {
                Assert.Contains("fuzz/config.json", e.Message);
                if (!kindsOk) Assert.Contains(set.First(x => !KindOk(x.Field, x.Value)).Field + ":", e.Message);
                refused++;
            }
            catch (Exception e) { Assert.Fail($"{string.Join(", ", set)}: {e.GetType().Name}: {e.Message}"); }
        }
        foreach (var f in fields) foreach (var v in values) Try((f, v));
        for (int i = 0; i < 1500; i++)
            Try((fields[rng.Next(fields.Length)], values[rng.Next(values.Length)]), (fields[rng.Next(fields.Length)], values[rng.Next(values.Length)]));
        output.WriteLine($"config field fuzz: {cases} cases, {refused} clear errors, {accepted} accepted (valid kinds, model built), 0 crashes");
        Assert.True(refused > cases / 2, $"only {refused} refused");
    }
}
