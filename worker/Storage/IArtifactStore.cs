namespace VideoGen.Worker.Storage;

/// <summary>
/// Where task outputs live. Keys (<see cref="VideoGen.Catalog.ArtifactKeys"/>) name artifacts going in, URIs
/// come back out; both are the only currency between worker, coordinator and clients, so a store can be
/// swapped (local folder, S3) without touching a task.
/// </summary>
public interface IArtifactStore
{
    /// <summary>Stores the file at <paramref name="localPath"/> under <paramref name="key"/> and returns its URI.</summary>
    Task<string> PutAsync(string key, string localPath, string contentType, CancellationToken cancellationToken);

    /// <summary>
    /// A local file holding the artifact's bytes: the stored file itself when it is local, else a download into
    /// <paramref name="workDirectory"/>. Throws <see cref="FileNotFoundException"/> for a missing artifact and
    /// <see cref="NotSupportedException"/> for a URI scheme the store does not serve.
    /// </summary>
    Task<string> GetLocalPathAsync(string uri, string workDirectory, CancellationToken cancellationToken);

    /// <summary>
    /// An http(s) URL a client can download the artifact from without credentials (an S3 presigned GET), or an
    /// empty string where the store has none (the local folder).
    /// </summary>
    Task<string> GetDownloadUrlAsync(string uri, CancellationToken cancellationToken) => Task.FromResult("");
}
