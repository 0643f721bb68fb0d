// The parts of a SentencePiece ModelProto (sentencepiece_model.proto) that encoding and decoding use:
// pieces (text, score, type), the trainer's model type and special-piece settings, the normaliser spec.
namespace LightGlm.Text.Tokenizers.SentencePiece;

public enum PieceType { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 }

public enum SentencePieceModelType { Unigram = 1, Bpe = 2, Word = 3, Char = 4 }

public sealed record Piece(string Text, float Score, PieceType Type);

public sealed class SentencePieceModel
{
    public List<Piece> Pieces { get; } = [];
    public SentencePieceModelType ModelType { get; private set; } = SentencePieceModelType.Unigram;
    public bool ByteFallback { get; private set; }
    public bool TreatWhitespaceAsSuffix { get; private set; }
    public string UnkSurface { get; private set; } = " \u2047 ";
    public string NormalizerName { get; private set; } = "";
    public byte[] PrecompiledCharsmap { get; private set; } = [];
    public bool AddDummyPrefix { get; private set; } = true;
    public bool RemoveExtraWhitespaces { get; private set; } = true;
    public bool EscapeWhitespaces { get; private set; } = true;
    /// <summary>A non-empty denormaliser charsmap (decode-time rules), which we do not apply.</summary>
    public bool HasDenormalizer { get; private set; }

    /// <summary>Parses a serialized ModelProto. Unknown fields are skipped, as protobuf readers do.</summary>
    public static SentencePieceModel Parse(ReadOnlySpan<byte> data, string where)
    {
        var m = new SentencePieceModel();
        var r = new ProtoReader(data, where);
        while (!r.End)
        {
            var (field, wire) = r.ReadTag();
            int at = r.Position;
            if (field is 1 or 2 or 3 or 5 && wire != 2) throw r.Bad(at, $"ModelProto field {field} should be a message (wire type 2), found wire type {wire}");
            switch (field)
            {
                case 1: m.Pieces.Add(ParsePiece(r.ReadBytes(), where, m.Pieces.Count)); break;
                case 2: m.ParseTrainerSpec(r.ReadBytes(), where); break;
                case 3: m.ParseNormalizerSpec(r.ReadBytes(), where, denormalizer: false); break;
                case 5: m.ParseNormalizerSpec(r.ReadBytes(), where, denormalizer: true); break;
                default: r.Skip(wire); break;
            }
        }
        return m;
    }

    static Piece ParsePiece(ReadOnlySpan<byte> data, string where, int index)
    {
        var r = new ProtoReader(data, $"{where}: piece #{index}");
        string text = ""; float score = 0; var type = PieceType.Normal;
        while (!r.End)
        {
            var (field, wire) = r.ReadTag();
            if (field == 1 && wire == 2) text = r.ReadString("the piece text");
            else if (field == 2 && wire == 5) score = r.ReadFloat();
            else if (field == 3 && wire == 0)
            {
                ulong t = r.ReadVarint();
                if (t is < 1 or > 6) throw r.Bad(r.Position, $"piece type {t} is not one of NORMAL(1) UNKNOWN(2) CONTROL(3) USER_DEFINED(4) UNUSED(5) BYTE(6)");
                type = (PieceType)t;
            }
            else r.Skip(wire);
        }
        return new Piece(text, score, type);
    }

    void ParseTrainerSpec(ReadOnlySpan<byte> data, string where)
    {
        var r = new ProtoReader(data, $"{where}: trainer_spec");
        while (!r.End)
        {
            var (field, wire) = r.ReadTag();
            switch (field, wire)
            {
                case (3, 0):
                    ulong t = r.ReadVarint();
                    if (t is < 1 or > 4) throw r.Bad(r.Position, $"model_type {t} is not UNIGRAM(1) BPE(2) WORD(3) CHAR(4)");
                    ModelType = (SentencePieceModelType)t;
                    break;
                case (24, 0): TreatWhitespaceAsSuffix = r.ReadVarint() != 0; break;
                case (35, 0): ByteFallback = r.ReadVarint() != 0; break;
                case (44, 2): UnkSurface = r.ReadString("unk_surface"); break;
                default: r.Skip(wire); break;
            }
        }
    }

    void ParseNormalizerSpec(ReadOnlySpan<byte> data, string where, bool denormalizer)
    {
        var r = new ProtoReader(data, $"{where}: {(denormalizer ? "denormalizer_spec" : "normalizer_spec")}");
        while (!r.End)
        {
            var (field, wire) = r.ReadTag();
            if (denormalizer)
            {
                if (field == 2 && wire == 2) HasDenormalizer |= r.ReadBytes().Length > 0;
                else r.Skip(wire);
                continue;
            }
            switch (field, wire)
            {
                case (1, 2): NormalizerName = r.ReadString("normalizer name"); break;
                case (2, 2): PrecompiledCharsmap = r.ReadBytes().ToArray(); break;
                case (3, 0): AddDummyPrefix = r.ReadVarint() != 0; break;
                case (4, 0): RemoveExtraWhitespaces = r.ReadVarint() != 0; break;
                case (5, 0): EscapeWhitespaces = r.ReadVarint() != 0; break;
                default: r.Skip(wire); break;
            }
        }
    }
}
