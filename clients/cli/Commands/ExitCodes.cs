namespace VideoGen.Cli.Commands;

/// <summary>The process exit codes of <c>videogen</c>; scripts rely on them.</summary>
public static class ExitCodes
{
    /// <summary>The command did what was asked (for a watched job: it succeeded).</summary>
    public const int Ok = 0;

    /// <summary>The watched job failed or was cancelled, or a farm process died.</summary>
    public const int JobFailed = 1;

    /// <summary>Unknown command or option, missing or malformed argument.</summary>
    public const int Usage = 2;

    /// <summary>The coordinator answered with a gRPC error (status code and detail printed).</summary>
    public const int RpcError = 3;

    /// <summary>The coordinator could not be reached.</summary>
    public const int Unreachable = 4;
}
