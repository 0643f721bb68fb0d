// `lightglm bench train|decode|all`: our engine and (with --vs-pytorch) the PyTorch reference on the same model, in the
// same run, side by side (Spectre.Console table) or as one JSON object (--json).
using System.CommandLine;
using LightGlm.Evaluation.Bench;
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
        var config = new Option<string>("--config") { Description = "Bench model: tiny or small (issue 2)", DefaultValueFactory = _ => "tiny" };
        var threads = new Option<int>("--threads") { Description = "Threads for our engine (GEMM and kernels); PyTorch always runs at its best setting", DefaultValueFactory = _ => Environment.ProcessorCount };
        var vsPytorch = new Option<bool>("--vs-pytorch") { Description = "Also run tests/reference/bench_pytorch.py on the same model in this run" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of the table" };
        var steps = new Option<int>("--steps") { Description = "Timed training steps (after 2 warm-up steps)", DefaultValueFactory = _ => 10 };
        var python = new Option<string>("--python") { Description = "Python with python3-torch", DefaultValueFactory = _ => "/usr/bin/python3" };
        var script = new Option<string?>("--pytorch-script") { Description = $"Path of {PyTorchBench.ScriptRelative} (default: found above the working directory)" };
        var setting = new Option<string>("--pytorch-setting") { Description = "PyTorch thread setting: best (probe all) or t1, t1-blas2, t2, t2-passive", DefaultValueFactory = _ => "best" };
        var profile = new Option<bool>("--profile") { Description = "Also print our training step's wall time per op (a stopwatch around each op)" };
        var cmd = new Command(what, description) { config, threads, vsPytorch, json, steps, python, script, setting };
        if (what is "train" or "all") cmd.Options.Add(profile);
        cmd.SetAction(r =>
        {
            var problems = new List<string>();
            var name = r.GetValue(config)!;
            if (!BenchSpec.Names.Contains(name)) problems.Add($"--config must be one of {string.Join(", ", BenchSpec.Names)}, got '{name}'");
            int n = r.GetValue(threads), s = r.GetValue(steps);
            if (n < 1) problems.Add($"--threads must be >= 1, got {n}");
            if (s < 1) problems.Add($"--steps must be >= 1, got {s}");
            if (problems.Count > 0) throw new CliException(string.Join("; ", problems));
            var report = Run(BenchSpec.Get(name), what, n, s, r.GetValue(json),
                r.GetValue(vsPytorch) ? (r.GetValue(python)!, r.GetValue(script), r.GetValue(setting)!) : null);
            if (r.GetValue(json)) Console.WriteLine(report.ToJson());
            else Print(report, what, n);
            if (what is "train" or "all" && r.GetValue(profile)) PrintProfile(BenchSpec.Get(name), s);
            return 0;
        });
        return cmd;
    }

    static BenchReport Run(BenchSpec spec, string what, int threads, int steps, bool quiet, (string Python, string? Script, string Setting)? torch)
    {
        void Say(string m) { if (!quiet) AnsiConsole.MarkupLine($"[grey]{Markup.Escape(m)}[/]"); }
        EngineBench.SetThreads(threads);
        double? trainMs = null, tokS = null, prefill = null, decode = null;
        if (what is "train" or "all")
        {
            Say($"LightGlm: training {spec.Name} (B={spec.Batch}, T={spec.Seq}), {steps} steps, {threads} threads ...");
            (trainMs, tokS) = EngineBench.Train(spec, steps);
        }
        if (what is "decode" or "all")
        {
            Say($"LightGlm: decoding {spec.Name} at batch 1 (prompt {spec.PromptLength}, {spec.GenLength} new tokens) ...");
            (prefill, decode) = EngineBench.Decode(spec);
        }
        // Read before the sgemm measurement so its 12 MB of buffers do not count.
        var ours = new SideResult
        {
            TrainMsPerStep = trainMs, TrainTokensPerS = tokS, PrefillMs = prefill, DecodeMsPerToken = decode,
            PeakRssMb = PeakMemory.ProcessPeakMb(),
            Note = $"LightGlm: {threads} threads, kernels GEMM backend {Kernels.Gemm.Backend}{(Kernels.Gemm.Backend == Kernels.GemmBackend.OpenBlas ? $" [{Kernels.Gemm.OpenBlasCore}{(Kernels.Gemm.OpenBlasCoreTypeSet is not null ? ", OPENBLAS_CORETYPE set by LightGlm" : "")}]" : "")}; peak RSS = VmHWM of this process (model, optimizer, activations, .NET runtime)",
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
        return new BenchReport(spec, peak, ours, theirs);
    }

    static void Print(BenchReport r, string what, int threads)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"[bold]{r.Spec.Name}[/] (B {r.Spec.Batch}, T {r.Spec.Seq})")
            .Caption($"V {r.Spec.Config.V}, C {r.Spec.Config.C}, L {r.Spec.Config.L}, H {r.Spec.Config.H}, KV {r.Spec.Config.KV}, F {r.Spec.Config.F}, untied, full rotary")
            .AddColumn("metric").AddColumn(new TableColumn("LightGlm").RightAligned());
        bool vs = r.PyTorch is not null;
        if (vs) table.AddColumn(new TableColumn("PyTorch").RightAligned()).AddColumn(new TableColumn("advantage").RightAligned());
        void Row(string metric, Func<SideResult, double?> get, string fmt, bool higherIsBetter)
        {
            var a = get(r.LightGlm);
            var cells = new List<string> { metric, Fmt(a, fmt) };
            if (vs)
            {
                var b = get(r.PyTorch!);
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
            Row("train GFLOP/s", r.Gflops, "0.00", true);
            Row($"% of sgemm peak ({r.SgemmPeakGflops:0.0} GFLOP/s)", r.PercentOfPeak, "0.0", true);
        }
        if (what is "decode" or "all")
        {
            Row("prefill ms", s => s.PrefillMs, "0.00", false);
            Row("decode ms/token", s => s.DecodeMsPerToken, "0.000", false);
        }
        Row("peak memory MB", s => s.PeakRssMb, "0", false);
        AnsiConsole.Write(table);
        if (vs) AnsiConsole.MarkupLine("[grey]advantage = how many times better LightGlm is (faster, more throughput, less memory); > 1 = LightGlm ahead.[/]");
        AnsiConsole.MarkupLine($"[grey]{Markup.Escape(r.LightGlm.Note)}[/]");
        if (vs) AnsiConsole.MarkupLine($"[grey]{Markup.Escape(r.PyTorch!.Note)}[/]");
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

    static string Fmt(double? x, string fmt) => x is { } v && double.IsFinite(v) ? v.ToString(fmt, System.Globalization.CultureInfo.InvariantCulture) : "—";
}
