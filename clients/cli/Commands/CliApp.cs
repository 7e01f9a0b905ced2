using System.Runtime.InteropServices;
using Grpc.Core;
using VideoGen.Cli.Client;
using VideoGen.Cli.Farm;

namespace VideoGen.Cli.Commands;

/// <summary>The entry point: parse, dispatch, and turn every failure into a message and an exit code.</summary>
public static class CliApp
{
    /// <summary>Exit code after Ctrl-C / SIGTERM interrupted a command (128 + SIGINT).</summary>
    public const int Interrupted = 130;

    public static async Task<int> MainAsync(string[] args)
    {
        // `farm up` pumps each child's stdout and stderr into its log; on Unix a pipe read blocks a thread-pool thread
        // for the child's life. Enough threads from the start that a signal's handler and the supervisor's
        // continuations never wait for the pool to grow (under heavy load a Ctrl-C was once acted on 80 s late, most
        // likely waiting for a pool thread).
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 32), io);
        using var stop = new CancellationTokenSource();
        // The first Ctrl-C or SIGTERM stops the command cleanly (the farm stops its
        // children); a second one terminates at once.
        void OnSignal(PosixSignalContext signal)
        {
            if (!stop.IsCancellationRequested)
            {
                signal.Cancel = true;
                stop.Cancel();
            }
        }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        return await RunAsync(args, Console.Out, Console.Error, !Console.IsOutputRedirected, TimeProvider.System, stop.Token);
    }

    public static async Task<int> RunAsync(
        IReadOnlyList<string> args,
        TextWriter output,
        TextWriter errors,
        bool interactive,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        ParsedCommand parsed;
        try
        {
            parsed = ArgParser.Parse(args);
        }
        catch (UsageException ex)
        {
            return Usage(errors, ex);
        }
        if (parsed.HelpRequested)
        {
            output.Write(parsed.Command is null ? UsageText.General() : UsageText.ForCommand(parsed.Command));
            return ExitCodes.Ok;
        }

        using var context = new CommandContext(parsed, output, errors, interactive, time);
        try
        {
            return await DispatchAsync(context, cancellationToken);
        }
        catch (UsageException ex)
        {
            return Usage(errors, ex);
        }
        catch (Exception ex) when (cancellationToken.IsCancellationRequested
                                   && ex is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled })
        {
            errors.WriteLine("interrupted");
            return Interrupted;
        }
        catch (RpcException ex)
        {
            errors.WriteLine(ErrorReport.Describe(ex, context.CoordinatorAddress));
            return ErrorReport.ExitCodeOf(ex);
        }
        catch (FarmException ex)
        {
            errors.WriteLine(ex.Message);
            return ExitCodes.JobFailed;
        }
        catch (CliException ex)
        {
            errors.WriteLine($"error: {ex.Message}");
            return ex.ExitCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or UnauthorizedAccessException)
        {
            errors.WriteLine($"error: {ex.Message}");
            return ExitCodes.JobFailed;
        }
    }

    private static Task<int> DispatchAsync(CommandContext context, CancellationToken cancellationToken)
    {
        var command = context.Parsed.Command!;
        return command.Name switch
        {
            "farm up" => FarmCommand.UpAsync(context, cancellationToken),
            "submit" => SubmitCommand.RunAsync(context, cancellationToken),
            "watch" => WatchCommand.RunAsync(context, cancellationToken),
            "get" => JobCommands.GetAsync(context, cancellationToken),
            "list" => JobCommands.ListAsync(context, cancellationToken),
            "cancel" => JobCommands.CancelAsync(context, cancellationToken),
            "estimate" => JobCommands.EstimateAsync(context, cancellationToken),
            "revise" => JobCommands.ReviseAsync(context, cancellationToken),
            "workers" => JobCommands.WorkersAsync(context, cancellationToken),
            "templates" => JobCommands.TemplatesAsync(context, cancellationToken),
            "drain" => JobCommands.DrainAsync(context, cancellationToken),
            "keys create" => KeyCommands.CreateAsync(context, cancellationToken),
            "keys list" => KeyCommands.ListAsync(context, cancellationToken),
            "keys revoke" => KeyCommands.RevokeAsync(context, cancellationToken),
            _ => throw new UsageException($"unknown command '{command.Name}'"),
        };
    }

    private static int Usage(TextWriter errors, UsageException ex)
    {
        errors.WriteLine($"error: {ex.Message}");
        errors.WriteLine();
        errors.Write(ex.Command is null ? UsageText.General() : UsageText.ForCommand(ex.Command));
        return ExitCodes.Usage;
    }
}
