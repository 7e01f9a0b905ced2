using VideoGen.Contracts.V1;

namespace VideoGen.Cli.Rendering;

/// <summary>Where a watch shows what happens: live bars, plain lines or JSON lines.</summary>
public interface IWatchOutput
{
    /// <summary>A new event, already applied to <paramref name="model"/>.</summary>
    void OnEvent(JobEvent jobEvent, ProgressModel model);

    /// <summary>Something the user should know that is not an event (e.g. "reconnecting").</summary>
    void Notice(string message);

    /// <summary>The watch ended; <paramref name="model"/> holds the final state.</summary>
    void Complete(ProgressModel model);
}

/// <summary>One line per event (for pipes), then the final line.</summary>
public sealed class PlainWatchOutput(TextWriter output, TextWriter errors) : IWatchOutput
{
    public void OnEvent(JobEvent jobEvent, ProgressModel model) => output.WriteLine(EventLines.Format(jobEvent));

    public void Notice(string message) => errors.WriteLine(message);

    public void Complete(ProgressModel model) => output.WriteLine(EventLines.FinalLine(model));
}

/// <summary>One JSON object per event; the events themselves carry the outcome.</summary>
public sealed class JsonWatchOutput(TextWriter output, TextWriter errors) : IWatchOutput
{
    public void OnEvent(JobEvent jobEvent, ProgressModel model) => JsonLines.Write(output, jobEvent);

    public void Notice(string message) => errors.WriteLine(message);

    public void Complete(ProgressModel model)
    {
    }
}

/// <summary>
/// Live progress on a terminal: redraws <see cref="LiveProgressView"/> in place with ANSI
/// escapes, at most every <see cref="MinRedrawInterval"/> (the final state is always drawn).
/// </summary>
public sealed class LiveWatchOutput(TextWriter output, TimeProvider time) : IWatchOutput
{
    private static readonly TimeSpan MinRedrawInterval = TimeSpan.FromMilliseconds(80);
    private readonly long _started = time.GetTimestamp();
    private long _lastDraw;
    private int _drawnLines;

    public void OnEvent(JobEvent jobEvent, ProgressModel model)
    {
        var now = time.GetTimestamp();
        if (_drawnLines > 0 && !model.IsTerminal && time.GetElapsedTime(_lastDraw, now) < MinRedrawInterval)
        {
            return;
        }
        _lastDraw = now;
        Draw(model);
    }

    public void Notice(string message)
    {
        // The notice stays above the view; the next draw starts below it.
        Erase();
        output.WriteLine(message);
        output.Flush();
    }

    public void Complete(ProgressModel model)
    {
        Draw(model);
        output.Write("\u001b[?25h");
        output.WriteLine(EventLines.FinalLine(model));
        output.Flush();
    }

    private void Draw(ProgressModel model)
    {
        // A terminal that reports no size (e.g. under `script`) gets a generous default.
        var width = 120;
        try
        {
            if (Console.WindowWidth >= 40)
            {
                width = Console.WindowWidth - 1;
            }
        }
        catch (IOException)
        {
        }
        var lines = LiveProgressView.Lines(model, time.GetElapsedTime(_started), width);
        Erase();
        output.Write("\u001b[?25l");
        foreach (var line in lines)
        {
            output.Write("\u001b[2K");
            output.WriteLine(line);
        }
        output.Flush();
        _drawnLines = lines.Count;
    }

    private void Erase()
    {
        if (_drawnLines > 0)
        {
            // Up to the first line of the view, then clear to the end of the screen.
            output.Write($"\u001b[{_drawnLines}F\u001b[J");
            _drawnLines = 0;
        }
    }
}
