using System.Globalization;

namespace VideoGen.ConsulStandIn;

/// <summary>
/// <c>dotnet VideoGen.ConsulStandIn.dll [--port N] [--token T]</c>: serves until SIGTERM/SIGINT and prints
/// <c>consul stand-in listening http://127.0.0.1:PORT</c> once it accepts requests.
/// </summary>
public static class StandInProgram
{
    public static async Task<int> Main(string[] args)
    {
        var port = 0;
        string? token = null;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--port":
                    port = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                case "--token":
                    token = args[i + 1];
                    break;
                default:
                    await Console.Error.WriteLineAsync($"unknown argument {args[i]}; usage: [--port N] [--token T]");
                    return 2;
            }
        }

        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            stop.Cancel();
        });

        await using var server = await ConsulStandInServer.StartAsync(port: port, token: token);
        Console.WriteLine($"consul stand-in listening http://127.0.0.1:{server.Port}");
        try
        {
            await Task.Delay(Timeout.Infinite, stop.Token);
        }
        catch (OperationCanceledException)
        {
        }

        return 0;
    }
}
