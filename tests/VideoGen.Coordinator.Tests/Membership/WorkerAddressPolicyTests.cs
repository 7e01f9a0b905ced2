using VideoGen.Coordinator.Membership;

namespace VideoGen.Coordinator.Tests.Membership;

public sealed class WorkerAddressPolicyTests
{
    [Theory]
    [InlineData("http://127.0.0.1:7100", true)]
    [InlineData("http://[::1]:7100", true)]
    [InlineData("http://10.1.2.3:7100", true)]
    [InlineData("https://172.20.0.5:7100", true)]
    [InlineData("http://192.168.1.9:7100", true)]
    [InlineData("http://[fd00::5]:7100", true)]
    [InlineData("http://localhost:7100", true)]
    [InlineData("http://8.8.8.8:7100", false)]
    [InlineData("http://169.254.169.254/latest/meta-data", false)] // cloud metadata
    [InlineData("http://172.32.0.1:7100", false)]
    [InlineData("http://[2001:db8::1]:7100", false)]
    [InlineData("http://example.com:7100", false)]
    [InlineData("http://localhost.evil.com:7100", false)]
    [InlineData("http://user:pass@127.0.0.1:7100", false)]
    [InlineData("ftp://127.0.0.1", false)]
    [InlineData("not a url", false)]
    public void Defaults_AllowLoopbackPrivateRangesAndLocalhostOnly(string address, bool allowed)
    {
        var policy = new WorkerAddressPolicy(null, null);

        Assert.Equal(allowed, policy.Allows(address, out var reason));
        Assert.False(string.IsNullOrEmpty(reason));
    }

    [Theory]
    [InlineData("http://worker-1:7100", true)]
    [InlineData("http://w7.render.internal:7100", true)]
    [InlineData("http://203.0.113.7:7100", true)]
    [InlineData("http://10.0.0.1:7100", false)]
    [InlineData("http://localhost:7100", false)]
    [InlineData("http://worker-3:7100", false)]
    public void Configured_NetworksAndHosts_ReplaceTheDefaults(string address, bool allowed)
    {
        var policy = new WorkerAddressPolicy(["203.0.113.0/24"], ["worker-1", ".render.internal"]);

        Assert.Equal(allowed, policy.Allows(address, out _));
    }
}
