// Range checks of numeric options, collected so that every problem of a command line is reported at once.
namespace LightGlm.Cli.Commands;

internal sealed class OptionChecks
{
    readonly List<string> _problems = [];

    public OptionChecks AtLeast(string name, long value, long min)
    {
        if (value < min) _problems.Add($"{name} {value} must be >= {min}");
        return this;
    }

    /// <summary>A finite number in [min, max] (NaN and ±Infinity never pass).</summary>
    public OptionChecks InRange(string name, double value, double min, double max = double.MaxValue)
    {
        if (!double.IsFinite(value) || value < min || value > max)
            _problems.Add(max == double.MaxValue ? $"{name} {value} must be a finite number >= {min}" : $"{name} {value} must be a finite number in [{min}, {max}]");
        return this;
    }

    /// <summary>A finite number > 0.</summary>
    public OptionChecks Positive(string name, double value)
    {
        if (!double.IsFinite(value) || value <= 0) _problems.Add($"{name} {value} must be a finite number > 0");
        return this;
    }

    /// <summary>Throws one CliException naming every problem found.</summary>
    public void ThrowIfAny()
    {
        if (_problems.Count > 0) throw new CliException(string.Join("; ", _problems));
    }
}
