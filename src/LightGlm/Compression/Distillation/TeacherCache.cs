// The teacher's outputs computed once and kept on disk, reused by every epoch of distillation (issue 6): per sequence,
// at the positions that carry a target, the teacher's logits (all V, or the top k with their ids) and optionally its
// last hidden state. The file names the teacher and the data it was made from (SHA-256), so a changed teacher or data
// set rebuilds it instead of silently feeding stale labels. Format: docs/COMPRESSION.md, "Teacher-output cache".
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using LightGlm.Compression.Importance;
using LightGlm.IO;
using LightGlm.Model;

namespace LightGlm.Compression.Distillation;

public sealed class TeacherCache : IDisposable
{
    static readonly byte[] Magic = "LGTCACHE"u8.ToArray();
    const int Version = 1;
    const int HeaderBytes = 8 + 4 + 32 + 32 + 5 * 4;

    readonly Microsoft.Win32.SafeHandles.SafeFileHandle _file;
    readonly long[] _offset;
    readonly int[] _positions;

    /// <summary>Vocabulary size of the teacher.</summary>
    public int V { get; }
    /// <summary>Logits kept per position: 0 = all V; k = the top k (values and ids).</summary>
    public int K { get; }
    /// <summary>Width of the stored hidden state; 0 = hidden states not stored.</summary>
    public int Ct { get; }
    /// <summary>Sequences are cut to this length (as <see cref="Distiller.Pack"/> cuts them).</summary>
    public int MaxLen { get; }
    public int Count => _offset.Length;
    public string Path { get; }
    /// <summary>True when this open (re)computed the file; false when an existing, matching file was reused.</summary>
    public bool Built { get; private set; }
    public long Bytes => new FileInfo(Path).Length;

    TeacherCache(string path, int v, int k, int ct, int maxLen, long[] offset, int[] positions)
    {
        Path = path; V = v; K = k; Ct = ct; MaxLen = maxLen;
        _offset = offset; _positions = positions;
        _file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
    }

    int Width => K > 0 ? K : V;

    /// <summary>
    /// Opens the cache at <paramref name="path"/> when it was made from this teacher, these sequences and these settings;
    /// otherwise (missing, other teacher, other data, other k/hidden/length, unreadable) computes it — the teacher on
    /// batches of <paramref name="batchSize"/> packed exactly as training packs them — and writes it atomically.
    /// </summary>
    public static TeacherCache OpenOrBuild(string path, GlmModel teacher, IReadOnlyList<CalibrationSample> samples, int maxLen, int topK,
        bool hidden, int batchSize = 8, Action<string>? log = null)
    {
        using var t = DistillationTeacher.InMemory(teacher);
        return OpenOrBuild(path, t, samples, maxLen, topK, hidden, batchSize, log);
    }

    /// <summary>As above for any teacher: in memory, or streamed block by block from a mapped or quantized checkpoint
    /// (then the sequences are computed in chunks that read every block once, see <see cref="DistillationTeacher.Chunk"/>).</summary>
    public static TeacherCache OpenOrBuild(string path, DistillationTeacher teacher, IReadOnlyList<CalibrationSample> samples, int maxLen, int topK,
        bool hidden, int batchSize = 8, Action<string>? log = null)
    {
        if (samples.Count == 0) throw new ArgumentException("the teacher cache needs at least one sequence");
        int V = teacher.Config.V, k = topK <= 0 || topK >= V ? 0 : topK, ct = hidden ? teacher.Config.C : 0;
        byte[] th = teacher.Identity(), dh = DataHash(samples, maxLen);
        string why = "no cache file";
        if (File.Exists(path))
        {
            try
            {
                var existing = TryOpen(path, th, dh, V, k, ct, maxLen, samples.Count, out why);
                if (existing is not null)
                {
                    log?.Invoke($"teacher cache: reusing {path} ({samples.Count} sequences, {existing.Bytes / 1e6:F1} MB)");
                    return existing;
                }
            }
            catch (Exception e) when (e is IOException or InvalidDataException or EndOfStreamException) { why = $"unreadable ({e.Message})"; }
        }
        log?.Invoke($"teacher cache: computing {path} ({why})");
        Build(path, teacher, samples, maxLen, k, ct, th, dh, Math.Max(1, batchSize));
        var built = TryOpen(path, th, dh, V, k, ct, maxLen, samples.Count, out why)
                    ?? throw new InvalidDataException($"{path}: the teacher cache just written does not read back ({why})");
        built.Built = true;
        log?.Invoke($"teacher cache: wrote {path} ({samples.Count} sequences, {built.Bytes / 1e6:F1} MB)");
        return built;
    }

    /// <summary>SHA-256 of the sequences (tokens, targets, prefix, in order) and the length they are cut to.</summary>
    public static byte[] DataHash(IReadOnlyList<CalibrationSample> samples, int maxLen)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> head = stackalloc byte[16];
        BinaryPrimitives.WriteInt32LittleEndian(head, maxLen);
        BinaryPrimitives.WriteInt32LittleEndian(head[4..], samples.Count);
        h.AppendData(head[..8]);
        foreach (var s in samples)
        {
            BinaryPrimitives.WriteInt32LittleEndian(head, s.Tokens.Length);
            BinaryPrimitives.WriteInt32LittleEndian(head[4..], s.Targets.Length);
            BinaryPrimitives.WriteInt32LittleEndian(head[8..], s.Prefix);
            h.AppendData(head[..12]);
            h.AppendData(MemoryMarshal.AsBytes(s.Tokens.AsSpan()));
            h.AppendData(MemoryMarshal.AsBytes(s.Targets.AsSpan()));
        }
        return h.GetHashAndReset();
    }

    /// <summary>The positions of a sequence that carry a target once cut to maxLen: the rows the losses use.</summary>
    static int[] Positions(CalibrationSample s, int maxLen)
    {
        int n = Math.Min(maxLen, s.Tokens.Length);
        var p = new List<int>();
        for (int t = 0; t < n; t++) if (s.Targets[t] >= 0) p.Add(t);
        return [.. p];
    }

    static void Build(string path, DistillationTeacher teacher, IReadOnlyList<CalibrationSample> samples, int maxLen, int k, int ct, byte[] th, byte[] dh, int B)
    {
        int V = teacher.Config.V, W = k > 0 ? k : V, C = teacher.Config.C;
        var positions = samples.Select(s => Positions(s, maxLen)).ToArray();
        long recordBytes(int p) => (long)p * (4 + 4L * W + (k > 0 ? 4L * k : 0) + 4L * ct);
        var offsets = new long[samples.Count];
        long at = HeaderBytes + 12L * samples.Count;
        for (int i = 0; i < samples.Count; i++) { offsets[i] = at; at += recordBytes(positions[i].Length); }
        int chunk = Math.Max(1, teacher.Chunk(B, maxLen, (k > 0 ? 2L * k : V) + C));

        AtomicFile.Write(path, fs =>
        {
            var header = new byte[HeaderBytes + 12 * samples.Count];
            Magic.CopyTo(header, 0);
            BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(8), Version);
            th.CopyTo(header, 12);
            dh.CopyTo(header, 44);
            int o = 76;
            foreach (int x in new[] { V, k, ct, maxLen, samples.Count }) { BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(o), x); o += 4; }
            for (int i = 0; i < samples.Count; i++)
            {
                BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(o), offsets[i]);
                BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(o + 8), positions[i].Length);
                o += 12;
            }
            fs.Write(header);
            for (int start = 0; start < samples.Count; start += chunk)
            {
                var part = Enumerable.Range(start, Math.Min(chunk, samples.Count - start)).Select(i => samples[i]).ToList();
                var outputs = teacher.Outputs(part, chunk, maxLen, k);
                for (int b = 0; b < part.Count; b++)
                {
                    var pos = positions[start + b];
                    fs.Write(MemoryMarshal.AsBytes(pos.AsSpan()));
                    foreach (int t in pos)
                    {
                        long n = (long)b * maxLen + t;
                        fs.Write(MemoryMarshal.AsBytes(outputs.Logits.AsSpan((int)(n * W), W)));
                        if (k > 0) fs.Write(MemoryMarshal.AsBytes(outputs.TopIds!.AsSpan((int)(n * k), k)));
                        if (ct > 0) fs.Write(MemoryMarshal.AsBytes(outputs.Hidden.AsSpan((int)(n * C), C)));
                    }
                }
            }
            if (fs.Position != at) throw new InvalidOperationException($"teacher cache writer: wrote {fs.Position} bytes, planned {at}");
        });
    }

    static TeacherCache? TryOpen(string path, byte[] th, byte[] dh, int V, int k, int ct, int maxLen, int count, out string why)
    {
        using var fs = File.OpenRead(path);
        var head = new byte[HeaderBytes];
        fs.ReadExactly(head);
        if (!head.AsSpan(0, 8).SequenceEqual(Magic)) { why = "not a teacher cache (bad magic)"; return null; }
        int version = BinaryPrimitives.ReadInt32LittleEndian(head.AsSpan(8));
        if (version != Version) { why = $"format version {version}, this build writes {Version}"; return null; }
        if (!head.AsSpan(12, 32).SequenceEqual(th)) { why = "made from another teacher"; return null; }
        if (!head.AsSpan(44, 32).SequenceEqual(dh)) { why = "made from other data"; return null; }
        int[] f = Enumerable.Range(0, 5).Select(i => BinaryPrimitives.ReadInt32LittleEndian(head.AsSpan(76 + 4 * i))).ToArray();
        if (f[0] != V || f[1] != k || f[2] != ct || f[3] != maxLen || f[4] != count)
        {
            why = $"made with V={f[0]} top-k={f[1]} hidden={f[2]} max-len={f[3]} sequences={f[4]}, now V={V} top-k={k} hidden={ct} max-len={maxLen} sequences={count}";
            return null;
        }
        var index = new byte[12 * count];
        fs.ReadExactly(index);
        var offsets = new long[count];
        var positions = new int[count];
        int W = k > 0 ? k : V;
        long expected = HeaderBytes + 12L * count;
        for (int i = 0; i < count; i++)
        {
            offsets[i] = BinaryPrimitives.ReadInt64LittleEndian(index.AsSpan(12 * i));
            positions[i] = BinaryPrimitives.ReadInt32LittleEndian(index.AsSpan(12 * i + 8));
            if (offsets[i] != expected || positions[i] < 0 || positions[i] > maxLen) { why = $"corrupt index at sequence {i}"; return null; }
            expected += (long)positions[i] * (4 + 4L * W + (k > 0 ? 4L * k : 0) + 4L * ct);
        }
        if (fs.Length != expected) { why = $"truncated or padded: {fs.Length} bytes, expected {expected}"; return null; }
        why = "";
        return new TeacherCache(path, V, k, ct, maxLen, offsets, positions);
    }

    /// <summary>
    /// The teacher's outputs for a batch packed by <see cref="Distiller.Pack"/> from the cached sequences
    /// <paramref name="sequences"/> (row b = sequence ids[b]), in the layout of an on-the-fly forward: logits (B·T, W)
    /// with ids when top-k, hidden (B·T, Ct). Positions without a target are zero (no loss reads them).
    /// </summary>
    public TeacherOutputs Gather(IReadOnlyList<int> sequences, int B, int T)
    {
        if (T != MaxLen) throw new ArgumentException($"the teacher cache was built for sequences cut to {MaxLen}, the batch has T = {T}");
        if (sequences.Count > B) throw new ArgumentException($"{sequences.Count} sequences for a batch of {B}");
        int W = Width, N = B * T;
        var logits = new float[N * W];
        var ids = K > 0 ? new int[N * K] : null;
        var hidden = new float[N * Math.Max(Ct, 1)];
        for (int b = 0; b < sequences.Count; b++)
        {
            int s = sequences[b];
            if ((uint)s >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(sequences), $"sequence {s} is not in the cache ({Count} sequences)");
            int P = _positions[s];
            long rec = (long)P * (4 + 4L * W + (K > 0 ? 4L * K : 0) + 4L * Ct);
            var buf = new byte[rec];
            if (RandomAccess.Read(_file, buf, _offset[s]) != rec) throw new InvalidDataException($"{Path}: short read at sequence {s}");
            var pos = MemoryMarshal.Cast<byte, int>(buf.AsSpan(0, 4 * P));
            int o = 4 * P;
            foreach (int t in pos)
            {
                int n = b * T + t;
                MemoryMarshal.Cast<byte, float>(buf.AsSpan(o, 4 * W)).CopyTo(logits.AsSpan(n * W, W)); o += 4 * W;
                if (K > 0) { MemoryMarshal.Cast<byte, int>(buf.AsSpan(o, 4 * K)).CopyTo(ids.AsSpan(n * K, K)); o += 4 * K; }
                if (Ct > 0) { MemoryMarshal.Cast<byte, float>(buf.AsSpan(o, 4 * Ct)).CopyTo(hidden.AsSpan(n * Ct, Ct)); o += 4 * Ct; }
            }
        }
        return new TeacherOutputs(logits, ids, K, hidden, Ct);
    }

    public void Dispose() => _file.Dispose();
}
