// `lightglm bench tokenizer`: encode/decode throughput of our tokenizers on real corpus text, and of the reference
// implementation of each format (python3-sentencepiece for .model, Hugging Face tokenizers.js for tokenizer.json)
// measured in the same run on the same texts, with the ids of both compared text by text; and .NET's own
// Microsoft.ML.Tokenizers (its BpeTokenizer / SentencePieceTokenizer on the very same file), in process.
using System.Diagnostics;
using System.Text;
using LightGlm.Kernels;
using LightGlm.Text.Tokenizers;

namespace LightGlm.Evaluation.Bench;

/// <summary>Which reference implementation measures a tokenizer file. <see cref="Tiktoken"/>: the file is a
/// tokenizer.json converted from a tiktoken ranks file (cl100k_base), and the reference is Microsoft.ML.Tokenizers'
/// TiktokenTokenizer on the original ranks, in process (there is no tiktoken on this machine to run).</summary>
public enum TokenizerPeer { None, SentencePiecePython, HuggingFaceJs, Tiktoken }

/// <summary>One tokenizer to measure: a display name, its file and the peer that reads the same file.</summary>
public sealed record TokenizerBenchCase(string Name, string File, TokenizerPeer Peer, string? Origin = null);

/// <summary>Seconds of the best pass over all texts (null = not measured). Throughput is computed from these.</summary>
public sealed record TokenizerSide(string Who, double? EncodeFirstS, double? EncodeLineS, double? EncodeBatchS,
    double? DecodeLineS, double? DecodeBatchS, int? Threads, string Note);

/// <summary>The ids of the peer compared with ours: texts with equal ids out of those compared, and the first that differ.</summary>
public sealed record IdAgreement(int Equal, int Compared, string? FirstMismatch);

/// <summary>Microsoft.ML.Tokenizers on the same file: its side, its ids against ours, or why it was not measured.</summary>
public sealed record MlPeerRun(TokenizerSide? Side, IdAgreement? Agreement, string? Error);

public sealed record TokenizerBenchResult(TokenizerBenchCase Case, int Texts, long Bytes, long Tokens, TokenizerSide LightGlm,
    TokenizerSide? Peer, IdAgreement? Agreement, string? PeerError, MlPeerRun? Ml = null);

public sealed record TokenizerBenchOptions
{
    public required IReadOnlyList<string> Texts { get; init; }
    public double MinSeconds { get; init; } = 1.0;
    public int Threads { get; init; } = Environment.ProcessorCount;
    public string Python { get; init; } = "/usr/bin/python3";
    public string Node { get; init; } = "node";
    /// <summary>Folder with node_modules/@huggingface/tokenizers (npm install --prefix DIR @huggingface/tokenizers).</summary>
    public string? JsDir { get; init; }
    public bool Peers { get; init; } = true;
    /// <summary>Also measure Microsoft.ML.Tokenizers on the same file (with <see cref="Peers"/>).</summary>
    public bool MlPeer { get; init; } = true;
}

public static class TokenizerBench
{
    public const string SpmScriptRelative = "tests/reference/text/bench_spm.py";
    public const string HfScriptRelative = "tests/reference/text/bench_hf.mjs";

    public static List<TokenizerBenchResult> Run(IReadOnlyList<TokenizerBenchCase> cases, TokenizerBenchOptions o, Action<string> say)
    {
        if (o.Texts.Count == 0) throw new ArgumentException("no texts to benchmark (empty file or corpus?)");
        if (o.MinSeconds <= 0) throw new ArgumentOutOfRangeException(nameof(o), $"MinSeconds must be > 0, got {o.MinSeconds}");
        string tmp = Directory.CreateTempSubdirectory("lightglm-tokbench-").FullName;
        try
        {
            string textsFile = Path.Combine(tmp, "texts.txt");
            using (var w = new StreamWriter(textsFile, false, new UTF8Encoding(false)))
                foreach (var t in o.Texts)
                {
                    if (t.Contains('\n')) throw new ArgumentException("a benchmark text contains a line feed; texts are one line each");
                    w.Write(t); w.Write('\n');
                }
            long bytes = o.Texts.Sum(t => (long)Encoding.UTF8.GetByteCount(t));
            var results = new List<TokenizerBenchResult>();
            foreach (var c in cases)
            {
                say($"{c.Name}: LightGlm, {o.Texts.Count} texts ({bytes / 1e6:F2} MB), passes until {o.MinSeconds:0.#} s each ...");
                var (ours, ids) = MeasureOurs(c, o);
                long tokens = ids.Sum(x => (long)x.Length);
                TokenizerSide? peer = null; IdAgreement? agree = null; string? error = null;
                if (o.Peers && c.Peer is TokenizerPeer.SentencePiecePython or TokenizerPeer.HuggingFaceJs)
                {
                    say($"{c.Name}: {(c.Peer == TokenizerPeer.SentencePiecePython ? "python3-sentencepiece" : "tokenizers.js")} on the same texts ...");
                    try
                    {
                        string idsFile = Path.Combine(tmp, "peer-ids.txt");
                        peer = RunPeer(c, o, textsFile, idsFile, tmp);
                        agree = Compare(ids, idsFile, o.Texts);
                    }
                    catch (Exception e) when (e is InvalidOperationException or FileNotFoundException or InvalidDataException or System.ComponentModel.Win32Exception)
                    {
                        error = e.Message;
                    }
                }
                MlPeerRun? ml = null;
                if (o.Peers && o.MlPeer && c.Peer != TokenizerPeer.None)
                {
                    say($"{c.Name}: Microsoft.ML.Tokenizers on the same texts ...");
                    ml = MeasureMl(c, o, ids);
                }
                results.Add(new TokenizerBenchResult(c, o.Texts.Count, bytes, tokens, ours, peer, agree, error, ml));
            }
            return results;
        }
        finally { Directory.Delete(tmp, recursive: true); }
    }

    /// <summary>Texts encoded by a throw-away instance before the cold pass (the peer scripts do the same).</summary>
    public const int WarmUpTexts = 100;

    /// <summary>
    /// First pass on a freshly loaded tokenizer (cold word cache), which also gives the ids; then the best of repeated
    /// passes, one call per text on one thread, and batch calls split over <see cref="TokenizerBenchOptions.Threads"/>.
    /// </summary>
    static (TokenizerSide Side, int[][] Ids) MeasureOurs(TokenizerBenchCase c, TokenizerBenchOptions o)
    {
        var texts = o.Texts;
        bool parseSpecial = c.Peer != TokenizerPeer.SentencePiecePython; // spm never matches control pieces in text
        // Warm the code (JIT) on another instance, so that the cold pass measures empty word caches, not compilation.
        var warm = TokenizerLoader.Load(c.File);
        for (int i = 0; i < Math.Min(WarmUpTexts, texts.Count); i++) warm.Encode(texts[i], parseSpecial);
        var tok = TokenizerLoader.Load(c.File);
        var ids = new int[texts.Count][];
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < texts.Count; i++) ids[i] = tok.Encode(texts[i], parseSpecial);
        double first = sw.Elapsed.TotalSeconds;
        double encLine = BestPass(() => { for (int i = 0; i < texts.Count; i++) tok.Encode(texts[i], parseSpecial); }, o.MinSeconds);
        double decLine = BestPass(() => { for (int i = 0; i < ids.Length; i++) tok.Decode(ids[i]); }, o.MinSeconds);
        int saved = KernelParallel.Degree;
        KernelParallel.Degree = o.Threads;
        try
        {
            double encBatch = BestPass(() => tok.EncodeBatch(texts, parseSpecial), o.MinSeconds);
            double decBatch = BestPass(() => tok.DecodeBatch(ids), o.MinSeconds);
            return (new TokenizerSide("LightGlm", first, encLine, encBatch, decLine, decBatch, o.Threads,
                $"LightGlm {tok.GetType().Name} (.NET {Environment.Version}), batch over {o.Threads} thread(s)"), ids);
        }
        finally { KernelParallel.Degree = saved; }
    }

    /// <summary>
    /// Microsoft.ML.Tokenizers measured as ours is (cold pass, best line passes, batch over threads), through
    /// <see cref="MlTokenizerAdapter"/> so that both sides answer the same call and add no BOS/EOS.
    /// </summary>
    static MlPeerRun MeasureMl(TokenizerBenchCase c, TokenizerBenchOptions o, int[][] ours)
    {
        var texts = o.Texts;
        bool spm = c.Peer == TokenizerPeer.SentencePiecePython;
        Func<MlTokenizerAdapter> load = c.Peer switch
        {
            TokenizerPeer.SentencePiecePython => () => new MlTokenizerAdapter(MlTokenizerLoader.SentencePiece(c.File)),
            // TiktokenTokenizer keeps its vocabulary internal: the adapter takes the converted file's (same ids).
            TokenizerPeer.Tiktoken => () => new MlTokenizerAdapter(Microsoft.ML.Tokenizers.TiktokenTokenizer.CreateForEncoding("cl100k_base"), Vocabulary(c.File)),
            _ => () => new MlTokenizerAdapter(MlTokenizerLoader.TokenizerJson(c.File)),
        };
        MlTokenizerAdapter tok;
        try
        {
            var warm = load();
            for (int i = 0; i < Math.Min(WarmUpTexts, texts.Count); i++) warm.Encode(texts[i], !spm);
            tok = load();
        }
        catch (Exception e) when (e is NotSupportedException or InvalidDataException or FormatException or ArgumentException or InvalidOperationException)
        {
            return new MlPeerRun(null, null, $"Microsoft.ML.Tokenizers cannot load {Path.GetFileName(c.File)}: {e.Message}");
        }
        var ids = new int[texts.Count][];
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < texts.Count; i++) ids[i] = tok.Encode(texts[i], !spm);
        double first = sw.Elapsed.TotalSeconds;
        double encLine = BestPass(() => { for (int i = 0; i < texts.Count; i++) tok.Encode(texts[i], !spm); }, o.MinSeconds);
        double decLine = BestPass(() => { for (int i = 0; i < ids.Length; i++) tok.Decode(ids[i]); }, o.MinSeconds);
        ITokenizer batch = tok;
        int saved = KernelParallel.Degree;
        KernelParallel.Degree = o.Threads;
        try
        {
            double encBatch = BestPass(() => batch.EncodeBatch(texts, !spm), o.MinSeconds);
            double decBatch = BestPass(() => batch.DecodeBatch(ids), o.MinSeconds);
            string version = (typeof(Microsoft.ML.Tokenizers.Tokenizer).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
                .FirstOrDefault() as System.Reflection.AssemblyInformationalVersionAttribute)?.InformationalVersion.Split('+')[0] ?? "?";
            var side = new TokenizerSide("Microsoft.ML.Tokenizers", first, encLine, encBatch, decLine, decBatch, o.Threads,
                $"Microsoft.ML.Tokenizers {version} {tok.Inner.GetType().Name} in process; batch = our same thread split over {o.Threads} thread(s)");
            return new MlPeerRun(side, Compare(ours, ids, texts), null);
        }
        finally { KernelParallel.Degree = saved; }
    }

    static Dictionary<string, int> Vocabulary(string file)
    {
        var t = TokenizerLoader.Load(file);
        var vocab = new Dictionary<string, int>();
        for (int id = 0; id < t.VocabSize; id++)
            if (t.IdToToken(id) is { } s && !t.SpecialTokens.ContainsKey(s)) vocab.TryAdd(s, id);
        return vocab;
    }

    /// <summary>Whole passes until <paramref name="minSeconds"/> have passed (at least 2); the best (least disturbed) pass.</summary>
    static double BestPass(Action pass, double minSeconds)
    {
        double best = double.MaxValue, total = 0;
        for (int n = 0; total < minSeconds || n < 2; n++)
        {
            long t0 = Stopwatch.GetTimestamp();
            pass();
            double dt = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            best = Math.Min(best, dt);
            total += dt;
        }
        return best;
    }

    static IdAgreement Compare(int[][] ours, string peerIds, IReadOnlyList<string> texts)
    {
        var lines = File.ReadAllLines(peerIds);
        if (lines.Length != ours.Length) throw new InvalidDataException($"the peer wrote ids for {lines.Length} texts, expected {ours.Length}");
        return Compare(ours, lines.Select(l => l.Length == 0 ? [] : l.Split(' ').Select(int.Parse).ToArray()).ToArray(), texts);
    }

    static IdAgreement Compare(int[][] ours, int[][] theirs, IReadOnlyList<string> texts)
    {
        int equal = 0;
        string? first = null;
        for (int i = 0; i < ours.Length; i++)
        {
            if (theirs[i].AsSpan().SequenceEqual(ours[i])) equal++;
            else first ??= $"text {i + 1} '{Clip(texts[i])}': ours [{Clip(string.Join(' ', ours[i]))}] vs peer [{Clip(string.Join(' ', theirs[i]))}]";
        }
        return new IdAgreement(equal, ours.Length, first);
    }

    static string Clip(string s) => s.Length <= 80 ? s : s[..77] + "...";

    static TokenizerSide RunPeer(TokenizerBenchCase c, TokenizerBenchOptions o, string textsFile, string idsFile, string tmp)
    {
        string file = Ungzip(c.File, tmp);
        string secs = o.MinSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (c.Peer == TokenizerPeer.SentencePiecePython)
        {
            string script = FindScript(SpmScriptRelative);
            var json = PeerProcess.RunJson(o.Python, [script, "--model", file, "--texts", textsFile, "--ids-out", idsFile,
                "--min-seconds", secs, "--threads", o.Threads.ToString()], "python3-sentencepiece: apt-get install python3-sentencepiece");
            return new TokenizerSide("python3-sentencepiece", json.Get("encode_first_s"), json.Get("encode_line_s"), json.Get("encode_batch_s"),
                json.Get("decode_line_s"), json.Get("decode_batch_s"), (int?)json.Get("threads"),
                $"{json.Str("peer")}; batch = one encode(list)/decode(list) call, spread by the C++ library over {o.Threads} thread(s)");
        }
        string dir = o.JsDir ?? DefaultJsDir;
        if (!Directory.Exists(Path.Combine(dir, "node_modules", "@huggingface", "tokenizers")))
            throw new FileNotFoundException($"tokenizers.js is not installed in {dir}: run `npm install --prefix {dir} @huggingface/tokenizers@0.2.0` (or pass --js-dir)");
        var js = PeerProcess.RunJson(o.Node, [FindScript(HfScriptRelative), "--js-dir", dir, "--tokenizer", file, "--texts", textsFile,
            "--ids-out", idsFile, "--min-seconds", secs], "Node.js: apt-get install nodejs npm");
        return new TokenizerSide("tokenizers.js", js.Get("encode_first_s"), js.Get("encode_line_s"), null, js.Get("decode_line_s"), null, 1,
            $"{js.Str("peer")}; one call per text (no batch API)");
    }

    /// <summary>Where the bench looks for tokenizers.js by default: $LIGHTGLM_CACHE/npm.</summary>
    public static string DefaultJsDir => Path.Combine(Text.Corpus.RepoPaths.CacheDir, "npm");

    /// <summary>The peers read plain files: a .gz is unpacked into the run's temp folder.</summary>
    static string Ungzip(string path, string tmp)
    {
        if (!path.EndsWith(".gz", StringComparison.Ordinal)) return path;
        string outPath = Path.Combine(tmp, Path.GetFileName(path)[..^3]);
        using var fs = File.OpenRead(path);
        using var gz = new System.IO.Compression.GZipStream(fs, System.IO.Compression.CompressionMode.Decompress);
        using var o = File.Create(outPath);
        gz.CopyTo(o);
        return outPath;
    }

    /// <summary>A checked-in peer script, searched upwards from the working directory and from the program's folder.</summary>
    public static string FindScript(string relative)
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
            {
                var p = Path.Combine(d.FullName, relative);
                if (System.IO.File.Exists(p)) return p;
            }
        throw new FileNotFoundException($"{relative} not found above {Environment.CurrentDirectory}; run from the repository");
    }
}
