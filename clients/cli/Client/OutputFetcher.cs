namespace VideoGen.Cli.Client;

/// <summary>A failure that is neither a usage nor a gRPC error; printed as is with its exit code.</summary>
public sealed class CliException(string message, int exitCode) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>Copies a job's final video to a local file: from a file:// URI, else over http(s).</summary>
public static class OutputFetcher
{
    /// <summary>Returns the absolute path written.</summary>
    public static async Task<string> FetchAsync(
        string outputUri, string outputUrl, string destination, CancellationToken cancellationToken)
    {
        var target = Path.GetFullPath(destination);
        var folder = Path.GetDirectoryName(target);
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
        }

        if (Uri.TryCreate(outputUri, UriKind.Absolute, out var uri) && uri.IsFile)
        {
            if (!File.Exists(uri.LocalPath))
            {
                throw new CliException($"the job's output {outputUri} is not on this machine", 1);
            }
            File.Copy(uri.LocalPath, target, overwrite: true);
            return target;
        }

        var url = IsHttp(outputUrl) ? outputUrl : IsHttp(outputUri) ? outputUri : null;
        if (url is null)
        {
            throw new CliException(
                $"cannot fetch the job's output '{outputUri}': it is not a file:// URI and the job has no http(s) output_url", 1);
        }
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(10) };
        using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new CliException($"downloading {url} failed: HTTP {(int)response.StatusCode}", 1);
        }
        var partial = target + ".part";
        await using (var file = File.Create(partial))
        {
            await response.Content.CopyToAsync(file, cancellationToken);
        }
        File.Move(partial, target, overwrite: true);
        return target;
    }

    private static bool IsHttp(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
}
