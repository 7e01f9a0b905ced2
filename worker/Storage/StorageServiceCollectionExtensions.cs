using Microsoft.Extensions.Options;

namespace VideoGen.Worker.Storage;

/// <summary>Registers the artifact store that <c>Storage:Kind</c> names.</summary>
public static class StorageServiceCollectionExtensions
{
    /// <summary>Adds <see cref="IArtifactStore"/>: <see cref="LocalFolderArtifactStore"/> or <see cref="S3ArtifactStore"/>.</summary>
    public static IServiceCollection AddArtifactStore(this IServiceCollection services)
    {
        services.AddSingleton<IArtifactStore>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<StorageOptions>>();
            return options.Value.Kind == "s3" ? new S3ArtifactStore(options) : new LocalFolderArtifactStore(options);
        });
        return services;
    }
}
