// An ONNX graph under construction (nodes, fp32/int64 initializers, typed inputs and outputs) and its ModelProto,
// with the field numbers of onnx/onnx's onnx.proto. Only what a decoder graph needs; standard domain, one opset.
using System.Runtime.InteropServices;

namespace LightGlm.Interop.Onnx;

/// <summary>Element types of onnx.proto's TensorProto.DataType that we use.</summary>
internal enum OnnxType { Float = 1, Int64 = 7 }

/// <summary>
/// Builds a GraphProto: <see cref="Node"/> appends a node and returns its output name; initializers are weights or
/// constants. Names are unique by construction (a counter), except the graph's inputs/outputs and weights, which keep
/// the names given.
/// </summary>
internal sealed class OnnxGraph
{
    // onnx.proto field numbers.
    const int ModelIrVersion = 1, ModelProducerName = 2, ModelProducerVersion = 3, ModelDocString = 6, ModelGraph = 7, ModelOpsetImport = 8, ModelMetadata = 14;
    const int OpsetDomain = 1, OpsetVersion = 2;
    const int EntryKey = 1, EntryValue = 2;
    const int GraphNode = 1, GraphName = 2, GraphInitializer = 5, GraphInput = 11, GraphOutput = 12;
    const int NodeInput = 1, NodeOutput = 2, NodeName = 3, NodeOpType = 4, NodeAttribute = 5;
    const int AttrName = 1, AttrF = 2, AttrI = 3, AttrInts = 8, AttrType = 20;
    const int AttrTypeFloat = 1, AttrTypeInt = 2, AttrTypeInts = 7;
    const int TensorDims = 1, TensorDataType = 2, TensorName = 8, TensorRawData = 9;
    const int ValueInfoName = 1, ValueInfoType = 2;
    const int TypeTensor = 1, TypeTensorElemType = 1, TypeTensorShape = 2, ShapeDim = 1, DimValue = 1, DimParam = 2;

    /// <summary>IR version 8 is the one that goes with opset 17 (ONNX 1.12).</summary>
    public const long IrVersion = 8, Opset = 17;

    readonly List<ProtoMessage> _nodes = [], _initializers = [], _inputs = [], _outputs = [];
    int _next;

    /// <summary>Bytes of all initializers' data so far.</summary>
    public long InitializerBytes { get; private set; }

    /// <summary>A fresh value name with a readable stem.</summary>
    public string Name(string stem) => $"{stem}_{_next++}";

    /// <summary>
    /// Appends a node <paramref name="op"/>(inputs) → outputs. Attributes: int, long, float or long[] values.
    /// Returns the first output; <paramref name="outputs"/> null = one fresh output named after the op.
    /// </summary>
    public string Node(string op, string[] inputs, string[]? outputs = null, params (string Name, object Value)[] attributes)
    {
        outputs ??= [Name(op.ToLowerInvariant())];
        var n = new ProtoMessage();
        foreach (var i in inputs) n.String(NodeInput, i);
        foreach (var o in outputs) n.String(NodeOutput, o);
        n.String(NodeName, Name(op)).String(NodeOpType, op);
        foreach (var (name, value) in attributes)
        {
            var a = new ProtoMessage().String(AttrName, name);
            switch (value)
            {
                case int i: a.Int64(AttrI, i).Int64(AttrType, AttrTypeInt); break;
                case long l: a.Int64(AttrI, l).Int64(AttrType, AttrTypeInt); break;
                case float f: a.Float(AttrF, f).Int64(AttrType, AttrTypeFloat); break;
                case long[] ls: a.Int64s(AttrInts, ls).Int64(AttrType, AttrTypeInts); break;
                default: throw new ArgumentException($"attribute {name} of {op}: unsupported value type {value.GetType().Name}");
            }
            n.Message(NodeAttribute, a);
        }
        _nodes.Add(n);
        return outputs[0];
    }

    /// <summary>An fp32 initializer of shape <paramref name="dims"/> whose values <paramref name="fill"/> writes (row-major) at save time.</summary>
    public string Weight(string name, long[] dims, Action<Span<float>> fill)
    {
        long count = dims.Aggregate(1L, (a, b) => a * b);
        if (count * 4 > int.MaxValue) throw new InvalidOperationException($"tensor {name} ({string.Join("×", dims)}) is over 2 GB; an ONNX file without external data cannot hold it");
        var t = Tensor(name, dims, OnnxType.Float);
        t.LazyBytes(TensorRawData, (int)(count * 4), bytes => fill(MemoryMarshal.Cast<byte, float>(bytes.AsSpan())));
        _initializers.Add(t);
        InitializerBytes += count * 4;
        return name;
    }

    /// <summary>A constant fp32 tensor (copied now).</summary>
    public string Floats(long[] dims, params float[] values)
    {
        var copy = values.ToArray();
        return Weight(Name("const_f"), dims, s => copy.CopyTo(s));
    }

    /// <summary>A constant 1-D int64 tensor (shapes, axes, split sizes).</summary>
    public string Int64s(params long[] values)
    {
        string name = Name("const_i");
        var t = Tensor(name, [values.Length], OnnxType.Int64);
        var copy = values.ToArray();
        t.LazyBytes(TensorRawData, values.Length * 8, bytes => MemoryMarshal.Cast<long, byte>(copy).CopyTo(bytes));
        _initializers.Add(t);
        return name;
    }

    static ProtoMessage Tensor(string name, long[] dims, OnnxType type) =>
        new ProtoMessage().Int64s(TensorDims, dims).Int64(TensorDataType, (long)type).String(TensorName, name);

    /// <summary>A graph input; each dim is an int (fixed) or a string (symbolic: "batch", "seq", ...).</summary>
    public string Input(string name, OnnxType type, params object[] dims) { _inputs.Add(ValueInfo(name, type, dims)); return name; }

    public string Output(string name, OnnxType type, params object[] dims) { _outputs.Add(ValueInfo(name, type, dims)); return name; }

    static ProtoMessage ValueInfo(string name, OnnxType type, object[] dims)
    {
        var shape = new ProtoMessage();
        foreach (var d in dims)
        {
            var dim = d switch
            {
                int i => new ProtoMessage().Int64(DimValue, i),
                string s => new ProtoMessage().String(DimParam, s),
                _ => throw new ArgumentException($"dim {d} of {name} must be an int or a symbolic name"),
            };
            shape.Message(ShapeDim, dim);
        }
        var tensor = new ProtoMessage().Int64(TypeTensorElemType, (long)type).Message(TypeTensorShape, shape);
        return new ProtoMessage().String(ValueInfoName, name).Message(ValueInfoType, new ProtoMessage().Message(TypeTensor, tensor));
    }

    /// <summary>The ModelProto: IR 8, opset 17 of the default domain, the graph, and string metadata (key → value).</summary>
    public ProtoMessage ToModel(string graphName, string producerVersion, string docString, IEnumerable<KeyValuePair<string, string>> metadata)
    {
        var graph = new ProtoMessage().String(GraphName, graphName);
        foreach (var n in _nodes) graph.Message(GraphNode, n);
        foreach (var t in _initializers) graph.Message(GraphInitializer, t);
        foreach (var i in _inputs) graph.Message(GraphInput, i);
        foreach (var o in _outputs) graph.Message(GraphOutput, o);
        var model = new ProtoMessage()
            .Int64(ModelIrVersion, IrVersion)
            .String(ModelProducerName, "lightglm")
            .String(ModelProducerVersion, producerVersion)
            .String(ModelDocString, docString)
            .Message(ModelGraph, graph)
            .Message(ModelOpsetImport, new ProtoMessage().String(OpsetDomain, "").Int64(OpsetVersion, Opset));
        foreach (var (k, v) in metadata) model.Message(ModelMetadata, new ProtoMessage().String(EntryKey, k).String(EntryValue, v));
        return model;
    }
}
