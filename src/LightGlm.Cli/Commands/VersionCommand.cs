// `lightglm version`: version, runtime and machine facts, as recorded in every run directory.
using System.CommandLine;
using System.Runtime.InteropServices;

namespace LightGlm.Cli.Commands;

public sealed class VersionCommand : ICliCommand
{
    public string[] Path => ["version"];

    public Command Build()
    {
        var cmd = new Command("version", "Print LightGlm's version and the machine it runs on.");
        cmd.SetAction(_ =>
        {
            Console.WriteLine($"lightglm {typeof(VersionCommand).Assembly.GetName().Version}");
            Console.WriteLine($".NET {Environment.Version}, {RuntimeInformation.OSDescription}, {Environment.ProcessorCount} cores");
            return 0;
        });
        return cmd;
    }
}
