// Entry point of the `lightglm` command: discovers every ICliCommand in this assembly and
// mounts it at its path (e.g. ["corpus", "build"]), so each area adds commands in its own file.
using System.CommandLine;
using LightGlm.Cli;

return CliHost.Run(args);
