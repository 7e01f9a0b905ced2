namespace VideoGen.Worker.Storage;

/// <summary>Artifact storage settings (configuration section <c>Storage</c>).</summary>
public sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary><c>local</c> (a folder; the default). S3 comes later behind <see cref="IArtifactStore"/>.</summary>
    public string Kind { get; set; } = "local";

    /// <summary>Root folder of the local store; relative paths are made absolute from the current directory.</summary>
    public string LocalRoot { get; set; } = ".farm/artifacts";
}
