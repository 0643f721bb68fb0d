// `lightglm serve-loadtest --url http://127.0.0.1:PORT [--requests N] [--concurrency C]`: a bounded load test of a
// running server (loopback only, at most 10000 requests / 10 minutes) reporting requests/s and latency p50/p95.
using System.CommandLine;
using System.Diagnostics;
using System.Net.Http.Json;

namespace LightGlm.Cli.Commands;

public sealed class ServeLoadTestCommand : ICliCommand
{
    public string[] Path => ["serve-loadtest"];

    public Command Build()
    {
        var urlOpt = new Option<string>("--url") { Description = "Server base URL (loopback only).", DefaultValueFactory = _ => "http://127.0.0.1:8080" };
        var nOpt = new Option<int>("--requests") { DefaultValueFactory = _ => 200 };
        var cOpt = new Option<int>("--concurrency") { DefaultValueFactory = _ => 8 };
        var tokenOpt = new Option<string?>("--token");
        var beamOpt = new Option<int>("--beam") { Description = "Beam width each request asks for.", DefaultValueFactory = _ => 1 };
        var cmd = new Command("serve-loadtest", "Bounded load test of a running `lightglm serve` (loopback): requests/s, p50/p95 latency, status counts.") { urlOpt, nOpt, cOpt, tokenOpt, beamOpt };
        cmd.SetAction(r =>
        {
            var url = new Uri(r.GetValue(urlOpt)!);
            if (!url.IsLoopback) throw new CliException($"--url {url} is not loopback: the load test only targets this machine");
            int n = r.GetValue(nOpt), c = r.GetValue(cOpt);
            if (n < 1 || n > 10_000) throw new CliException($"--requests {n} must be in [1, 10000]");
            if (c < 1 || c > 256) throw new CliException($"--concurrency {c} must be in [1, 256]");
            int beam = r.GetValue(beamOpt);
            if (beam < 1 || beam > 16) throw new CliException($"--beam {beam} must be in [1, 16]");
            using var http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(60) };
            if (r.GetValue(tokenOpt) is { } t) http.DefaultRequestHeaders.Authorization = new("Bearer", t);
            string[] texts = ["Cannot open file '%s': permission denied", "Save changes before closing?", "No such file or directory", "Connection timed out", "Invalid option -- '%c'", "打开文件失败", "磁盘空间不足"];
            var lat = new List<double>(); var status = new Dictionary<int, int>();
            int next = 0;
            var deadline = Stopwatch.StartNew();
            async Task Worker()
            {
                while (deadline.Elapsed < TimeSpan.FromMinutes(10))
                {
                    int i = Interlocked.Increment(ref next) - 1;
                    if (i >= n) return;
                    var sw = Stopwatch.StartNew();
                    int code;
                    try { code = (int)(await http.PostAsJsonAsync("/v1/translate", new { text = texts[i % texts.Length], beam })).StatusCode; }
                    catch (HttpRequestException) { code = 0; }
                    catch (TaskCanceledException) { code = -1; }
                    lock (lat) { lat.Add(sw.Elapsed.TotalMilliseconds); status[code] = status.GetValueOrDefault(code) + 1; }
                }
            }
            Task.WaitAll(Enumerable.Range(0, c).Select(_ => Task.Run(Worker)).ToArray());
            double secs = deadline.Elapsed.TotalSeconds;
            lat.Sort();
            double P(double q) => lat.Count == 0 ? double.NaN : lat[Math.Min(lat.Count - 1, (int)Math.Ceiling(q * lat.Count) - 1)];
            Console.WriteLine($"requests {lat.Count} in {secs:F1} s = {lat.Count / secs:F1} req/s, concurrency {c}, beam {beam}; latency p50 {P(0.5):F1} ms p95 {P(0.95):F1} ms max {lat.LastOrDefault():F1} ms");
            Console.WriteLine("status " + string.Join(", ", status.OrderBy(k => k.Key).Select(k => $"{(k.Key == 0 ? "conn-error" : k.Key == -1 ? "timeout" : k.Key.ToString())}: {k.Value}")));
            return status.Keys.All(k => k is 200 or 429) ? 0 : 1;
        });
        return cmd;
    }
}
