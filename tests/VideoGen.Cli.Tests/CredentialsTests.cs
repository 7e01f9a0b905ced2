using VideoGen.Cli.Client;
using VideoGen.Cli.Commands;

namespace VideoGen.Cli.Tests;

public sealed class CredentialsTests : IDisposable
{
    private readonly string _config = Directory.CreateTempSubdirectory("videogen-config-").FullName;

    [Fact]
    public void Resolve_FlagThenEnvironmentThenTheLocalFarmsKeyForThatAddress()
    {
        Credentials.WriteSecret(Credentials.CredentialFile(_config, "http://127.0.0.1:7171"), "vg_stored-key-0123456789");

        Assert.Equal("vg_flag", Credentials.Resolve("vg_flag", "vg_env", "127.0.0.1:7171", _config));
        Assert.Equal("vg_env", Credentials.Resolve(null, "vg_env", "127.0.0.1:7171", _config));
        Assert.Equal("vg_stored-key-0123456789", Credentials.Resolve(null, null, "127.0.0.1:7171", _config));
        Assert.Equal("vg_stored-key-0123456789", Credentials.Resolve("", " ", "http://127.0.0.1:7171", _config));
        Assert.Null(Credentials.Resolve(null, null, "127.0.0.1:7070", _config)); // another coordinator
    }

    [Fact]
    public void CredentialFile_IsPerHostAndPort()
    {
        Assert.Equal(Path.Combine(_config, "credentials", "127.0.0.1_7070"), Credentials.CredentialFile(_config, "127.0.0.1:7070"));
        Assert.Equal(Path.Combine(_config, "credentials", "farm.example_443"), Credentials.CredentialFile(_config, "https://farm.example"));
    }

    [Fact]
    public void LoadOrCreate_MakesAnOwnerOnlyKeyOnce_ThenKeepsIt()
    {
        var file = Path.Combine(_config, "farm", "admin.key");

        var key = Credentials.LoadOrCreate(file);

        Assert.Matches("^vg_[A-Za-z0-9_-]{43}$", key);
        Assert.Equal(key, Credentials.LoadOrCreate(file));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }
    }

    [Theory]
    [InlineData(new[] { "keys", "create" }, "--tenant is required")]
    [InlineData(new[] { "keys", "create", "--tenant", "acme", "--role", "root" }, "--role must be client or admin")]
    [InlineData(new[] { "keys", "revoke" }, "KEY_ID")]
    public async Task Keys_BadArguments_AreUsageErrors(string[] args, string message)
    {
        var output = new StringWriter();
        var errors = new StringWriter();

        var code = await CliApp.RunAsync(args, output, errors, interactive: false, TimeProvider.System, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains(message, errors.ToString());
    }

    public void Dispose() => Directory.Delete(_config, recursive: true);
}
