using System.Globalization;

namespace VideoGen.Cli.Commands;

/// <summary>A usage error: unknown command or option, missing or malformed argument (exit code 2).</summary>
public sealed class UsageException(string message, CommandSpec? command = null) : Exception(message)
{
    /// <summary>The command whose usage to print; null for the general usage.</summary>
    public CommandSpec? Command { get; } = command;
}

/// <summary>A command line after parsing: the command, its positionals and options.</summary>
public sealed class ParsedCommand(
    CommandSpec? command,
    IReadOnlyList<string> positionals,
    IReadOnlyDictionary<string, string?> options)
{
    /// <summary>Null when only global options were given (e.g. <c>videogen --help</c>).</summary>
    public CommandSpec? Command { get; } = command;
    public IReadOnlyList<string> Positionals { get; } = positionals;
    public IReadOnlyDictionary<string, string?> Options { get; } = options;

    public bool HelpRequested => Has(CommandCatalog.Help.Name);
    public bool Json => Has(CommandCatalog.Json.Name);

    public bool Has(string option) => Options.ContainsKey(option);

    public string? Get(string option) => Options.TryGetValue(option, out var value) ? value : null;

    /// <summary>The positional argument at <paramref name="index"/>; it is required.</summary>
    public string Positional(int index) => Positionals[index];

    public double? GetDouble(string option)
    {
        var text = Get(option);
        if (text is null)
        {
            return null;
        }
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            || double.IsNaN(value) || double.IsInfinity(value))
        {
            throw new UsageException($"--{option} expects a number, got '{text}'", Command);
        }
        return value;
    }

    public int? GetInt(string option)
    {
        var text = Get(option);
        if (text is null)
        {
            return null;
        }
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
        {
            throw new UsageException($"--{option} expects an integer, got '{text}'", Command);
        }
        return value;
    }

    /// <summary>An integer option that must be at least <paramref name="min"/>.</summary>
    public int GetInt(string option, int defaultValue, int min)
    {
        var value = GetInt(option) ?? defaultValue;
        if (value < min)
        {
            throw new UsageException($"--{option} must be at least {min}, got {value}", Command);
        }
        return value;
    }
}

/// <summary>
/// A small hand-rolled parser: <c>videogen [global options] COMMAND [ARGS] [options]</c>.
/// Options take <c>--name value</c> or <c>--name=value</c>; global options may appear
/// anywhere; <c>--</c> ends options. Pure: no I/O, so tests call it directly.
/// </summary>
public static class ArgParser
{
    public static ParsedCommand Parse(IReadOnlyList<string> args)
    {
        CommandSpec? command = null;
        var positionals = new List<string>();
        var options = new Dictionary<string, string?>(StringComparer.Ordinal);
        var optionsEnded = false;

        for (var i = 0; i < args.Count; i++)
        {
            var token = args[i];
            if (!optionsEnded && token == "--")
            {
                optionsEnded = true;
                continue;
            }
            if (!optionsEnded && (token.StartsWith("--", StringComparison.Ordinal) || token == "-h"))
            {
                var (name, inlineValue) = token == "-h" ? ("help", null) : SplitOption(token[2..]);
                var spec = CommandCatalog.GlobalOptions.FirstOrDefault(o => o.Name == name)
                    ?? command?.FindOption(name)
                    ?? throw new UsageException(
                        command is null ? $"unknown option '--{name}'" : $"unknown option '--{name}' for '{command.Name}'",
                        command);
                string? value = null;
                if (spec.TakesValue)
                {
                    if (inlineValue is not null)
                    {
                        value = inlineValue;
                    }
                    else if (i + 1 < args.Count)
                    {
                        value = args[++i];
                    }
                    else
                    {
                        throw new UsageException($"option '--{name}' needs a value ({spec.ValueName})", command);
                    }
                }
                else if (inlineValue is not null)
                {
                    throw new UsageException($"option '--{name}' takes no value", command);
                }
                options[name] = value;
                continue;
            }
            if (command is null)
            {
                command = ResolveCommand(args, ref i, options.ContainsKey(CommandCatalog.Help.Name));
                continue;
            }
            positionals.Add(token);
        }

        var parsed = new ParsedCommand(command, positionals, options);
        if (parsed.HelpRequested)
        {
            return parsed;
        }
        if (command is null)
        {
            throw new UsageException("missing command");
        }
        if (positionals.Count < command.Positionals.Count)
        {
            throw new UsageException($"'{command.Name}' needs {command.Positionals[positionals.Count]}", command);
        }
        if (positionals.Count > command.Positionals.Count)
        {
            throw new UsageException(
                $"unexpected argument '{positionals[command.Positionals.Count]}' for '{command.Name}'"
                + (command.Positionals.Count > 0 ? " (quote the prompt?)" : ""),
                command);
        }
        if (command.Positionals.Count > 0 && string.IsNullOrWhiteSpace(positionals[0]))
        {
            throw new UsageException($"{command.Positionals[0]} must not be empty", command);
        }
        return parsed;
    }

    private static (string Name, string? Value) SplitOption(string body)
    {
        var equals = body.IndexOf('=');
        return equals < 0 ? (body, null) : (body[..equals], body[(equals + 1)..]);
    }

    private static CommandSpec ResolveCommand(IReadOnlyList<string> args, ref int i, bool helpRequested)
    {
        var word = args[i];
        var single = CommandCatalog.All.FirstOrDefault(c => c.Name == word);
        if (single is not null)
        {
            return single;
        }
        // Two-word commands ("farm up"): the group word must be followed by its verb.
        var group = CommandCatalog.All.Where(c => c.Name.StartsWith(word + " ", StringComparison.Ordinal)).ToList();
        if (group.Count == 0)
        {
            throw new UsageException($"unknown command '{word}'");
        }
        if (i + 1 < args.Count)
        {
            var twoWords = word + " " + args[i + 1];
            var match = group.FirstOrDefault(c => c.Name == twoWords);
            if (match is not null)
            {
                i++;
                return match;
            }
            if (!args[i + 1].StartsWith('-'))
            {
                throw new UsageException($"unknown command '{twoWords}'");
            }
        }
        if (helpRequested || (i + 1 < args.Count && args[i + 1] is "--help" or "-h"))
        {
            return group[0];
        }
        throw new UsageException($"'{word}' needs a subcommand: {string.Join(", ", group.Select(c => c.Name))}");
    }
}
