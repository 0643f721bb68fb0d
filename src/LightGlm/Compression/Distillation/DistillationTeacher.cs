// The teacher of a distillation, however it is held: a GlmModel in memory (the training forward on batches packed as
// the student sees them), or any inference weight source — a memory-mapped bf16/fp16 or Hugging Face checkpoint, a
// quantized one — run through the one inference pass block by block over a chunk of sequences (every sequence through
// block l before block l + 1 is read), so a 6B teacher never needs its fp32 copy. Both give TeacherOutputs in the
// layout of a packed (B, T) batch, and the teacher cache is built from either.
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using LightGlm.Compression.Importance;
using LightGlm.Interop;
using LightGlm.Model;
using LightGlm.Model.Checkpoints;
using LightGlm.Model.Inference;

namespace LightGlm.Compression.Distillation;

public abstract class DistillationTeacher : IDisposable
{
    public abstract ModelConfig Config { get; }

    /// <summary>How the teacher is held, for logs ("in memory (fp32)", "streamed (…)").</summary>
    public abstract string Description { get; }

    /// <summary>True when the teacher runs from a weight source block by block (then a teacher cache pays).</summary>
    public virtual bool Streams => false;

    /// <summary>SHA-256 naming the teacher: a teacher cache made from another teacher is rebuilt.</summary>
    public abstract byte[] Identity();

    /// <summary>
    /// Sequences the teacher cache computes at once: a batch for the in-memory teacher; for a streamed one as many as keep
    /// the chunk's outputs (<paramref name="rowFloats"/> floats per position) near 256 MB, since each chunk reads every
    /// block's weights once.
    /// </summary>
    public abstract int Chunk(int batchSize, int maxLen, long rowFloats);

    /// <summary>
    /// The teacher's outputs on <paramref name="seqs"/> packed as <see cref="Distiller.Pack"/> packs them into a (B, T)
    /// batch (row b·T + t; sequences cut to T): logits at every position of each sequence (all V, or the top k with their
    /// ids) and the last block's output (before the final norm). Rows past a sequence's end are unspecified (no loss reads them).
    /// </summary>
    public abstract TeacherOutputs Outputs(IReadOnlyList<CalibrationSample> seqs, int B, int T, int topK);

    public virtual void Dispose() { }

    /// <summary>A teacher in memory (its fp32 arena; the training forward).</summary>
    public static DistillationTeacher InMemory(GlmModel model) => new InMemoryTeacher(model);

    /// <summary>A teacher run from a weight source; <paramref name="identity"/> names it for the teacher cache; owner is disposed with it.</summary>
    /// <param name="headRows">Rows per LM-head group (default: ~256 MB of logits, at least a sequence); tests set it small.</param>
    public static DistillationTeacher Streamed(InferenceWeights weights, string description, Func<byte[]> identity, IDisposable? owner = null,
        int headRows = 0) =>
        new StreamedTeacher(weights, description, identity, owner, headRows);

    /// <summary>
    /// A model directory as a teacher: loaded into memory when it is a small fp32 LightGlm model, else streamed — a
    /// quantized checkpoint through its int8/int4 projections, a 16-bit, sharded, Hugging Face or &gt; 500M-parameter one
    /// memory-mapped (<see cref="MappedWeights.ShouldMap"/>). The streamed teacher's identity hashes its weight files.
    /// </summary>
    public static DistillationTeacher Open(string dir)
    {
        if (Translation.TranslationModel.LoadsWhole(dir)) return InMemory(ModelDirectory.Load(dir));
        var (weights, owner) = Translation.TranslationModel.OpenWeights(dir);
        string kind = QuantizedCheckpoint.Is(dir) ? "quantized checkpoint" : "memory-mapped";
        return Streamed(weights, $"streamed block by block ({kind}, {dir})", () => FilesHash(dir, weights.Config), owner);
    }

    /// <summary>SHA-256 of the config and every weight file's bytes (a streamed teacher's identity).</summary>
    public static byte[] FilesHash(string dir, ModelConfig config)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        h.AppendData(Encoding.UTF8.GetBytes(config.ModelJson()));
        var buffer = new byte[1 << 20];
        foreach (var file in Directory.GetFiles(dir, "*.safetensors").Order(StringComparer.Ordinal))
        {
            h.AppendData(Encoding.UTF8.GetBytes(Path.GetFileName(file)));
            using var fs = File.OpenRead(file);
            int n;
            while ((n = fs.Read(buffer)) > 0) h.AppendData(buffer, 0, n);
        }
        return h.GetHashAndReset();
    }

    sealed class InMemoryTeacher(GlmModel model) : DistillationTeacher
    {
        ActivationCache? _cache;
        Batch? _batch;

        public override ModelConfig Config => model.Config;
        public override string Description => "in memory (fp32)";

        /// <summary>SHA-256 of the config and every fp32 weight.</summary>
        public override byte[] Identity()
        {
            using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            h.AppendData(Encoding.UTF8.GetBytes(model.Config.ModelJson()));
            h.AppendData(MemoryMarshal.AsBytes(model.Weights.AsSpan()));
            return h.GetHashAndReset();
        }

        public override int Chunk(int batchSize, int maxLen, long rowFloats) => batchSize;

        public override TeacherOutputs Outputs(IReadOnlyList<CalibrationSample> seqs, int B, int T, int topK)
        {
            if (_batch is null || _batch.B != B || _batch.T != T)
            {
                _batch = new Batch(B, T);
                _cache = model.CreateCache(B, T, dropout: false);
            }
            Distiller.PackInto(_batch, seqs);
            _batch.Training = false; // the teacher runs without dropout
            model.Forward(_cache!, _batch);
            return Distiller.Outputs(_cache!, model.Config, topK);
        }
    }

    sealed class StreamedTeacher(InferenceWeights weights, string description, Func<byte[]> identity, IDisposable? owner, int headRowsWanted)
        : DistillationTeacher
    {
        InferenceSession? _session;
        float[] _logits = [];

        public override ModelConfig Config => weights.Config;
        public override string Description => description;
        public override bool Streams => true;
        public override byte[] Identity() => identity();

        public override int Chunk(int batchSize, int maxLen, long rowFloats) =>
            (int)Math.Clamp((256L << 20) / (4 * Math.Max(1, rowFloats) * Math.Max(1, maxLen)), batchSize, 4096);

        public override TeacherOutputs Outputs(IReadOnlyList<CalibrationSample> seqs, int B, int T, int topK)
        {
            if (seqs.Count > B) throw new ArgumentException($"{seqs.Count} sequences for a batch of {B}");
            var c = weights.Config;
            int C = c.C, V = c.V, k = topK <= 0 || topK >= V ? 0 : topK, W = k > 0 ? k : V;
            // The LM head runs over many rows at once (its weights, the largest matrix of a big vocabulary, are read once
            // per group of rows rather than once per sequence): up to ~256 MB of logits per group.
            int headRows = headRowsWanted > 0 ? headRowsWanted : (int)Math.Clamp((64L << 20) / V, T, 1024);
            if (_session is null || _session.Cache.MaxLength < T || _session.MaxRows < Math.Max(T, headRows))
                _session = new InferenceSession(weights, 1, T, maxRows: Math.Max(T, headRows));
            var logits = new float[(long)B * T * W];
            var ids = k > 0 ? new int[B * T * k] : null;
            var hidden = new float[(long)B * T * C];
            // Block-outer: every sequence through block l before block l + 1 (a mapped block's weights are read once per chunk).
            var xs = new float[seqs.Count][];
            for (int i = 0; i < seqs.Count; i++)
            {
                int n = Math.Min(T, seqs[i].Tokens.Length);
                xs[i] = new float[n * C];
                _session.Embed(seqs[i].Tokens.AsSpan(0, n), xs[i]);
            }
            for (int l = 0; l < c.L; l++)
                for (int i = 0; i < seqs.Count; i++)
                    _session.ForwardBlock(l, xs[i], Math.Min(seqs[i].Prefix, xs[i].Length / C));
            // The last block's output is the hidden state; the rows of all sequences then go through the head in groups.
            var rowOf = new List<int>(seqs.Count * T); // output row (b·T + t) of each stacked row
            for (int i = 0; i < seqs.Count; i++)
            {
                xs[i].CopyTo(hidden.AsSpan(i * T * C));
                for (int t = 0; t < xs[i].Length / C; t++) rowOf.Add(i * T + t);
            }
            if (_logits.Length < headRows * V) _logits = new float[headRows * V];
            var group = new float[headRows * C];
            for (int g0 = 0; g0 < rowOf.Count; g0 += headRows)
            {
                int rows = Math.Min(headRows, rowOf.Count - g0);
                for (int j = 0; j < rows; j++) hidden.AsSpan(rowOf[g0 + j] * C, C).CopyTo(group.AsSpan(j * C, C));
                _session.Logits(group.AsSpan(0, rows * C), _logits);
                for (int j = 0; j < rows; j++)
                {
                    var row = _logits.AsSpan(j * V, V);
                    int r = rowOf[g0 + j];
                    if (k > 0) TeacherOutputs.TopK(row, k, logits.AsSpan(r * k, k), ids!.AsSpan(r * k, k));
                    else row.CopyTo(logits.AsSpan(r * V));
                }
            }
            return new TeacherOutputs(logits, ids, k, hidden, C);
        }

        public override void Dispose() => owner?.Dispose();
    }
}
