using System.Text;

namespace VideoGen.Cli.Commands;

/// <summary>Builds the help texts from <see cref="CommandCatalog"/>.</summary>
public static class UsageText
{
    public static string General()
    {
        var text = new StringBuilder();
        text.AppendLine("usage: videogen [--coordinator ADDRESS[,ADDRESS…]] [--api-key KEY] [--json] COMMAND [ARGS] [OPTIONS]");
        text.AppendLine();
        text.AppendLine("commands:");
        foreach (var command in CommandCatalog.All)
        {
            text.AppendLine($"  {Synopsis(command),-28} {command.Summary}");
        }
        text.AppendLine();
        AppendOptions(text, "global options:", CommandCatalog.GlobalOptions);
        text.AppendLine();
        text.AppendLine("exit codes: 0 ok, 1 job failed or cancelled, 2 usage error, 3 gRPC error, 4 coordinator unreachable");
        text.AppendLine("run 'videogen COMMAND --help' for a command's options");
        return text.ToString();
    }

    public static string ForCommand(CommandSpec command)
    {
        var text = new StringBuilder();
        text.AppendLine($"usage: videogen {Synopsis(command)}{(command.Options.Count > 0 ? " [OPTIONS]" : "")}");
        text.AppendLine();
        text.AppendLine(command.Summary);
        if (command.Options.Count > 0)
        {
            text.AppendLine();
            AppendOptions(text, "options:", command.Options);
        }
        text.AppendLine();
        AppendOptions(text, "global options:", CommandCatalog.GlobalOptions);
        return text.ToString();
    }

    private static string Synopsis(CommandSpec command) =>
        command.Positionals.Count == 0 ? command.Name : $"{command.Name} {string.Join(' ', command.Positionals)}";

    private static void AppendOptions(StringBuilder text, string title, IEnumerable<OptionSpec> options)
    {
        text.AppendLine(title);
        foreach (var option in options)
        {
            var left = option.TakesValue ? $"--{option.Name} {option.ValueName}" : $"--{option.Name}";
            text.AppendLine($"  {left,-28} {option.Help}");
        }
    }
}
