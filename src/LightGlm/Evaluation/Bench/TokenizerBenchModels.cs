// The tokenizer files `lightglm bench tokenizer` measures when none are given: our byte-level BPE trained by BpeTrainer
// and a SentencePiece unigram and BPE model trained by Debian's spm_train, all on the same training text, cached in
// $LIGHTGLM_CACHE/bench/ under a hash of that text and the options so a rerun measures the very same files.
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using LightGlm.IO;
using LightGlm.Text.Tokenizers;

namespace LightGlm.Evaluation.Bench;

public static class TokenizerBenchModels
{
    public static string CacheDir => Path.Combine(Text.Corpus.RepoPaths.CacheDir, "bench");

    /// <summary>Short hex key of the training texts (one a line) and the options.</summary>
    public static string Key(IReadOnlyList<string> texts, string options)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var t in texts) { h.AppendData(Encoding.UTF8.GetBytes(t)); h.AppendData("\n"u8); }
        h.AppendData(Encoding.UTF8.GetBytes(options));
        return Convert.ToHexStringLower(h.GetHashAndReset())[..12];
    }

    /// <summary>Our byte-level BPE tokenizer.json trained on <paramref name="texts"/> (cached); the origin says how and how long.</summary>
    public static (string Path, string Origin) OurBpe(IReadOnlyList<string> texts, int vocabSize, Action<string> say)
    {
        string path = Path.Combine(CacheDir, $"lightglm-bpe-v{vocabSize}-{Key(texts, $"lightglm-bpe {vocabSize}")}.json");
        if (File.Exists(path)) return (path, Cached(path));
        Directory.CreateDirectory(CacheDir);
        say($"training our byte-level BPE (vocab {vocabSize}) on {texts.Count} texts -> {path} ...");
        var sw = Stopwatch.StartNew();
        AtomicFile.Write(path, fs => BpeTrainer.Train(texts, new BpeTrainerOptions { VocabSize = vocabSize }, fs));
        return (path, Record(path, $"trained by BpeTrainer in {sw.Elapsed.TotalSeconds:F1} s on {texts.Count} texts"));
    }

    /// <summary>
    /// A SentencePiece model of <paramref name="type"/> (unigram or bpe) trained with spm_train on <paramref name="texts"/>
    /// (cached). Options follow tests/reference/text/make_spm_vectors.sh: nmt_nfkc, coverage 0.9995, byte fallback.
    /// </summary>
    public static (string Path, string Origin) SpmModel(IReadOnlyList<string> texts, string type, int vocabSize, Action<string> say, string spmTrain = "spm_train")
    {
        if (type is not ("unigram" or "bpe")) throw new ArgumentException($"SentencePiece model type must be unigram or bpe, got '{type}'");
        string[] opts = [$"--model_type={type}", $"--vocab_size={vocabSize}", "--character_coverage=0.9995", "--byte_fallback=true",
            "--input_sentence_size=1000000", "--shuffle_input_sentence=false", "--max_sentence_length=8192", "--minloglevel=1"];
        string path = Path.Combine(CacheDir, $"spm-{type}-v{vocabSize}-{Key(texts, string.Join(' ', opts))}.model");
        if (File.Exists(path)) return (path, Cached(path));
        Directory.CreateDirectory(CacheDir);
        string prefix = Path.Combine(CacheDir, $"tmp-{Environment.ProcessId}-spm-{type}");
        string input = prefix + ".txt";
        File.WriteAllLines(input, texts, new UTF8Encoding(false));
        say($"training a SentencePiece {type} model (vocab {vocabSize}) with spm_train on {texts.Count} texts -> {path} ...");
        var sw = Stopwatch.StartNew();
        try
        {
            var psi = new ProcessStartInfo(spmTrain) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in opts.Append($"--input={input}").Append($"--model_prefix={prefix}").Append($"--num_threads={Environment.ProcessorCount}"))
                psi.ArgumentList.Add(a);
            Process p;
            try { p = Process.Start(psi)!; }
            catch (System.ComponentModel.Win32Exception e) { throw new FileNotFoundException($"{spmTrain}: cannot start ({e.Message}); install Debian's sentencepiece (apt-get install sentencepiece) or pass --spm-model"); }
            using (p)
            {
                var err = p.StandardError.ReadToEndAsync();
                p.StandardOutput.ReadToEnd();
                p.WaitForExit();
                if (p.ExitCode != 0) throw new InvalidOperationException($"spm_train exited with {p.ExitCode}: {err.Result.Trim()}");
            }
            AtomicFile.Copy(prefix + ".model", path); // spm_train's own file is written in place: published by our helper (the temp is removed below)
        }
        finally
        {
            foreach (var f in new[] { input, prefix + ".model", prefix + ".vocab" }) if (File.Exists(f)) File.Delete(f);
        }
        return (path, Record(path, $"trained by spm_train in {sw.Elapsed.TotalSeconds:F1} s on {texts.Count} texts"));
    }

    /// <summary>OpenAI's cl100k_base (GPT-4) as a tokenizer.json our HfTokenizer reads, converted from the ranks file
    /// that the NuGet package Microsoft.ML.Tokenizers.Data.Cl100kBase carries (cached).</summary>
    public static (string Path, string Origin) Cl100kBase(Action<string> say)
    {
        string path = Path.Combine(CacheDir, "tiktoken-cl100k_base.tokenizer.json");
        if (File.Exists(path)) return (path, Cached(path));
        Directory.CreateDirectory(CacheDir);
        say($"converting cl100k_base.tiktoken (Microsoft.ML.Tokenizers.Data.Cl100kBase) to {path} ...");
        var sw = Stopwatch.StartNew();
        byte[][] tokens;
        using (var ranks = TiktokenConverter.OpenCl100kBase()) tokens = TiktokenConverter.ReadRanks(ranks, "cl100k_base.tiktoken");
        AtomicFile.Write(path, fs => TiktokenConverter.WriteTokenizerJson(tokens, TiktokenConverter.Cl100kPattern, TiktokenConverter.Cl100kSpecialTokens, fs));
        return (path, Record(path, $"converted by TiktokenConverter in {sw.Elapsed.TotalSeconds:F1} s from cl100k_base.tiktoken of Microsoft.ML.Tokenizers.Data.Cl100kBase"));
    }

    /// <summary>How a cached file was made is kept beside it (path.origin.txt), so a rerun can still say it.</summary>
    static string Record(string path, string origin)
    {
        AtomicFile.WriteAllText(path + ".origin.txt", origin + $", {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        return origin;
    }

    static string Cached(string path) =>
        (File.Exists(path + ".origin.txt") ? File.ReadAllText(path + ".origin.txt").Trim() : "made by an earlier run") + "; cached";
}
