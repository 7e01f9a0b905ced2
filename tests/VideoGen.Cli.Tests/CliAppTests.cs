using System.Net;
using System.Net.Sockets;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using VideoGen.Cli.Commands;

namespace VideoGen.Cli.Tests;

public class CliAppTests
{
    private static async Task<(int Code, string Output, string Errors)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var errors = new StringWriter();
        var code = await CliApp.RunAsync(args, output, errors, interactive: false, TimeProvider.System, CancellationToken.None)
            .WaitAsync(TimeSpan.FromSeconds(30));
        return (code, output.ToString(), errors.ToString());
    }

    [Fact]
    public async Task Run_Help_PrintsUsageAndExitsZero()
    {
        var (code, output, _) = await RunAsync("--help");

        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains("usage: videogen", output);
        Assert.Contains("farm up", output);
    }

    [Fact]
    public async Task Run_UnknownCommand_PrintsUsageToStderrAndExitsTwo()
    {
        var (code, output, errors) = await RunAsync("render");

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal("", output);
        Assert.Contains("unknown command 'render'", errors);
        Assert.Contains("usage: videogen", errors);
    }

    [Fact]
    public async Task Run_BadListState_ExitsTwo()
    {
        var (code, _, errors) = await RunAsync("list", "--state", "sleeping");

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("unknown job state 'sleeping'", errors);
    }

    [Fact]
    public async Task Run_NobodyListening_ExitsFour()
    {
        var (code, _, errors) = await RunAsync("workers", "--coordinator", $"127.0.0.1:{FreePort()}");

        Assert.Equal(ExitCodes.Unreachable, code);
        Assert.Contains("coordinator unreachable", errors);
    }

    [Fact]
    public void ErrorReport_InvalidArgument_NamesTheField()
    {
        var status = new Google.Rpc.Status
        {
            Code = (int)Code.InvalidArgument,
            Message = "duration_seconds must be in (0, 600]",
            Details =
            {
                Any.Pack(new BadRequest
                {
                    FieldViolations = { new BadRequest.Types.FieldViolation { Field = "job.duration_seconds", Description = "must be in (0, 600]" } },
                }),
            },
        };

        var text = ErrorReport.Describe(status.ToRpcException(), "http://x");

        Assert.StartsWith("error: INVALID_ARGUMENT: duration_seconds must be in (0, 600]", text);
        Assert.Contains("field job.duration_seconds: must be in (0, 600]", text);
        Assert.Equal(ExitCodes.RpcError, ErrorReport.ExitCodeOf(status.ToRpcException()));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
