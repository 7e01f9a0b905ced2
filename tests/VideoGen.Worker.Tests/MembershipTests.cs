using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using VideoGen.Contracts.V1;
using VideoGen.Worker.Membership;

namespace VideoGen.Worker.Tests;

public sealed class MembershipTests
{
    [Fact]
    public void JoinBackoff_Delay_DoublesFromInitialAndIsCapped()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(250), JoinBackoff.Delay(1, 0));
        Assert.Equal(TimeSpan.FromMilliseconds(500), JoinBackoff.Delay(2, 0));
        Assert.Equal(TimeSpan.FromSeconds(1), JoinBackoff.Delay(3, 0));
        Assert.Equal(JoinBackoff.Cap, JoinBackoff.Delay(30, 0));
        Assert.InRange(JoinBackoff.Delay(1000, 0.9999999), JoinBackoff.Cap, JoinBackoff.Cap * 1.2);
    }

    [Fact(Timeout = 40_000)]
    public async Task Worker_CoordinatorStartsLater_JoinsHeartbeatsRejoinsWhenForgottenAndLeavesOnStop()
    {
        var token = Timeouts.After(35);
        var port = FreePort();
        var worker = await WorkerTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Worker:Membership"] = "direct",
            ["Worker:Coordinator"] = $"http://127.0.0.1:{port}",
            ["Worker:HeartbeatSeconds"] = "0.1",
        }, token);
        try
        {
            // The coordinator comes up after the worker: the worker keeps retrying its join.
            var membership = new FakeMembership();
            await using var coordinator = await StartCoordinatorAsync(port, membership, token);

            var join = await membership.NextAsync(token);
            Assert.Equal("join", join.Kind);
            Assert.Equal("test-worker", join.Join!.WorkerId);
            Assert.Equal(worker.Endpoints.GrpcAddress, join.Join.Address);
            Assert.Equal(["procedural-i2v", "procedural-flf2v", "procedural-extend", "procedural-image", "espeak-ng", "ffmpeg-bed"], join.Join.Models);
            Assert.Equal(2, join.Join.Slots);
            Assert.Equal("heartbeat", (await membership.NextAsync(token)).Kind);

            membership.ForgetWorker();
            string kind;
            do
            {
                kind = (await membership.NextAsync(token)).Kind;
            }
            while (kind == "heartbeat");
            Assert.Equal("join", kind);

            await worker.App.StopAsync(token);
            do
            {
                kind = (await membership.NextAsync(token)).Kind;
            }
            while (kind == "heartbeat");
            Assert.Equal("leave", kind);
        }
        finally
        {
            await worker.DisposeAsync();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<WebApplication> StartCoordinatorAsync(int port, FakeMembership membership, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(membership);
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, l => l.Protocols = HttpProtocols.Http2));
        var app = builder.Build();
        app.MapGrpcService<FakeMembershipService>();
        await app.StartAsync(cancellationToken);
        return app;
    }

    internal sealed record MembershipCall(string Kind, JoinRequest? Join = null);

    /// <summary>The fake coordinator's state: every call in order, and whether it still knows the worker.</summary>
    internal sealed class FakeMembership
    {
        private readonly Channel<MembershipCall> _calls = Channel.CreateUnbounded<MembershipCall>();
        private volatile bool _known;

        public void Record(MembershipCall call)
        {
            if (call.Kind == "join")
            {
                _known = true;
            }

            _calls.Writer.TryWrite(call);
        }

        public bool Known => _known;

        public void ForgetWorker() => _known = false;

        public async Task<MembershipCall> NextAsync(CancellationToken cancellationToken) =>
            await _calls.Reader.ReadAsync(cancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(15), cancellationToken);
    }

    internal sealed class FakeMembershipService(FakeMembership state) : MembershipService.MembershipServiceBase
    {
        public override Task<JoinResponse> Join(JoinRequest request, ServerCallContext context)
        {
            state.Record(new MembershipCall("join", request));
            return Task.FromResult(new JoinResponse { HeartbeatIntervalSeconds = 5, LeaseSeconds = 15 });
        }

        public override Task<HeartbeatResponse> Heartbeat(HeartbeatRequest request, ServerCallContext context)
        {
            var known = state.Known;
            state.Record(new MembershipCall("heartbeat"));
            return Task.FromResult(new HeartbeatResponse { Known = known });
        }

        public override Task<LeaveResponse> Leave(LeaveRequest request, ServerCallContext context)
        {
            state.Record(new MembershipCall("leave"));
            return Task.FromResult(new LeaveResponse());
        }
    }
}
