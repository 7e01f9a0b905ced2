using Google.Protobuf;

namespace VideoGen.Cli.Rendering;

/// <summary>JSON output for scripts: one protobuf message per line, default values included.</summary>
public static class JsonLines
{
    private static readonly JsonFormatter Formatter =
        new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true));

    public static string Format(IMessage message) => Formatter.Format(message);

    public static void Write(TextWriter output, IMessage message) => output.WriteLine(Format(message));
}
