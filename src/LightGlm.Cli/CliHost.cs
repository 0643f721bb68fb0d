// Builds the command tree from ICliCommand implementations and runs it with uniform error handling.
using System.CommandLine;
using System.Reflection;

namespace LightGlm.Cli;

/// <summary>One command of the CLI. <see cref="Path"/> is where it hangs, e.g. ["experiment", "parallel"].</summary>
public interface ICliCommand
{
    /// <summary>The words that reach this command; the last one is its name.</summary>
    string[] Path { get; }

    /// <summary>Builds the command (name = last word of <see cref="Path"/>), with its options and action.</summary>
    Command Build();
}

/// <summary>An error the user can fix: printed without a stack trace, exit code 2.</summary>
public sealed class CliException(string message) : Exception(message);

public static class CliHost
{
    /// <summary>Descriptions of group commands that only hold subcommands.</summary>
    static readonly Dictionary<string, string> GroupDescriptions = new()
    {
        ["corpus"] = "Build, inspect and split the parallel corpus of computer language.",
        ["tokenizer"] = "Train and use tokenizers.",
        ["experiment"] = "Reproduce the paper's experiments on our data.",
        ["bench"] = "Benchmarks against the PyTorch reference, side by side.",
    };

    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("LightGlm: small, fast English<->Chinese translation models for computer language.");
        var commands = typeof(CliHost).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && !t.IsInterface && typeof(ICliCommand).IsAssignableFrom(t))
            .Select(t => (ICliCommand)Activator.CreateInstance(t)!)
            .OrderBy(c => c.Path.Length).ThenBy(c => string.Join(' ', c.Path), StringComparer.Ordinal);
        foreach (var c in commands)
        {
            Command parent = root;
            foreach (var word in c.Path[..^1])
            {
                var next = parent.Subcommands.FirstOrDefault(s => s.Name == word);
                if (next is null)
                {
                    next = new Command(word, GroupDescriptions.GetValueOrDefault(word, word));
                    parent.Subcommands.Add(next);
                }
                parent = next;
            }
            var built = c.Build();
            if (built.Name != c.Path[^1])
                throw new InvalidOperationException($"{c.GetType().Name}: command name '{built.Name}' != path end '{c.Path[^1]}'");
            var existing = parent.Subcommands.FirstOrDefault(s => s.Name == built.Name);
            if (existing is not null) // a group created earlier by a deeper command: adopt its children
            {
                foreach (var sub in existing.Subcommands) built.Subcommands.Add(sub);
                parent.Subcommands.Remove(existing);
            }
            parent.Subcommands.Add(built);
        }
        RejectEmptyValues(root);
        return root;
    }

    /// <summary>An empty or blank value of a text option (`--out ''`, a path, a format name) is never meant: the parser
    /// rejects it, naming the option, before any command runs (paths would otherwise fail deep inside with no name).</summary>
    static void RejectEmptyValues(Command cmd)
    {
        foreach (var o in cmd.Options)
            if (o.ValueType == typeof(string) || o.ValueType == typeof(string[]))
                o.Validators.Add(r =>
                {
                    if (r.Tokens.Any(t => string.IsNullOrWhiteSpace(t.Value)))
                        r.AddError($"{o.Name} was given an empty value; give a value (a path, a name) or leave the option out");
                });
        foreach (var sub in cmd.Subcommands) RejectEmptyValues(sub);
    }

    /// <summary>Exit code of an error the user can fix (bad option value, missing or malformed file, disk full).</summary>
    public const int UserError = 2;

    /// <summary>Exit code of an unexpected exception: a bug in LightGlm (EX_SOFTWARE), reported with its stack trace.</summary>
    public const int InternalError = 70;

    /// <summary>Runs the command line; <paramref name="output"/>/<paramref name="error"/> (default: the console) receive
    /// help, parse errors and the one-line error of a failed command. Never throws: a user error exits 2 with
    /// "lightglm: error: …", anything else exits 70 with "lightglm: internal error" and the stack trace.</summary>
    public static int Run(string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        var err = error ?? Console.Error;
        try
        {
            // Exceptions must reach the handler below (System.CommandLine would print them itself and exit 1).
            var config = new InvocationConfiguration { EnableDefaultExceptionHandler = false };
            if (output is not null) config.Output = output;
            if (error is not null) config.Error = error;
            return BuildRoot().Parse(args).Invoke(config);
        }
        catch (Exception e) when (IsUserError(Unwrap(e)))
        {
            err.WriteLine($"lightglm: error: {Unwrap(e).Message}");
            return UserError;
        }
        catch (Exception e)
        {
            var inner = Unwrap(e);
            err.WriteLine($"lightglm: internal error (a bug in LightGlm; please report it with the command line): {inner.GetType().Name}: {inner.Message}");
            err.WriteLine(inner.StackTrace);
            return InternalError;
        }
    }

    /// <summary>Failures the user can fix and whose message says what went wrong: our own CliException, missing or
    /// malformed files, I/O (disk full, permissions), a missing MPI library, a run that kept diverging.</summary>
    public static bool IsUserError(Exception e) =>
        e is CliException or FileNotFoundException or DirectoryNotFoundException or InvalidDataException or FormatException
            or IOException or UnauthorizedAccessException or LightGlm.Kernels.Mpi.MpiUnavailableException or LightGlm.Training.NonFiniteTrainingException;

    static Exception Unwrap(Exception e) => e is TargetInvocationException { InnerException: { } inner } ? inner : e;
}
