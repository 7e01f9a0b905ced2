namespace VideoGen.Worker.Storage;

/// <summary>Artifact storage settings (configuration section <c>Storage</c>).</summary>
public sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary><c>local</c> (a folder; the default) or <c>s3</c> (S3 and S3-compatible stores, <see cref="S3">Storage:S3</see>).</summary>
    public string Kind { get; set; } = "local";

    /// <summary>Root folder of the local store; relative paths are made absolute from the current directory.</summary>
    public string LocalRoot { get; set; } = ".farm/artifacts";

    /// <summary>The S3 store (<c>Storage:S3:*</c>), used when <see cref="Kind"/> is <c>s3</c>.</summary>
    public S3StorageOptions S3 { get; set; } = new();
}

/// <summary>Settings of <see cref="S3ArtifactStore"/> (configuration section <c>Storage:S3</c>).</summary>
public sealed class S3StorageOptions
{
    /// <summary>Bucket every artifact goes to (required).</summary>
    public string Bucket { get; set; } = "";

    /// <summary>Key prefix in front of every artifact key, e.g. <c>videogen</c> → <c>videogen/jobs/{job}/final.mp4</c>; may be empty.</summary>
    public string Prefix { get; set; } = "";

    /// <summary>Endpoint of an S3-compatible store (MinIO, s3rver, R2…); empty: AWS S3 in <see cref="Region"/>.</summary>
    public string ServiceUrl { get; set; } = "";

    /// <summary>AWS region (signing region for S3-compatible stores).</summary>
    public string Region { get; set; } = "us-east-1";

    /// <summary>Path-style addressing (<c>http://host/bucket/key</c>); most S3-compatible stores need it.</summary>
    public bool ForcePathStyle { get; set; }

    /// <summary>Access key id; empty (with <see cref="SecretKey"/>): the SDK's default credential chain (env, profile, IAM role).</summary>
    public string AccessKey { get; set; } = "";

    /// <summary>Secret access key; set with <see cref="AccessKey"/> or not at all.</summary>
    public string SecretKey { get; set; } = "";

    /// <summary>Lifetime of the presigned GET URL of a final video, in minutes (SigV4 allows at most 7 days).</summary>
    public double PresignMinutes { get; set; } = 24 * 60;

    /// <summary>Files larger than this many MiB are uploaded in parts (multipart upload).</summary>
    public int MultipartThresholdMb { get; set; } = 16;

    /// <summary>Part size of a multipart upload in MiB (S3's minimum is 5).</summary>
    public int PartSizeMb { get; set; } = 8;

    /// <summary>Parts (and files) uploaded at once.</summary>
    public int ConcurrentRequests { get; set; } = 4;

    /// <summary>Retries of a failed S3 request (the SDK's standard retry mode: backoff with jitter, throttling aware).</summary>
    public int MaxRetries { get; set; } = 4;
}

/// <summary>Start-up checks of <see cref="StorageOptions"/>, each failure naming its key.</summary>
public static class StorageOptionsValidation
{
    /// <summary>The problems of <paramref name="options"/>; empty when it is usable.</summary>
    public static List<string> Validate(StorageOptions options)
    {
        var failures = new List<string>();
        switch (options.Kind)
        {
            case "local":
                if (string.IsNullOrWhiteSpace(options.LocalRoot))
                {
                    failures.Add("Storage:LocalRoot must not be empty.");
                }

                break;
            case "s3":
                ValidateS3(options.S3, failures);
                break;
            default:
                failures.Add($"Storage:Kind must be 'local' or 's3', got '{options.Kind}'.");
                break;
        }

        return failures;
    }

    private static void ValidateS3(S3StorageOptions s3, List<string> failures)
    {
        // Bucket naming rules of S3 (3–63 lowercase letters, digits, dots, hyphens).
        if (string.IsNullOrWhiteSpace(s3.Bucket))
        {
            failures.Add("Storage:S3:Bucket is required when Storage:Kind is 's3'.");
        }
        else if (s3.Bucket.Length is < 3 or > 63 || !s3.Bucket.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '-'))
        {
            failures.Add($"Storage:S3:Bucket '{s3.Bucket}' is not a valid bucket name (3-63 characters: a-z, 0-9, '.', '-').");
        }

        if (s3.Prefix.StartsWith('/') || s3.Prefix.Split('/').Any(p => p is "." or ".."))
        {
            failures.Add($"Storage:S3:Prefix must be relative without '.' or '..' segments, got '{s3.Prefix}'.");
        }

        if (!string.IsNullOrEmpty(s3.ServiceUrl) && !(Uri.TryCreate(s3.ServiceUrl, UriKind.Absolute, out var url) && url.Scheme is "http" or "https"))
        {
            failures.Add($"Storage:S3:ServiceUrl must be an http(s) URL when set, got '{s3.ServiceUrl}'.");
        }

        if (string.IsNullOrWhiteSpace(s3.Region))
        {
            failures.Add("Storage:S3:Region must not be empty.");
        }

        if (string.IsNullOrEmpty(s3.AccessKey) != string.IsNullOrEmpty(s3.SecretKey))
        {
            failures.Add("Storage:S3:AccessKey and Storage:S3:SecretKey go together: set both, or neither for the SDK's default credentials.");
        }

        if (s3.PresignMinutes is <= 0 or > 7 * 24 * 60)
        {
            failures.Add($"Storage:S3:PresignMinutes must be in (0, 10080] (SigV4 allows 7 days), got {s3.PresignMinutes}.");
        }

        if (s3.PartSizeMb < 5)
        {
            failures.Add($"Storage:S3:PartSizeMb must be at least 5 (S3's minimum part size), got {s3.PartSizeMb}.");
        }

        if (s3.MultipartThresholdMb < 5)
        {
            failures.Add($"Storage:S3:MultipartThresholdMb must be at least 5, got {s3.MultipartThresholdMb}.");
        }

        if (s3.ConcurrentRequests is < 1 or > 64)
        {
            failures.Add($"Storage:S3:ConcurrentRequests must be between 1 and 64, got {s3.ConcurrentRequests}.");
        }

        if (s3.MaxRetries is < 0 or > 20)
        {
            failures.Add($"Storage:S3:MaxRetries must be between 0 and 20, got {s3.MaxRetries}.");
        }
    }
}
