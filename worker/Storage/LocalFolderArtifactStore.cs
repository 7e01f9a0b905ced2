using Microsoft.Extensions.Options;
using VideoGen.Worker.Tasks;

namespace VideoGen.Worker.Storage;

/// <summary>
/// Artifacts as files under one root folder, addressed as <c>file:///abs/root/key</c>. Writes are atomic
/// (a temporary file in the same folder, then a rename), so a reader never sees half a clip.
/// </summary>
public sealed class LocalFolderArtifactStore : IArtifactStore
{
    public LocalFolderArtifactStore(IOptions<StorageOptions> options)
        : this(options.Value.LocalRoot)
    {
    }

    public LocalFolderArtifactStore(string root)
    {
        Root = Path.GetFullPath(root);
    }

    /// <summary>The absolute root folder.</summary>
    public string Root { get; }

    /// <summary>The absolute file path of <paramref name="key"/>; rejects keys that would leave the root.</summary>
    public string PathOf(string key)
    {
        if (string.IsNullOrWhiteSpace(key) || Path.IsPathRooted(key) || key.Split('/', '\\').Any(part => part is ".." or "."))
        {
            throw new ArgumentException($"Artifact key '{key}' must be a relative path without '.' or '..' segments.", nameof(key));
        }

        return Path.Combine(Root, key.Replace('/', Path.DirectorySeparatorChar));
    }

    /// <inheritdoc />
    public async Task<string> PutAsync(string key, string localPath, string contentType, CancellationToken cancellationToken)
    {
        var target = PathOf(key);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var temporary = $"{target}.{Guid.NewGuid():N}.tmp";
        try
        {
            await using (var source = new FileStream(localPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true))
            await using (var destination = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                await source.CopyToAsync(destination, cancellationToken);
                await destination.FlushAsync(cancellationToken);
            }

            File.Move(temporary, target, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
        }

        return new Uri(target).AbsoluteUri;
    }

    /// <inheritdoc />
    public Task<string> GetLocalPathAsync(string uri, string workDirectory, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!Uri.TryCreate(uri, UriKind.Absolute, out var parsed))
        {
            throw new ArgumentException($"'{uri}' is not an absolute artifact URI.", nameof(uri));
        }

        if (!parsed.IsFile || !string.IsNullOrEmpty(parsed.Host))
        {
            throw new PermanentTaskException($"This worker reads artifacts only from its storage ({new Uri(Root + Path.DirectorySeparatorChar).AbsoluteUri}); '{Quote(uri)}' is not there.");
        }

        // Confined to the root: a file:// URI naming anything outside it (after resolving '.' and '..') is refused.
        var path = Path.GetFullPath(parsed.LocalPath);
        if (!path.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new PermanentTaskException($"This worker reads artifacts only under its storage root {Root}; '{Quote(uri)}' is outside it.");
        }

        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Artifact '{uri}' does not exist.", path);
        }

        return Task.FromResult(path);
    }

    private static string Quote(string value) => value.Length <= 200 ? value.ReplaceLineEndings(" ") : value[..200].ReplaceLineEndings(" ") + "…";
}
