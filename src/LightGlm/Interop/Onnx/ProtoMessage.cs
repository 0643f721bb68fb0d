// A protobuf message assembled field by field and written with Google.Protobuf's CodedOutputStream: enough of the
// wire format for ONNX's ModelProto without generated code. Large byte fields are filled only while being written.
using Google.Protobuf;

namespace LightGlm.Interop.Onnx;

/// <summary>
/// Fields in the order added. Each knows its encoded size up front, so a nested message's length prefix is written
/// before its body and a weight tensor's bytes are produced only at write time (one tensor in memory at once).
/// </summary>
internal sealed class ProtoMessage
{
    readonly record struct Field(long Size, Action<CodedOutputStream> Write);
    readonly List<Field> _fields = [];

    /// <summary>Encoded size of the message body (without its own tag and length).</summary>
    public long Size { get; private set; }

    void Add(long size, Action<CodedOutputStream> write)
    {
        _fields.Add(new Field(size, write));
        Size += size;
    }

    static int Tag(int field) => CodedOutputStream.ComputeTagSize(field);

    public ProtoMessage Int64(int field, long value)
    {
        Add(Tag(field) + CodedOutputStream.ComputeInt64Size(value), o => { o.WriteTag(field, WireFormat.WireType.Varint); o.WriteInt64(value); });
        return this;
    }

    /// <summary>A repeated int64 written unpacked (one tag per value), the proto2 default that onnx.proto declares.</summary>
    public ProtoMessage Int64s(int field, IEnumerable<long> values)
    {
        foreach (var v in values) Int64(field, v);
        return this;
    }

    public ProtoMessage Float(int field, float value)
    {
        Add(Tag(field) + 4, o => { o.WriteTag(field, WireFormat.WireType.Fixed32); o.WriteFloat(value); });
        return this;
    }

    public ProtoMessage String(int field, string value)
    {
        Add(Tag(field) + CodedOutputStream.ComputeStringSize(value), o => { o.WriteTag(field, WireFormat.WireType.LengthDelimited); o.WriteString(value); });
        return this;
    }

    public ProtoMessage Message(int field, ProtoMessage child)
    {
        long n = child.Size;
        Add(Tag(field) + LengthSize(n) + n, o =>
        {
            o.WriteTag(field, WireFormat.WireType.LengthDelimited);
            o.WriteLength((int)n);
            child.WriteBody(o);
        });
        return this;
    }

    /// <summary>A bytes field of <paramref name="length"/> bytes that <paramref name="fill"/> writes into a buffer when the message is written.</summary>
    public ProtoMessage LazyBytes(int field, int length, Action<byte[]> fill)
    {
        Add(Tag(field) + CodedOutputStream.ComputeLengthSize(length) + length, o =>
        {
            var buffer = new byte[length];
            fill(buffer);
            o.WriteTag(field, WireFormat.WireType.LengthDelimited);
            o.WriteBytes(UnsafeByteOperations.UnsafeWrap(buffer)); // length prefix + the bytes, no second copy
        });
        return this;
    }

    static long LengthSize(long n) => n <= int.MaxValue ? CodedOutputStream.ComputeLengthSize((int)n) : 5;

    /// <summary>Writes the body; the caller checked that it fits protobuf's 2 GB message limit.</summary>
    public void WriteBody(CodedOutputStream o)
    {
        foreach (var f in _fields) f.Write(o);
    }

    /// <summary>Writes this message as a whole file (a top-level message has no tag or length).</summary>
    public void WriteTo(Stream stream)
    {
        if (Size > int.MaxValue)
            throw new InvalidOperationException($"the message is {Size:N0} bytes; protobuf messages are limited to {int.MaxValue:N0} bytes (2 GB)");
        using var o = new CodedOutputStream(stream, leaveOpen: true);
        WriteBody(o);
        o.Flush();
    }
}
