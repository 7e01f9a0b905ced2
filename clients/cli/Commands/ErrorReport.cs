using System.Text;
using Google.Rpc;
using Grpc.Core;

namespace VideoGen.Cli.Commands;

/// <summary>Turns a gRPC failure into the message and exit code the user sees, in one place.</summary>
public static class ErrorReport
{
    public static int ExitCodeOf(RpcException ex) =>
        ex.StatusCode == StatusCode.Unavailable ? ExitCodes.Unreachable : ExitCodes.RpcError;

    /// <summary>
    /// "coordinator unreachable at ADDRESS: detail" for UNAVAILABLE; otherwise
    /// "error: INVALID_ARGUMENT: detail" plus the field violations the status carries.
    /// </summary>
    public static string Describe(RpcException ex, string coordinatorAddress)
    {
        if (ex.StatusCode == StatusCode.Unavailable)
        {
            var cause = ex.Status.DebugException?.InnerException?.Message ?? ex.Status.DebugException?.Message;
            return $"error: coordinator unreachable at {coordinatorAddress}: {ex.Status.Detail}"
                + (string.IsNullOrEmpty(cause) ? "" : $" ({cause})");
        }
        var text = new StringBuilder($"error: {CodeName(ex.StatusCode)}: {ex.Status.Detail}");
        BadRequest? badRequest = null;
        try
        {
            badRequest = ex.GetRpcStatus()?.GetDetail<BadRequest>();
        }
        catch (Google.Protobuf.InvalidProtocolBufferException)
        {
            // A malformed details trailer: the message above still says what failed.
        }
        foreach (var violation in badRequest?.FieldViolations ?? [])
        {
            text.Append($"\n  field {violation.Field}: {violation.Description}");
        }
        return text.ToString();
    }

    /// <summary>StatusCode.InvalidArgument becomes "INVALID_ARGUMENT", as in the gRPC spec.</summary>
    public static string CodeName(StatusCode code)
    {
        var name = code.ToString();
        var text = new StringBuilder();
        for (var i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i]) && char.IsLower(name[i - 1]))
            {
                text.Append('_');
            }
            text.Append(char.ToUpperInvariant(name[i]));
        }
        return text.ToString();
    }
}
