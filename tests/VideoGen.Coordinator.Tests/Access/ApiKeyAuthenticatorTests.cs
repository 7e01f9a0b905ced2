using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using VideoGen.Coordinator.Access;
using VideoGen.Coordinator.Persistence;

namespace VideoGen.Coordinator.Tests.Access;

public sealed class ApiKeyAuthenticatorTests : IDisposable
{
    private const string Method = "/videogen.v1.JobService/GetJob";
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "videogen-tests", Guid.NewGuid().ToString("n"));
    private readonly SqliteJobStore _store;
    private readonly string _bootstrap = ApiKeyMaterial.NewKey();

    public ApiKeyAuthenticatorTests() => _store = new SqliteJobStore(Path.Combine(_directory, "videogen.db"));

    [Fact]
    public void NoKey_OrAnotherScheme_IsUnauthenticated()
    {
        var auth = Authenticator();

        Assert.Equal(StatusCode.Unauthenticated, Assert.Throws<RpcException>(() => auth.Authenticate([], Method)).StatusCode);
        Assert.Equal(StatusCode.Unauthenticated, Assert.Throws<RpcException>(() => auth.Authenticate(Bearer("", "Basic dXNlcjpwYXNz"), Method)).StatusCode);
        Assert.Equal(StatusCode.Unauthenticated, Assert.Throws<RpcException>(() => auth.Authenticate(Bearer("", "Bearer "), Method)).StatusCode);
    }

    [Fact]
    public void UnknownKey_IsUnauthenticated_AndTheMessageNeverQuotesIt()
    {
        var wrong = ApiKeyMaterial.NewKey();

        var error = Assert.Throws<RpcException>(() => Authenticator().Authenticate(Bearer(wrong), Method));

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        Assert.DoesNotContain(wrong, error.Status.Detail);
        Assert.DoesNotContain(wrong[..12], error.Status.Detail);
    }

    [Fact]
    public void BootstrapKey_IsAnAdminOfTheConfiguredTenant_SchemeAndHeaderCaseIgnored()
    {
        var headers = new Metadata { { "Authorization", "bearer " + _bootstrap } };

        var caller = Authenticator().Authenticate(headers, Method);

        Assert.Equal(new Caller("bootstrap", "default", IsAdmin: true), caller);
    }

    [Fact]
    public void StoredKey_GivesItsTenantAndRole_UntilRevoked()
    {
        var key = ApiKeyMaterial.NewKey();
        _store.AddKey(new ApiKeyRecord("key-00000000000c", ApiKeyMaterial.Hash(key), "acme", KeyRoles.Client, DateTimeOffset.UnixEpoch, null));
        var auth = Authenticator();

        Assert.Equal(new Caller("key-00000000000c", "acme", IsAdmin: false), auth.Authenticate(Bearer(key), Method));

        _store.RevokeKey("key-00000000000c", DateTimeOffset.UnixEpoch.AddDays(1));
        Assert.Equal(StatusCode.Unauthenticated, Assert.Throws<RpcException>(() => auth.Authenticate(Bearer(key), Method)).StatusCode);
    }

    [Fact]
    public void DisabledMode_TakesEveryCallerAsAnAdmin()
    {
        var auth = Authenticator(new AuthOptions { Mode = "disabled" });

        Assert.Equal(Caller.Unauthenticated, auth.Authenticate([], Method));
    }

    [Fact]
    public void BootstrapKeyFile_IsRead_AndOptionsAreValidated()
    {
        var file = Path.Combine(_directory, "admin.key");
        File.WriteAllText(file, _bootstrap + "\n");

        Assert.Equal(_bootstrap, new AuthOptions { BootstrapAdminKeyFile = file }.LoadBootstrapKey());
        Assert.Contains("Coordinator:Auth:Mode", new AuthOptions { Mode = "open" }.Validate());
        Assert.Contains("at least 20", new AuthOptions { BootstrapAdminKey = "short" }.Validate());
        Assert.Null(new AuthOptions().Validate());
        Assert.Contains("cannot be read", new AuthOptions { BootstrapAdminKeyFile = Path.Combine(_directory, "missing.key") }.Validate());
        File.WriteAllText(file, "short\n");
        Assert.Contains("holds no key", new AuthOptions { BootstrapAdminKeyFile = file }.Validate());
    }

    [Theory]
    [InlineData("/videogen.v1.JobService/ListWorkers", true)]
    [InlineData("/videogen.v1.JobService/DrainWorker", true)]
    [InlineData("/videogen.v1.KeyService/CreateKey", true)]
    [InlineData("/videogen.v1.KeyService/ListKeys", true)]
    [InlineData("/videogen.v1.KeyService/RevokeKey", true)]
    [InlineData("/videogen.v1.JobService/SubmitJob", false)]
    [InlineData("/videogen.v1.JobService/WatchJob", false)]
    [InlineData("/videogen.v1.JobService/ListTemplates", false)]
    public void AdminOnly_IsWorkersAndKeys(string method, bool admin) => Assert.Equal(admin, ApiKeyInterceptor.NeedsAdmin(method));

    [Fact]
    public void Keys_AreRandomAndHashedWithSha256()
    {
        var a = ApiKeyMaterial.NewKey();

        Assert.Matches("^vg_[A-Za-z0-9_-]{43}$", a);
        Assert.NotEqual(a, ApiKeyMaterial.NewKey());
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", ApiKeyMaterial.Hash("abc"));
        Assert.True(ApiKeyMaterial.HashesEqual(ApiKeyMaterial.Hash(a), ApiKeyMaterial.Hash(a)));
        Assert.False(ApiKeyMaterial.HashesEqual(ApiKeyMaterial.Hash(a), ApiKeyMaterial.Hash("x")));
    }

    public void Dispose()
    {
        _store.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private ApiKeyAuthenticator Authenticator(AuthOptions? options = null) =>
        new(_store, Options.Create(options ?? new AuthOptions { BootstrapAdminKey = _bootstrap }), NullLogger<ApiKeyAuthenticator>.Instance);

    private static Metadata Bearer(string key, string? raw = null) => new() { { "authorization", raw ?? "Bearer " + key } };
}
