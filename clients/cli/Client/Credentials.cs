using System.Security.Cryptography;

namespace VideoGen.Cli.Client;

/// <summary>
/// Where the CLI finds its API key: <c>--api-key</c>, then <c>$VIDEOGEN_API_KEY</c>, then the key a local farm
/// (<c>videogen farm up</c>) left for its coordinator's address in the user's config folder. The key is sent
/// as <c>authorization: Bearer KEY</c> and never printed.
/// </summary>
public static class Credentials
{
    public const string KeyVariable = "VIDEOGEN_API_KEY";

    /// <summary>Overrides the config folder (default <c>$XDG_CONFIG_HOME/videogen</c> or <c>~/.config/videogen</c>).</summary>
    public const string ConfigDirectoryVariable = "VIDEOGEN_CONFIG_DIR";

    /// <summary>--api-key wins, then $VIDEOGEN_API_KEY, then the stored key of <paramref name="address"/>; null when none.</summary>
    public static string? Resolve(string? option, string? environment, string address, string configDirectory)
    {
        if (!string.IsNullOrWhiteSpace(option))
        {
            return option.Trim();
        }

        if (!string.IsNullOrWhiteSpace(environment))
        {
            return environment.Trim();
        }

        var file = CredentialFile(configDirectory, address);
        return File.Exists(file) ? File.ReadLines(file).FirstOrDefault()?.Trim() is { Length: > 0 } key ? key : null : null;
    }

    /// <summary>The user's videogen config folder.</summary>
    public static string ConfigDirectory()
    {
        if (Environment.GetEnvironmentVariable(ConfigDirectoryVariable) is { Length: > 0 } own)
        {
            return own;
        }

        var xdg = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME");
        var root = !string.IsNullOrEmpty(xdg) ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
        return Path.Combine(root, "videogen");
    }

    /// <summary>The key file of a coordinator: <c>credentials/HOST_PORT</c> in the config folder.</summary>
    public static string CredentialFile(string configDirectory, string address)
    {
        // A list of coordinators shares one farm's key: the first names it.
        var uri = CoordinatorConnection.Addresses(CoordinatorConnection.Normalize(address))[0];
        var name = $"{uri.Host}_{uri.Port}";
        return Path.Combine(configDirectory, "credentials", string.Concat(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_')));
    }

    /// <summary>A new API key in the coordinator's format: "vg_" and 32 random bytes as base64url.</summary>
    public static string NewKey() =>
        "vg_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>Writes <paramref name="key"/> to <paramref name="path"/>, readable by its owner only (0600).</summary>
    public static void WriteSecret(string path, string key)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temp = path + ".tmp";
        File.Delete(temp);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(temp, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.WriteLine(key);
        }

        File.Move(temp, path, overwrite: true);
    }

    /// <summary>The key in <paramref name="path"/> when it holds one, else a new key written there (0600).</summary>
    public static string LoadOrCreate(string path)
    {
        if (File.Exists(path) && File.ReadLines(path).FirstOrDefault()?.Trim() is { Length: >= 20 } existing)
        {
            return existing;
        }

        var key = NewKey();
        WriteSecret(path, key);
        return key;
    }
}
