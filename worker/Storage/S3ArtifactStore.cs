using VideoGen.Worker.Tasks;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Amazon.S3.Transfer;
using Microsoft.Extensions.Options;

namespace VideoGen.Worker.Storage;

/// <summary>
/// Artifacts in an S3 bucket (AWS or an S3-compatible store), addressed as <c>s3://bucket/prefix/key</c> where
/// <c>key</c> comes from <see cref="VideoGen.Catalog.ArtifactKeys"/>: one key scheme for writer and reader, so
/// the final video is always where the job says it is. Uploads go through <see cref="TransferUtility"/>
/// (multipart above <see cref="S3StorageOptions.MultipartThresholdMb"/>, parts in parallel); failed requests are
/// retried by the SDK's standard retry mode.
/// </summary>
public sealed class S3ArtifactStore : IArtifactStore, IDisposable
{
    private const long MiB = 1024 * 1024;

    private readonly S3StorageOptions _options;
    private readonly AmazonS3Client _client;
    private readonly TransferUtility _transfer;
    private readonly bool _http;

    public S3ArtifactStore(IOptions<StorageOptions> options)
        : this(options.Value.S3)
    {
    }

    public S3ArtifactStore(S3StorageOptions options)
    {
        _options = options;

        // Without it, ListObjectsV2 on an empty prefix returns a null S3Objects (SDK v4).
        AWSConfigs.InitializeCollections = true;
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            MaxErrorRetry = options.MaxRetries,
            RetryMode = RequestRetryMode.Standard,

            // SDK v4 adds CRC checksums (and aws-chunked uploads) to every request by default; S3-compatible
            // stores mishandle them. WHEN_REQUIRED is what AWS S3 accepts too.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (!string.IsNullOrEmpty(options.ServiceUrl))
        {
            config.ServiceURL = options.ServiceUrl;
            config.AuthenticationRegion = options.Region;
            _http = new Uri(options.ServiceUrl).Scheme == Uri.UriSchemeHttp;
            config.UseHttp = _http;
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region);
        }

        _client = string.IsNullOrEmpty(options.AccessKey)
            ? new AmazonS3Client(config)
            : new AmazonS3Client(new BasicAWSCredentials(options.AccessKey, options.SecretKey), config);
        _transfer = new TransferUtility(_client, new TransferUtilityConfig
        {
            MinSizeBeforePartUpload = options.MultipartThresholdMb * MiB,
            ConcurrentServiceRequests = options.ConcurrentRequests,
        });
    }

    /// <summary>The bucket artifacts go to.</summary>
    public string Bucket => _options.Bucket;

    /// <summary>The object key of artifact <paramref name="key"/>: the prefix, then the key.</summary>
    public string ObjectKey(string key)
    {
        if (string.IsNullOrWhiteSpace(key) || key.StartsWith('/') || key.Split('/').Any(part => part is ".." or "." or ""))
        {
            throw new ArgumentException($"Artifact key '{key}' must be a relative path without empty, '.' or '..' segments.", nameof(key));
        }

        var prefix = _options.Prefix.Trim('/');
        return prefix.Length == 0 ? key : $"{prefix}/{key}";
    }

    /// <summary>The URI of artifact <paramref name="key"/>: <c>s3://bucket/prefix/key</c>.</summary>
    public string UriOf(string key) => $"s3://{_options.Bucket}/{ObjectKey(key)}";

    /// <inheritdoc />
    public async Task<string> PutAsync(string key, string localPath, string contentType, CancellationToken cancellationToken)
    {
        var objectKey = ObjectKey(key);
        await _transfer.UploadAsync(
            new TransferUtilityUploadRequest
            {
                BucketName = _options.Bucket,
                Key = objectKey,
                FilePath = localPath,
                ContentType = contentType,
                PartSize = _options.PartSizeMb * MiB,
            },
            cancellationToken);
        return $"s3://{_options.Bucket}/{objectKey}";
    }

    /// <inheritdoc />
    public async Task<string> GetLocalPathAsync(string uri, string workDirectory, CancellationToken cancellationToken)
    {
        var (bucket, objectKey) = Parse(uri);
        RequireOwn(uri, bucket, objectKey);

        // Mirror the key under the task's folder: two artifacts never collide, and a second read is free.
        var target = Path.Combine(workDirectory, "s3", bucket, objectKey.Replace('/', Path.DirectorySeparatorChar));
        if (File.Exists(target))
        {
            return target;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var temporary = $"{target}.{Guid.NewGuid():N}.tmp";
        try
        {
            using var response = await _client.GetObjectAsync(bucket, objectKey, cancellationToken);
            await using (var destination = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                await response.ResponseStream.CopyToAsync(destination, cancellationToken);
            }

            File.Move(temporary, target, overwrite: true);
            return target;
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            throw new FileNotFoundException($"Artifact '{uri}' does not exist ({ex.ErrorCode}).", objectKey, ex);
        }
        finally
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
        }
    }

    /// <inheritdoc />
    public Task<string> GetDownloadUrlAsync(string uri, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var (bucket, objectKey) = Parse(uri);
        RequireOwn(uri, bucket, objectKey);
        return _client.GetPreSignedURLAsync(new GetPreSignedUrlRequest
        {
            BucketName = bucket,
            Key = objectKey,
            Verb = HttpVerb.GET,
            Expires = DateTime.UtcNow.AddMinutes(_options.PresignMinutes),

            // The SDK signs an https URL unless told otherwise, even for an http endpoint.
            Protocol = _http ? Protocol.HTTP : Protocol.HTTPS,
        });
    }

    public void Dispose()
    {
        _transfer.Dispose();
        _client.Dispose();
    }

    private static (string Bucket, string Key) Parse(string uri)
    {
        if (!Uri.TryCreate(uri, UriKind.Absolute, out var parsed))
        {
            throw new ArgumentException($"'{uri}' is not an absolute artifact URI.", nameof(uri));
        }

        if (parsed.Scheme != "s3")
        {
            throw new PermanentTaskException($"This worker reads artifacts only from its S3 storage (s3://); '{Quote(uri)}' is not there.");
        }

        var key = Uri.UnescapeDataString(parsed.AbsolutePath.TrimStart('/'));
        if (key.Length == 0)
        {
            throw new ArgumentException($"'{uri}' names no object.", nameof(uri));
        }

        return (parsed.Host, key);
    }

    /// <summary>Confinement: an artifact must be in this store's bucket, under its prefix; anything else fails the task permanently.</summary>
    private void RequireOwn(string uri, string bucket, string objectKey)
    {
        var configured = _options.Prefix.Trim('/');
        var prefix = configured.Length == 0 ? "" : configured + "/";
        if (!string.Equals(bucket, Bucket, StringComparison.Ordinal) || !objectKey.StartsWith(prefix, StringComparison.Ordinal)
            || objectKey.Split('/').Any(part => part is ".." or "."))
        {
            throw new PermanentTaskException($"This worker reads artifacts only from s3://{Bucket}/{prefix}; '{Quote(uri)}' is outside it.");
        }
    }

    private static string Quote(string value) => value.Length <= 200 ? value.ReplaceLineEndings(" ") : value[..200].ReplaceLineEndings(" ") + "…";
}
