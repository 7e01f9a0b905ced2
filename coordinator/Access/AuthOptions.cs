using VideoGen.Coordinator.Planning;
using VideoGen.Coordinator.Services;

namespace VideoGen.Coordinator.Access;

/// <summary>Configuration section <c>Coordinator:Auth</c>: who may call the client-facing services.</summary>
public sealed class AuthOptions
{
    public const string Section = "Coordinator:Auth";
    public const string Required = "required";
    public const string Disabled = "disabled";

    /// <summary>
    /// <c>required</c> (the default): every JobService and KeyService call needs an API key.
    /// <c>disabled</c>: no key is checked and every caller is an admin (a closed test network only).
    /// </summary>
    public string Mode { get; set; } = Required;

    /// <summary>An admin key accepted besides the stored ones (env <c>Coordinator__Auth__BootstrapAdminKey</c>): makes the first keys.</summary>
    public string BootstrapAdminKey { get; set; } = "";

    /// <summary>A file whose first line is the bootstrap admin key (what <c>videogen farm up</c> writes); used when <see cref="BootstrapAdminKey"/> is empty.</summary>
    public string BootstrapAdminKeyFile { get; set; } = "";

    /// <summary>The tenant of the bootstrap admin key's jobs.</summary>
    public string BootstrapAdminTenant { get; set; } = "default";

    public bool IsDisabled => string.Equals(Mode.Trim(), Disabled, StringComparison.OrdinalIgnoreCase);

    /// <summary>Start-up check: null when valid, else the message.</summary>
    public string? Validate()
    {
        var mode = Mode.Trim().ToLowerInvariant();
        if (mode is not (Required or Disabled))
        {
            return $"Coordinator:Auth:Mode must be '{Required}' (default) or '{Disabled}'; got '{InputText.Quote(Mode)}'.";
        }

        if (BootstrapAdminKey.Length is > 0 and < 20)
        {
            return "Coordinator:Auth:BootstrapAdminKey must be at least 20 characters (a random key, e.g. from 'openssl rand -base64 32').";
        }

        if (!PlanningLimits.IsTenantName(BootstrapAdminTenant))
        {
            return "Coordinator:Auth:BootstrapAdminTenant must match [a-z0-9][a-z0-9_-]{0,63}.";
        }

        try
        {
            // A key file that cannot be read fails the start, not the first call.
            _ = LoadBootstrapKey();
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            return ex is InvalidOperationException ? ex.Message : $"Coordinator:Auth:BootstrapAdminKeyFile cannot be read: {ex.Message}";
        }
    }

    /// <summary>The bootstrap key from <see cref="BootstrapAdminKey"/> or <see cref="BootstrapAdminKeyFile"/>; null when none.</summary>
    public string? LoadBootstrapKey()
    {
        if (BootstrapAdminKey.Trim().Length > 0)
        {
            return BootstrapAdminKey.Trim();
        }

        if (BootstrapAdminKeyFile.Trim().Length == 0)
        {
            return null;
        }

        var key = File.ReadLines(BootstrapAdminKeyFile.Trim()).FirstOrDefault()?.Trim() ?? "";
        return key.Length >= 20 ? key
            : throw new InvalidOperationException($"Coordinator:Auth:BootstrapAdminKeyFile '{BootstrapAdminKeyFile}' holds no key of at least 20 characters on its first line.");
    }
}
