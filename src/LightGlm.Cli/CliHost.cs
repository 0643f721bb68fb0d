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
        return root;
    }

    public static int Run(string[] args)
    {
        try
        {
            // Exceptions must reach the handler below (System.CommandLine would print them itself and exit 1).
            return BuildRoot().Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (Unwrap(e) is CliException or FileNotFoundException or DirectoryNotFoundException or InvalidDataException or FormatException)
        {
            Console.Error.WriteLine($"lightglm: error: {Unwrap(e).Message}");
            return 2;
        }
    }

    static Exception Unwrap(Exception e) => e is TargetInvocationException { InnerException: { } inner } ? inner : e;
}
