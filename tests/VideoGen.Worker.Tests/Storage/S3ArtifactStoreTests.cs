using VideoGen.Catalog;
using VideoGen.Worker.Tasks;
using System.Diagnostics;
using System.Security.Cryptography;
using Amazon.S3.Model;
using VideoGen.Contracts;
using VideoGen.TestDoubles;
using VideoGen.Worker.Storage;

namespace VideoGen.Worker.Tests.Storage;

/// <summary>A real S3-compatible server (s3rver) for the tests of one class.</summary>
public sealed class S3ServerFixture : IAsyncLifetime
{
    public S3TestServer Server { get; private set; } = null!;

    public Task InitializeAsync() => StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();

    private async Task StartAsync() => Server = await S3TestServer.StartAsync("videogen-worker-tests");
}

/// <summary><see cref="S3ArtifactStore"/> against a real S3-compatible server; reads are checked with an independent S3 client.</summary>
public sealed class S3ArtifactStoreTests : IClassFixture<S3ServerFixture>, IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private readonly S3TestServer _server;
    private readonly TempFolder _folder = new();

    public S3ArtifactStoreTests(S3ServerFixture fixture)
    {
        _server = fixture.Server;
    }

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Put_EveryArtifactKind_RoundTripsItsBytes_UnderOneKeyScheme()
    {
        using var store = Store(prefix: "farm-a");
        var job = $"job-{Guid.NewGuid():N}"[..16];
        var artifacts = new (string Key, int Size, string ContentType)[]
        {
            (ArtifactKeys.Storyboard(job, 0), 180_000, "image/png"),
            (ArtifactKeys.Chunk(job, 0), 1_500_000, "video/mp4"),
            (ArtifactKeys.LastFrame(job, 0), 200_000, "image/png"),
            (ArtifactKeys.Final(job), 3_000_000, "video/mp4"),
            ($"jobs/{job}/empty.bin", 0, "application/octet-stream"),
        };
        using var client = _server.CreateClient();
        foreach (var (key, size, contentType) in artifacts)
        {
            var local = RandomFile(key.Replace('/', '_'), size);

            var uri = await store.PutAsync(key, local, contentType, Timeout());

            Assert.Equal($"s3://{_server.Bucket}/farm-a/{key}", uri);
            var fetched = await store.GetLocalPathAsync(uri, _folder.File("work"), Timeout());
            Assert.Equal(Sha256(local), Sha256(fetched));

            // The object, as another S3 client sees it.
            using var response = await client.GetObjectAsync(_server.Bucket, $"farm-a/{key}", Timeout());
            using var memory = new MemoryStream();
            await response.ResponseStream.CopyToAsync(memory, Timeout());
            Assert.Equal(Sha256(local), Convert.ToHexString(SHA256.HashData(memory.ToArray())));
            Assert.Equal(contentType, response.Headers.ContentType);
        }

        var listed = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _server.Bucket, Prefix = $"farm-a/jobs/{job}/" }, Timeout());
        Assert.Equal(artifacts.Select(a => $"farm-a/{a.Key}").Order(), listed.S3Objects.Select(o => o.Key).Order());
    }

    [Fact]
    public async Task Put_FileOver16MB_GoesUpInParts_AndRoundTrips()
    {
        using var store = Store();
        var key = $"jobs/job-multipart-{Guid.NewGuid():N}/final.mp4"[..40];
        var local = RandomFile("big.bin", 20 * 1024 * 1024 + 123);
        var stopwatch = Stopwatch.StartNew();

        var uri = await store.PutAsync(key, local, "video/mp4", Timeout());
        var uploadSeconds = stopwatch.Elapsed.TotalSeconds;

        using var client = _server.CreateClient();
        var head = await client.GetObjectMetadataAsync(_server.Bucket, key, Timeout());
        Assert.Equal(new FileInfo(local).Length, head.ContentLength);

        // 20 MiB in 8 MiB parts: an initiate, 3 part uploads and a complete (s3rver's ETag does not show parts).
        var requests = _server.Requests.Where(r => r.Contains(key, StringComparison.Ordinal)).ToList();
        Assert.Single(requests, r => r.StartsWith("POST", StringComparison.Ordinal) && r.Contains("?uploads", StringComparison.Ordinal));
        Assert.Equal(3, requests.Count(r => r.StartsWith("PUT", StringComparison.Ordinal) && r.Contains("partNumber=", StringComparison.Ordinal)));
        Assert.Single(requests, r => r.StartsWith("POST", StringComparison.Ordinal) && r.Contains("uploadId=", StringComparison.Ordinal));
        var fetched = await store.GetLocalPathAsync(uri, _folder.File("work"), Timeout());
        Assert.Equal(Sha256(local), Sha256(fetched));
        Assert.True(uploadSeconds < 30, $"20 MiB took {uploadSeconds:0.0} s");
    }

    [Fact]
    public async Task PresignedUrl_OfTheFinalVideo_DownloadsItWithoutCredentials()
    {
        using var store = Store(prefix: "presign");
        var local = RandomFile("final.mp4", 2_000_000);
        var uri = await store.PutAsync(ArtifactKeys.Final("job-presign"), local, "video/mp4", Timeout());

        var url = await store.GetDownloadUrlAsync(uri, Timeout());

        Assert.StartsWith($"{_server.ServiceUrl}/{_server.Bucket}/presign/jobs/job-presign/final.mp4?", url);
        Assert.Contains("X-Amz-Signature=", url);
        using var http = new HttpClient { Timeout = Bound };
        var bytes = await http.GetByteArrayAsync(url, Timeout());
        Assert.Equal(Sha256(local), Convert.ToHexString(SHA256.HashData(bytes)));
    }

    [Fact]
    public async Task GetLocalPath_MissingObject_ThrowsFileNotFound_AndOtherSchemesAreNotServed()
    {
        using var store = Store();

        await Assert.ThrowsAsync<FileNotFoundException>(() => store.GetLocalPathAsync($"s3://{_server.Bucket}/jobs/nope/final.mp4", _folder.File("work"), Timeout()));
        // Confined to its bucket and prefix: another scheme, another bucket, or a key outside the prefix fails for good.
        await Assert.ThrowsAsync<PermanentTaskException>(() => store.GetLocalPathAsync("file:///tmp/x.mp4", _folder.File("work"), Timeout()));
        await Assert.ThrowsAsync<PermanentTaskException>(() => store.GetLocalPathAsync("https://example.com/x.mp4", _folder.File("work"), Timeout()));
        await Assert.ThrowsAsync<PermanentTaskException>(() => store.GetLocalPathAsync($"s3://{_server.Bucket}-other/jobs/j/final.mp4", _folder.File("work"), Timeout()));
        await Assert.ThrowsAsync<PermanentTaskException>(() => store.GetDownloadUrlAsync($"s3://{_server.Bucket}-other/jobs/j/final.mp4", Timeout()));
        Assert.Throws<ArgumentException>(() => store.ObjectKey("jobs/../etc/passwd"));
    }

    [Fact]
    public void Validation_S3WithoutBucketOrWithHalfTheKeys_FailsNamingTheKeys()
    {
        var failures = StorageOptionsValidation.Validate(new StorageOptions
        {
            Kind = "s3",
            S3 = new S3StorageOptions { Bucket = "", AccessKey = "AKIA", ServiceUrl = "ftp://x", PartSizeMb = 1, PresignMinutes = 0 },
        });

        Assert.Contains(failures, f => f.StartsWith("Storage:S3:Bucket is required", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("Storage:S3:AccessKey and Storage:S3:SecretKey"));
        Assert.Contains(failures, f => f.Contains("Storage:S3:ServiceUrl"));
        Assert.Contains(failures, f => f.Contains("Storage:S3:PartSizeMb"));
        Assert.Contains(failures, f => f.Contains("Storage:S3:PresignMinutes"));
        Assert.Contains("Storage:Kind must be 'local' or 's3'", Assert.Single(StorageOptionsValidation.Validate(new StorageOptions { Kind = "gcs" })));
        Assert.Empty(StorageOptionsValidation.Validate(new StorageOptions { Kind = "s3", S3 = new S3StorageOptions { Bucket = "videogen" } }));
    }

    private S3ArtifactStore Store(string prefix = "") => new(new S3StorageOptions
    {
        Bucket = _server.Bucket,
        Prefix = prefix,
        ServiceUrl = _server.ServiceUrl,
        ForcePathStyle = true,
        AccessKey = S3TestServer.AccessKey,
        SecretKey = S3TestServer.SecretKey,
        PresignMinutes = 10,
    });

    private string RandomFile(string name, int size)
    {
        var path = _folder.File(name);
        var bytes = new byte[size];
        Random.Shared.NextBytes(bytes);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(stream));
    }

    private static CancellationToken Timeout() => new CancellationTokenSource(Bound).Token;
}
