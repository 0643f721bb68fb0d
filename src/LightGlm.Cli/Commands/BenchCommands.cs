// `lightglm bench train|decode|all`: our engine and (with --vs-pytorch) the PyTorch reference on the same model, in the
// same run, side by side (Spectre.Console table) or as one JSON object (--json); with --vs-onnxruntime, decoding also
// runs our ONNX export of the same model in ONNX Runtime. `lightglm bench tokenizer`: our
// tokenizers and their reference implementations on the same texts, the same way.
using System.CommandLine;
using LightGlm.Evaluation.Bench;
using LightGlm.Text.Corpus;
using Spectre.Console;

namespace LightGlm.Cli.Commands;

public sealed class BenchTrainCommand : ICliCommand
{
    public string[] Path => ["bench", "train"];
    public Command Build() => BenchCommand.Build("train", "Training throughput: forward + backward + AdamW (ms/step, tokens/s, GFLOP/s, % of sgemm peak).");
}

public sealed class BenchDecodeCommand : ICliCommand
{
    public string[] Path => ["bench", "decode"];
    public Command Build() => BenchCommand.Build("decode", "Batch-1 generation with a KV cache: prefill ms and decode ms/token.");
}

public sealed class BenchAllCommand : ICliCommand
{
    public string[] Path => ["bench", "all"];
    public Command Build() => BenchCommand.Build("all", "Training and decoding benchmarks together.");
}

internal static class BenchCommand
{
    public static Command Build(string what, string description)
    {
        var config = new Option<string>("--config") { Description = "Bench model: tiny or small", DefaultValueFactory = _ => "tiny" };
        var threads = new Option<int>("--threads") { Description = "Threads for our engine (GEMM and kernels); PyTorch always runs at its best setting", DefaultValueFactory = _ => Environment.ProcessorCount };
        var vsPytorch = new Option<bool>("--vs-pytorch") { Description = "Also run tests/reference/bench_pytorch.py on the same model in this run" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of the table" };
        var steps = new Option<int>("--steps") { Description = "Timed training steps (after 2 warm-up steps)", DefaultValueFactory = _ => 10 };
        var python = new Option<string>("--python") { Description = "Python with python3-torch", DefaultValueFactory = _ => "/usr/bin/python3" };
        var script = new Option<string?>("--pytorch-script") { Description = $"Path of {PyTorchBench.ScriptRelative} (default: found above the working directory)" };
        var setting = new Option<string>("--pytorch-setting") { Description = "PyTorch thread setting: best (probe all) or t1, t1-blas2, t2, t2-passive", DefaultValueFactory = _ => "best" };
        var profile = new Option<bool>("--profile") { Description = "Also print our training step's wall time per op (a stopwatch around each op)" };
        var vsOrt = new Option<bool>("--vs-onnxruntime") { Description = "Also export the bench model with `export --format onnx` and decode it in ONNX Runtime (in process) in this run" };
        var quantize = new Option<string>("--quantize") { Description = "Also decode with weight-only int8 and/or int4 (comma list: int8,int4; none = off)", DefaultValueFactory = _ => "none" };
        var cmd = new Command(what, description) { config, threads, vsPytorch, json, steps, python, script, setting, quantize };
        if (what is "train" or "all") cmd.Options.Add(profile);
        if (what is "decode" or "all") cmd.Options.Add(vsOrt);
        cmd.SetAction(r =>
        {
            var problems = new List<string>();
            var name = r.GetValue(config)!;
            if (!BenchSpec.Names.Contains(name)) problems.Add($"--config must be one of {string.Join(", ", BenchSpec.Names)}, got '{name}'");
            int n = r.GetValue(threads), s = r.GetValue(steps);
            if (n < 1) problems.Add($"--threads must be >= 1, got {n}");
            if (s < 1) problems.Add($"--steps must be >= 1, got {s}");
            var formats = new List<LightGlm.Model.Inference.WeightFormat>();
            foreach (var f in r.GetValue(quantize)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                try { var wf = LightGlm.Model.Inference.InferenceWeights.ParseFormat(f); if (wf != LightGlm.Model.Inference.WeightFormat.Fp32) formats.Add(wf); }
                catch (ArgumentException e) { problems.Add(e.Message); }
            }
            if (problems.Count > 0) throw new CliException(string.Join("; ", problems));
            var report = Run(BenchSpec.Get(name), what, n, s, r.GetValue(json), formats,
                r.GetValue(vsPytorch) ? (r.GetValue(python)!, r.GetValue(script), r.GetValue(setting)!) : null,
                what is "decode" or "all" && r.GetValue(vsOrt));
            if (r.GetValue(json)) Console.WriteLine(report.ToJson());
            else Print(report, what, n);
            if (what is "train" or "all" && r.GetValue(profile)) PrintProfile(BenchSpec.Get(name), s);
            return 0;
        });
        return cmd;
    }

    static BenchReport Run(BenchSpec spec, string what, int threads, int steps, bool quiet, List<LightGlm.Model.Inference.WeightFormat> formats,
        (string Python, string? Script, string Setting)? torch, bool onnxRuntime)
    {
        void Say(string m) { if (!quiet) AnsiConsole.MarkupLine($"[grey]{Markup.Escape(m)}[/]"); }
        EngineBench.SetThreads(threads);
        double? trainMs = null, tokS = null, cpuMs = null, prefill = null, decode = null;
        string decodeNote = "";
        var quantized = new Dictionary<string, (double, double)>();
        if (what is "train" or "all")
        {
            Say($"LightGlm: training {spec.Name} (B={spec.Batch}, T={spec.Seq}), {steps} steps, {threads} threads ...");
            (trainMs, tokS, cpuMs) = EngineBench.Train(spec, steps);
        }
        if (what is "decode" or "all")
        {
            // As the PyTorch side probes its thread settings, ours tries 1 and --threads threads and keeps the best of each.
            int[] settings = threads == 1 ? [1] : [1, threads];
            Say($"LightGlm: decoding {spec.Name} at batch 1 (prompt {spec.PromptLength}, {spec.GenLength} new tokens), threads {string.Join(" and ", settings)} ...");
            var d = EngineBench.Decode(spec, LightGlm.Model.Inference.WeightFormat.Fp32, settings);
            (prefill, decode) = (d.PrefillMs, d.DecodeMsPerToken);
            decodeNote = $"; decode at {d.DecodeThreads} thread(s), prefill at {d.PrefillThreads} (best of {string.Join(", ", settings)}); fp32 projections {d.ProjectionBytes / 1e6:F1} MB";
            foreach (var f in formats)
            {
                var name = LightGlm.Model.Inference.InferenceWeights.Name(f);
                Say($"LightGlm: decoding with {name} weights ...");
                var q = EngineBench.Decode(spec, f, settings);
                quantized[name] = (q.PrefillMs, q.DecodeMsPerToken);
                decodeNote += $"; {name}: {q.ProjectionBytes / 1e6:F1} MB, decode at {q.DecodeThreads} thread(s)";
            }
        }
        // Read before the sgemm measurement so its 12 MB of buffers do not count.
        var ours = new SideResult
        {
            TrainMsPerStep = trainMs, TrainTokensPerS = tokS, TrainCpuMsPerStep = cpuMs, PrefillMs = prefill, DecodeMsPerToken = decode,
            PeakRssMb = PeakMemory.ProcessPeakMb(), Quantized = quantized.Count > 0 ? quantized : null,
            Note = $"LightGlm: {threads} threads, kernels GEMM backend {Kernels.Gemm.Backend}{(Kernels.Gemm.Backend == Kernels.GemmBackend.OpenBlas ? $" [{Kernels.Gemm.OpenBlasCore}{(Kernels.Gemm.OpenBlasCoreTypeSet is not null ? ", OPENBLAS_CORETYPE set by LightGlm" : "")}]" : "")}{decodeNote}; peak RSS = VmHWM of this process (model, optimizer, activations, .NET runtime)",
        };
        Say("sgemm peak: 1024³ through our Gemm ...");
        double peak = SgemmPeak.MeasureGflops();
        SideResult? theirs = null;
        if (torch is { } t)
        {
            Say($"PyTorch: {PyTorchBench.ScriptRelative} (probing thread settings, then measuring at the best) ...");
            try { theirs = PyTorchBench.Run(spec, what, steps, t.Python, t.Script, t.Setting); }
            catch (InvalidOperationException e) { throw new CliException(e.Message); }
        }
        SideResult? ort = null;
        if (onnxRuntime)
        {
            int[] settings = threads == 1 ? [1] : [1, threads];
            Say($"ONNX Runtime: exporting {spec.Name} to ONNX and decoding it, intra-op threads {string.Join(" and ", settings)} ...");
            var o = OnnxRuntimeBench.Decode(spec, settings);
            ort = new SideResult
            {
                PrefillMs = o.PrefillMs, DecodeMsPerToken = o.DecodeMsPerToken,
                Note = $"ONNX Runtime {OnnxRuntimeVersion()}: our `export --format onnx` graph ({o.FileBytes / 1e6:F1} MB, fp32, all graph optimisations), " +
                       $"decode at {o.DecodeThreads} intra-op thread(s), prefill at {o.PrefillThreads}; greedy tokens equal to ours: {o.TokensAgreeing}/{o.Tokens}; " +
                       "its prefill computes the logits of every prompt row (the graph's output), ours only the last row's; same process, so peak memory is shared",
            };
        }
        return new BenchReport(spec, peak, ours, theirs) { OnnxRuntime = ort };
    }

    static void Print(BenchReport r, string what, int threads)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"[bold]{r.Spec.Name}[/] (B {r.Spec.Batch}, T {r.Spec.Seq})")
            .Caption($"V {r.Spec.Config.V}, C {r.Spec.Config.C}, L {r.Spec.Config.L}, H {r.Spec.Config.H}, KV {r.Spec.Config.KV}, F {r.Spec.Config.F}, untied, full rotary")
            .AddColumn("metric").AddColumn(new TableColumn("LightGlm").RightAligned());
        var peers = new List<(string Name, SideResult Side)>();
        if (r.PyTorch is not null) peers.Add(("PyTorch", r.PyTorch));
        if (r.OnnxRuntime is not null) peers.Add(("ONNX Runtime", r.OnnxRuntime));
        bool vs = peers.Count > 0;
        foreach (var (name, _) in peers)
            table.AddColumn(new TableColumn(name).RightAligned()).AddColumn(new TableColumn(peers.Count > 1 ? $"vs {name}" : "advantage").RightAligned());
        void Row(string metric, Func<SideResult, double?> get, string fmt, bool higherIsBetter)
        {
            var a = get(r.LightGlm);
            var cells = new List<string> { metric, Fmt(a, fmt) };
            foreach (var (_, side) in peers)
            {
                var b = get(side);
                cells.Add(Fmt(b, fmt));
                // > 1 = LightGlm better (faster, more throughput, less memory).
                cells.Add(a is { } x && b is { } y && x > 0 && y > 0 ? $"{(higherIsBetter ? x / y : y / x):0.00}×" : "");
            }
            table.AddRow(cells.Select(Markup.Escape).ToArray());
        }
        if (what is "train" or "all")
        {
            Row("train ms/step", s => s.TrainMsPerStep, "0.0", false);
            Row("train tokens/s", s => s.TrainTokensPerS, "0", true);
            Row("train CPU ms/step (all threads)", s => s.TrainCpuMsPerStep, "0.0", false);
            Row("train GFLOP/s", r.Gflops, "0.00", true);
            Row($"% of sgemm peak ({r.SgemmPeakGflops:0.0} GFLOP/s)", r.PercentOfPeak, "0.0", true);
        }
        if (what is "decode" or "all")
        {
            Row("prefill ms", s => s.PrefillMs, "0.00", false);
            Row("decode ms/token", s => s.DecodeMsPerToken, "0.000", false);
            foreach (var f in r.LightGlm.Quantized?.Keys ?? [])
            {
                // Our quantized engine against the reference's fp32 (PyTorch has no weight-only int8/int4 CPU path here).
                Row($"prefill ms, {f} weights", s => ReferenceEquals(s, r.LightGlm) ? s.Quantized![f].PrefillMs : s.PrefillMs, "0.00", false);
                Row($"decode ms/token, {f} weights", s => ReferenceEquals(s, r.LightGlm) ? s.Quantized![f].DecodeMsPerToken : s.DecodeMsPerToken, "0.000", false);
            }
        }
        Row("peak memory MB", s => s.PeakRssMb, "0", false);
        AnsiConsole.Write(table);
        if (vs) AnsiConsole.MarkupLine("[grey]advantage = how many times better LightGlm is (faster, more throughput, less memory); > 1 = LightGlm ahead.[/]");
        AnsiConsole.MarkupLine($"[grey]{Markup.Escape(r.LightGlm.Note)}[/]");
        foreach (var (_, side) in peers) AnsiConsole.MarkupLine($"[grey]{Markup.Escape(side.Note)}[/]");
        AnsiConsole.MarkupLine($"[grey]FLOPs/step = tokens·(6·N + 12·L·H·D·T), N = {BenchSpec.MatmulParams(r.Spec.Config):N0} matmul parameters; sgemm peak = best of 7 × 1024³ with {threads} threads.[/]");
    }

    static void PrintProfile(BenchSpec spec, int steps)
    {
        var (ops, total, cpu) = EngineBench.Profile(spec, steps);
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"[bold]{spec.Name}[/]: LightGlm training step by op ({total:0.0} ms/step, {cpu:0.0} CPU ms/step over {steps} profiled steps)")
            .AddColumn("op").AddColumn(new TableColumn("ms/step").RightAligned()).AddColumn(new TableColumn("%").RightAligned())
            .AddColumn(new TableColumn("calls/step").RightAligned());
        foreach (var (op, ms, calls) in ops)
            table.AddRow(Markup.Escape(op), ms.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture),
                (100 * ms / total).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture), calls.ToString());
        AnsiConsole.Write(table);
    }

    static string OnnxRuntimeVersion() =>
        Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetVersionString();

    static string Fmt(double? x, string fmt) => x is { } v && double.IsFinite(v) ? v.ToString(fmt, System.Globalization.CultureInfo.InvariantCulture) : "—";
}

public sealed class BenchTokenizerCommand : ICliCommand
{
    public string[] Path => ["bench", "tokenizer"];

    public Command Build()
    {
        var corpus = new Option<string?>("--corpus") { Description = $"Corpus folder: texts are both columns of train.tsv (default {RepoPaths.DefaultCorpusDir})" };
        var file = new Option<string?>("--file") { Description = "Benchmark these texts instead: each non-empty line of a UTF-8 file" };
        var maxTexts = new Option<int>("--texts") { Description = "Measure the first N texts (English and Chinese of the first N/2 pairs); 0 = all", DefaultValueFactory = _ => 20000 };
        var tokenizers = new Option<string[]>("--tokenizer") { Description = "tokenizer.json to measure against tokenizers.js (repeatable; none = skip; default: our BPE trained on the corpus, cached)", AllowMultipleArgumentsPerToken = false };
        var spmModels = new Option<string[]>("--spm-model") { Description = "SentencePiece .model to measure against python3-sentencepiece (repeatable; none = skip; default: a unigram and a BPE model trained by spm_train on the corpus, cached)" };
        var vocab = new Option<int>("--vocab-size") { Description = "Vocabulary of the default BPE tokenizer.json we train", DefaultValueFactory = _ => 16000 };
        var spmVocab = new Option<int>("--spm-vocab-size") { Description = "Vocabulary of the default spm_train models", DefaultValueFactory = _ => 8000 };
        var threads = new Option<int>("--threads") { Description = "Threads for batch encode/decode (ours and python3-sentencepiece's batch call)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var seconds = new Option<double>("--min-seconds") { Description = "Repeat each measurement for at least this long (at least 2 passes) and keep the best pass", DefaultValueFactory = _ => 1.0 };
        var noPeers = new Option<bool>("--no-peers") { Description = "Measure LightGlm only" };
        var noMl = new Option<bool>("--no-ml") { Description = "Skip the Microsoft.ML.Tokenizers peer (its BpeTokenizer / SentencePieceTokenizer on the same file, in process)" };
        var python = new Option<string>("--python") { Description = "Python with python3-sentencepiece", DefaultValueFactory = _ => "/usr/bin/python3" };
        var node = new Option<string>("--node") { Description = "Node.js for tokenizers.js", DefaultValueFactory = _ => "node" };
        var jsDir = new Option<string?>("--js-dir") { Description = $"Folder with node_modules/@huggingface/tokenizers (default {TokenizerBench.DefaultJsDir}; npm install --prefix DIR @huggingface/tokenizers@0.2.0)" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of the tables" };
        var tiktoken = new Option<string>("--tiktoken")
        {
            Description = "cl100k_base: also measure GPT-4's tiktoken vocabulary (ours on a converted tokenizer.json vs Microsoft.ML.Tokenizers' TiktokenTokenizer); none: skip",
            DefaultValueFactory = _ => "cl100k_base",
        };
        tiktoken.AcceptOnlyFromAmong("cl100k_base", "none");
        var cmd = new Command("tokenizer", "Tokenizer encode/decode throughput (MB/s, tokens/s) on corpus text, against python3-sentencepiece (.model), tokenizers.js (tokenizer.json) and Microsoft.ML.Tokenizers (both) in the same run, ids compared; and cl100k_base (GPT-4) converted to tokenizer.json against Microsoft.ML.Tokenizers' Tiktoken on the original ranks.")
            { corpus, file, maxTexts, tokenizers, spmModels, tiktoken, vocab, spmVocab, threads, seconds, noPeers, noMl, python, node, jsDir, json };
        cmd.SetAction(r =>
        {
            var problems = new List<string>();
            int n = r.GetValue(maxTexts), t = r.GetValue(threads), v = r.GetValue(vocab), sv = r.GetValue(spmVocab);
            double secs = r.GetValue(seconds);
            if (n < 0) problems.Add($"--texts must be >= 0, got {n}");
            if (t < 1) problems.Add($"--threads must be >= 1, got {t}");
            if (secs is <= 0 or > 600) problems.Add($"--min-seconds must be in (0, 600], got {secs}");
            if (v < 262) problems.Add($"--vocab-size must be >= 262, got {v}");
            if (sv < 300) problems.Add($"--spm-vocab-size must be >= 300 (byte fallback takes 256 pieces), got {sv}");
            string? textFile = r.GetValue(file);
            var paths = new CorpusPaths(r.GetValue(corpus) ?? RepoPaths.DefaultCorpusDir);
            if (textFile is not null && !File.Exists(textFile)) problems.Add($"--file {textFile} not found");
            if (textFile is null && !File.Exists(paths.Train)) problems.Add($"{paths.Train} not found: run `lightglm corpus build`, pass --corpus DIR or --file FILE");
            var given = (r.GetValue(tokenizers) ?? []).Concat(r.GetValue(spmModels) ?? []).Where(f => f != "none" && !File.Exists(f)).ToList();
            if (given.Count > 0) problems.Add($"not found: {string.Join(", ", given)}");
            if (problems.Count > 0) throw new CliException(string.Join("; ", problems));
            bool quiet = r.GetValue(json);
            void Say(string m) { if (!quiet) AnsiConsole.MarkupLine($"[grey]{Markup.Escape(m)}[/]"); }

            // All texts train the default models; the first --texts of them are measured.
            List<string> all = textFile is not null
                ? ParallelCorpus.ReadLines(textFile).Where(l => l.Length > 0).ToList()
                : ParallelCorpus.ReadTsv(paths.Train).SelectMany(p => new[] { p.English, p.Chinese }).ToList();
            var texts = n == 0 || n >= all.Count ? all : all.GetRange(0, n);
            var cases = new List<TokenizerBenchCase>();
            try
            {
                var hf = r.GetValue(tokenizers) ?? [];
                if (hf.Length == 0) { var (p, o) = TokenizerBenchModels.OurBpe(all, v, Say); cases.Add(new("LightGlm byte-level BPE tokenizer.json", p, TokenizerPeer.HuggingFaceJs, o)); }
                foreach (var p in hf.Where(p => p != "none")) cases.Add(new($"tokenizer.json {System.IO.Path.GetFileName(p)}", p, TokenizerPeer.HuggingFaceJs));
                var spm = r.GetValue(spmModels) ?? [];
                if (spm.Length == 0)
                    foreach (var type in new[] { "unigram", "bpe" })
                    {
                        var (p, o) = TokenizerBenchModels.SpmModel(all, type, sv, Say);
                        cases.Add(new($"SentencePiece {type} .model", p, TokenizerPeer.SentencePiecePython, o));
                    }
                foreach (var p in spm.Where(p => p != "none")) cases.Add(new($"SentencePiece {System.IO.Path.GetFileName(p)}", p, TokenizerPeer.SentencePiecePython));
                if (r.GetValue(tiktoken) != "none")
                {
                    var (p, o) = TokenizerBenchModels.Cl100kBase(Say);
                    cases.Add(new("tiktoken cl100k_base (GPT-4) as tokenizer.json", p, TokenizerPeer.Tiktoken, o));
                }
            }
            catch (Exception e) when (e is InvalidOperationException or FileNotFoundException) { throw new CliException(e.Message); }

            string loadBefore = LoadAverage.Text(3);
            var results = TokenizerBench.Run(cases, new TokenizerBenchOptions
            {
                Texts = texts, MinSeconds = secs, Threads = t, Python = r.GetValue(python)!, Node = r.GetValue(node)!,
                JsDir = r.GetValue(jsDir), Peers = !r.GetValue(noPeers), MlPeer = !r.GetValue(noMl),
            }, Say);
            string load = $"load average {loadBefore} before, {LoadAverage.Text(3)} after, on {Environment.ProcessorCount} cores";
            if (quiet) Console.WriteLine(TokenizerBenchReport.ToJson(results, load, textFile ?? paths.Train));
            else TokenizerBenchReport.Print(results, load, textFile ?? paths.Train);
            // Exit 1 when a reference peer disagrees with us (for tiktoken that is Microsoft.ML.Tokenizers); Ml's known differences
            // on the other formats (docs/DATA.md) do not fail the run.
            static bool Differ(IdAgreement? a) => a is { } g && g.Equal != g.Compared;
            return results.Any(x => Differ(x.Agreement) || (x.Case.Peer == TokenizerPeer.Tiktoken && Differ(x.Ml?.Agreement))) ? 1 : 0;
        });
        return cmd;
    }
}
