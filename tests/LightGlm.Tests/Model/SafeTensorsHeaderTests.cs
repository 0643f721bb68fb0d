// The safetensors header must tile the data section exactly (issue 18, class 1): a header short of the data, with a gap,
// an overlap, an offset past the end or a wrong kind is refused naming the file and the tensor — in a single file,
// in every shard of a sharded checkpoint, and in our own checkpoints.
using System.Text;
using LightGlm.Model;
using LightGlm.Model.Checkpoints;

namespace LightGlm.Tests.Model;

public sealed class SafeTensorsHeaderTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("lightglm-sthdr-").FullName;
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    /// <summary>A file with <paramref name="header"/> and <paramref name="dataBytes"/> zero bytes of data.</summary>
    string Write(string header, int dataBytes, string name = "t.safetensors")
    {
        var path = Path.Combine(_dir, name);
        var hb = Encoding.UTF8.GetBytes(header);
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((ulong)hb.Length), .. hb, .. new byte[dataBytes]]);
        return path;
    }

    static string Entry(string name, string shape, long begin, long end, string dtype = "F32") =>
        $"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":[{shape}],\"data_offsets\":[{begin},{end}]}}";

    [Theory]
    // header short of the data: 16 bytes of data, the tensors describe 8 (the model would run on the first 8 only)
    [InlineData("a:2:0:8", "b:0:8:8", 16, "data section holds 16 bytes but the tensors end at 8")]
    // a gap between two tensors: b would read bytes that belong to nothing
    [InlineData("a:2:0:8", "b:2:12:20", 20, "gap of 4 bytes between tensor 'a'")]
    // the first tensor does not begin at 0
    [InlineData("a:2:4:12", "b:2:12:20", 20, "tensor 'a' begins at data offset 4, expected 0")]
    // overlap
    [InlineData("a:2:0:8", "b:2:4:12", 12, "overlap")]
    // past the end
    [InlineData("a:2:0:8", "b:2:8:16", 12, "past the 12-byte data section")]
    public void AHeaderThatDoesNotTileTheDataIsRefusedNamingTheTensor(string a, string b, int data, string expected)
    {
        static string E(string spec) { var p = spec.Split(':'); return Entry(p[0], p[1], long.Parse(p[2]), long.Parse(p[3])); }
        var path = Write("{" + E(a) + "," + E(b) + "}", data);
        var e = Assert.Throws<InvalidDataException>(() => new SafeTensorsFile(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData("\"data_offsets\":[\"0\",8]", "data_offsets[0] must be a non-negative integer, found a string (\"0\")")]
    [InlineData("\"data_offsets\":[0,8.5]", "data_offsets[1] must be a non-negative integer, found a number (8.5)")]
    [InlineData("\"data_offsets\":[0,-8]", "data_offsets[1] must be a non-negative integer")]
    [InlineData("\"data_offsets\":[0,null]", "data_offsets[1] must be a non-negative integer, found null")]
    public void WrongKindsOfOffsetsAreNamed(string offsets, string expected)
    {
        var path = Write("{\"w\":{\"dtype\":\"F32\",\"shape\":[2]," + offsets + "}}", 8);
        var e = Assert.Throws<InvalidDataException>(() => new SafeTensorsFile(path));
        Assert.Contains("tensor 'w'", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void WrongKindsInShapeAndMetadataAreNamed()
    {
        var e = Assert.Throws<InvalidDataException>(() => new SafeTensorsFile(Write("{" + Entry("w", "2,\"x\"", 0, 8) + "}", 8)));
        Assert.Contains("tensor 'w': shape[1] must be a non-negative integer, found a string (\"x\")", e.Message);
        e = Assert.Throws<InvalidDataException>(() => new SafeTensorsFile(Write("{" + Entry("w", "4611686018427387904,4", 0, 8) + "}", 8)));
        Assert.Contains("tensor 'w'", e.Message);
        Assert.Contains("mislabelled", e.Message);
        e = Assert.Throws<InvalidDataException>(() => new SafeTensorsFile(Write("{\"__metadata__\":[1]," + Entry("w", "2", 0, 8) + "}", 8)));
        Assert.Contains("'__metadata__' must be an object of strings, found an array", e.Message);
        e = Assert.Throws<InvalidDataException>(() => new SafeTensorsFile(Write("{\"__metadata__\":{\"format\":1}," + Entry("w", "2", 0, 8) + "}", 8)));
        Assert.Contains("'__metadata__.format' must be a string, found a number (1)", e.Message);
    }

    [Fact]
    public void ZeroSizedTensorsAndAnEmptyFileAreValid()
    {
        using (var f = new SafeTensorsFile(Write("{" + Entry("a", "0", 0, 0) + "," + Entry("b", "2", 0, 8) + "," + Entry("c", "0,3", 8, 8) + "}", 8)))
            Assert.Equal(3, f.Tensors.Count);
        using (var f = new SafeTensorsFile(Write("{}", 0, "empty.safetensors"))) Assert.Empty(f.Tensors);
        var e = Assert.Throws<InvalidDataException>(() => new SafeTensorsFile(Write("{}", 4, "junk.safetensors")));
        Assert.Contains("lists no tensors but the data section holds 4 bytes", e.Message);
    }

    [Fact]
    public void OurOwnCheckpointWithBytesAppendedIsRefused()
    {
        ModelDirectory.Save(GlmModel.Create(TinyModels.Llama(), seed: 1), _dir);
        var path = Path.Combine(_dir, ModelDirectory.WeightsFile);
        Assert.NotNull(ModelDirectory.Load(_dir)); // as written, it proves
        File.AppendAllText(path, "trailing");
        var e = Assert.Throws<InvalidDataException>(() => ModelDirectory.Load(_dir));
        Assert.Contains(path, e.Message);
        Assert.Contains("but the tensors end at", e.Message);
    }

    [Fact]
    public void EveryShardOfAShardedCheckpointIsProved()
    {
        var m = GlmModel.Create(TinyModels.Llama(), seed: 2);
        var files = SafeTensorsWriter.WriteSharded(_dir, SafeTensorsWriter.FromArena(m.Layout, m.Weights), 2000, null);
        File.WriteAllText(Path.Combine(_dir, ModelDirectory.ConfigFile), m.Config.ToJson());
        Assert.True(files.Count > 2, $"{files.Count} shards");
        Assert.Equal(m.Weights, ModelDirectory.Load(_dir).Weights);
        string last = Path.Combine(_dir, files[^1]);
        File.AppendAllBytes(last, new byte[8]);
        var e = Assert.Throws<InvalidDataException>(() => ModelDirectory.Load(_dir));
        Assert.Contains(last, e.Message);
    }
}
