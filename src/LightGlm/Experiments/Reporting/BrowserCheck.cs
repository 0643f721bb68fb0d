// Opens a report in headless Chromium (Debian `chromium`): takes a screenshot, collects console
// errors, and reads how many images decoded (the page marks <body data-images="ok/total"> on load).
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace LightGlm.Experiments.Reporting;

public sealed record BrowserCheckResult(int ImagesLoaded, int Images, IReadOnlyList<string> ConsoleMessages, string? Screenshot)
{
    public bool Ok => Images == ImagesLoaded && ConsoleMessages.Count == 0;
}

public static partial class BrowserCheck
{
    public static string? FindChromium() =>
        new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome" }.FirstOrDefault(File.Exists);

    public static BrowserCheckResult Run(string htmlPath, string? screenshotPath = null, TimeSpan? timeout = null)
    {
        string chromium = FindChromium()
            ?? throw new FileNotFoundException("headless Chromium is not installed: `apt-get install chromium` (scripts/setup.sh does it)");
        string url = new Uri(Path.GetFullPath(htmlPath)).AbsoluteUri;
        string profile = Directory.CreateTempSubdirectory("lightglm-chromium-").FullName;
        try
        {
            var (dom, log) = Chromium(chromium, profile, ["--enable-logging=stderr", "--v=0", "--dump-dom", url], timeout);
            var m = ImagesAttr().Match(dom);
            if (!m.Success)
                throw new InvalidDataException($"{htmlPath}: the page did not report its images (no data-images on <body>); the load handler did not run");
            var console = log.Split('\n').Where(l => l.Contains(":CONSOLE", StringComparison.Ordinal)).Select(l => l.Trim()).ToArray();
            if (screenshotPath is not null)
            {
                string shot = Path.GetFullPath(screenshotPath);
                Chromium(chromium, profile, ["--hide-scrollbars", "--window-size=1100,2400", $"--screenshot={shot}", url], timeout);
                if (!File.Exists(shot)) throw new IOException($"chromium did not write the screenshot {shot}");
            }
            return new BrowserCheckResult(int.Parse(m.Groups[1].Value), int.Parse(m.Groups[2].Value), console, screenshotPath);
        }
        finally { try { Directory.Delete(profile, true); } catch (IOException) { } }
    }

    static (string Stdout, string Stderr) Chromium(string exe, string profile, string[] args, TimeSpan? timeout)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true };
        // The machine has no network: these flags stop Chromium from trying to reach Google's services.
        foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                                  $"--user-data-dir={profile}" }.Concat(args))
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout ?? TimeSpan.FromSeconds(120)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"chromium did not finish within {(timeout ?? TimeSpan.FromSeconds(120)).TotalSeconds}s");
        }
        return (stdout.Result, stderr.Result);
    }

    [GeneratedRegex("data-images=\"(\\d+)/(\\d+)\"")]
    private static partial Regex ImagesAttr();
}
