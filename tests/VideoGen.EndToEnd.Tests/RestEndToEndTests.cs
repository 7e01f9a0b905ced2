using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Health.V1;
using VideoGen.EndToEnd.Tests.Infrastructure;

namespace VideoGen.EndToEnd.Tests;

/// <summary>
/// The job API over REST/JSON (gRPC JSON transcoding on the coordinator's HTTP/1.1 endpoint), the
/// way curl calls it, and grpc.health.v1 on the gRPC endpoint, against a real local farm.
/// </summary>
public sealed class RestEndToEndTests
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task EveryRoute_Works_AndTheWatchIsNdjsonThatResumes()
    {
        await using var farm = await LocalFarm.StartAsync("rest", new FarmOptions { Workers = 1 });
        using var http = new HttpClient { BaseAddress = new Uri(farm.CoordinatorHttpAddress), Timeout = TimeSpan.FromMinutes(6) };
        http.DefaultRequestHeaders.Authorization = new("Bearer", farm.AdminKey);

        // GET /v1/templates
        using (var templates = await GetJsonAsync(http, "/v1/templates"))
        {
            Assert.True(templates.RootElement.GetProperty("templates").GetArrayLength() > 0);
        }

        // POST /v1/jobs:estimate
        using (var estimate = await PostJsonAsync(http, "/v1/jobs:estimate", """{"job":{"prompt":"a showcase for a lamp","durationSeconds":12}}""", HttpStatusCode.OK))
        {
            Assert.Equal(12, estimate.RootElement.GetProperty("plan").GetProperty("spec").GetProperty("durationSeconds").GetDouble(), 3);
        }

        // A bad field: 400 naming it.
        using (var bad = await PostJsonAsync(http, "/v1/jobs", """{"job":{"prompt":"a showcase","durationSeconds":900}}""", HttpStatusCode.BadRequest))
        {
            Assert.Contains("job.duration_seconds", bad.RootElement.GetRawText());
        }

        // POST /v1/jobs
        string jobId;
        using (var submitted = await PostJsonAsync(http, "/v1/jobs", """{"requestId":"rest-1","job":{"prompt":"a showcase for a lamp","durationSeconds":5}}""", HttpStatusCode.OK))
        {
            Assert.True(submitted.RootElement.GetProperty("created").GetBoolean());
            jobId = submitted.RootElement.GetProperty("job").GetProperty("jobId").GetString()!;
        }

        // GET /v1/jobs/{id}:watch: one JSON object per line until the job ends.
        var events = await WatchAsync(http, $"/v1/jobs/{jobId}:watch");
        Assert.True(events.Count > 2, $"only {events.Count} events");
        var sequences = events.Select(e => Sequence(e)).ToList();
        Assert.Equal(sequences.Order().ToList(), sequences);
        Assert.Contains(events, e => e.TryGetProperty("stateChanged", out var s) && s.GetProperty("state").GetString() == "JOB_STATE_SUCCEEDED");

        // Resume: ?afterSequence=N gives exactly the events after N.
        var middle = sequences[sequences.Count / 2];
        var resumed = await WatchAsync(http, $"/v1/jobs/{jobId}:watch?afterSequence={middle}");
        Assert.Equal(sequences.Where(s => s > middle), resumed.Select(e => Sequence(e)));

        // GET /v1/jobs/{id}
        using (var job = await GetJsonAsync(http, $"/v1/jobs/{jobId}"))
        {
            Assert.Equal("JOB_STATE_SUCCEEDED", job.RootElement.GetProperty("job").GetProperty("state").GetString());
            Assert.True(job.RootElement.GetProperty("job").GetProperty("tasks").GetArrayLength() > 0);
        }

        // The web page, and the job's artifacts for its players: ranges served, only the job's own files.
        using (var page = await http.GetAsync(new Uri("/", UriKind.Relative)).WaitAsync(CallTimeout))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
            Assert.Contains("app.js", await page.Content.ReadAsStringAsync());
        }

        string outputUri;
        using (var job = await GetJsonAsync(http, $"/v1/jobs/{jobId}"))
        {
            outputUri = job.RootElement.GetProperty("job").GetProperty("outputUri").GetString()!;
        }

        using (var range = new HttpRequestMessage(HttpMethod.Get, $"/v1/jobs/{jobId}/artifact?uri={Uri.EscapeDataString(outputUri)}"))
        {
            range.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(0, 99);
            using var partial = await http.SendAsync(range).WaitAsync(CallTimeout);
            Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
            Assert.Equal("video/mp4", partial.Content.Headers.ContentType?.MediaType);
            Assert.Equal(100, (await partial.Content.ReadAsByteArrayAsync()).Length);
        }

        // The artifact route wants a key like every route, and hides other tenants' jobs as GetJob does.
        var artifact = new Uri($"/v1/jobs/{jobId}/artifact?uri={Uri.EscapeDataString(outputUri)}", UriKind.Relative);
        using (var anonymous = new HttpClient { BaseAddress = http.BaseAddress, Timeout = CallTimeout })
        {
            using var unauthorized = await anonymous.GetAsync(artifact).WaitAsync(CallTimeout);
            Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
            anonymous.DefaultRequestHeaders.Authorization = new("Bearer", await farm.CreateKeyAsync("another-tenant"));
            using var hidden = await anonymous.GetAsync(artifact).WaitAsync(CallTimeout);
            Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
        }

        foreach (var foreign in new[] { "file:///etc/passwd", outputUri.Replace("final.mp4", "../../../etc/passwd", StringComparison.Ordinal), outputUri + "x" })
        {
            using var refused = await http.GetAsync(new Uri($"/v1/jobs/{jobId}/artifact?uri={Uri.EscapeDataString(foreign)}", UriKind.Relative)).WaitAsync(CallTimeout);
            Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        }

        // gRPC-Web on the HTTP/1.1 endpoint, as a browser sends it: one length-prefixed message, trailers in the body.
        using (var grpcWeb = new HttpRequestMessage(HttpMethod.Post, "/videogen.v1.JobService/GetJob"))
        {
            var message = new Contracts.V1.GetJobRequest { JobId = jobId }.ToByteArray();
            var frame = new byte[5 + message.Length];
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), message.Length);
            message.CopyTo(frame, 5);
            grpcWeb.Content = new ByteArrayContent(frame);
            grpcWeb.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/grpc-web+proto");
            grpcWeb.Version = HttpVersion.Version11;
            using var answer = await http.SendAsync(grpcWeb).WaitAsync(CallTimeout);
            var bytes = await answer.Content.ReadAsByteArrayAsync();
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            Assert.Equal(0, bytes[0]); // a data frame, then the trailers frame (0x80)
            var length = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(1));
            var reply = Contracts.V1.GetJobResponse.Parser.ParseFrom(bytes, 5, length);
            Assert.Equal(jobId, reply.Job.JobId);
            Assert.Equal(0x80, bytes[5 + length]);
            Assert.Matches(@"grpc-status: ?0\r\n", Encoding.ASCII.GetString(bytes, 5 + length + 5, bytes.Length - (5 + length + 5)));
        }

        // GET /v1/jobs
        using (var list = await GetJsonAsync(http, "/v1/jobs"))
        {
            Assert.Contains(list.RootElement.GetProperty("jobs").EnumerateArray(), j => j.GetProperty("jobId").GetString() == jobId);
        }

        // GET /v1/workers
        using (var workers = await GetJsonAsync(http, "/v1/workers"))
        {
            Assert.Equal(1, workers.RootElement.GetProperty("workers").GetArrayLength());
        }

        // POST /v1/jobs/{id}:cancel on a running job ends it CANCELLED.
        string second;
        using (var submitted = await PostJsonAsync(http, "/v1/jobs", """{"job":{"prompt":"a showcase for a chair","durationSeconds":30}}""", HttpStatusCode.OK))
        {
            second = submitted.RootElement.GetProperty("job").GetProperty("jobId").GetString()!;
        }

        using (var cancelled = await PostJsonAsync(http, $"/v1/jobs/{second}:cancel", "{}", HttpStatusCode.OK))
        {
            Assert.Equal(second, cancelled.RootElement.GetProperty("job").GetProperty("jobId").GetString());
        }

        var secondEvents = await WatchAsync(http, $"/v1/jobs/{second}:watch");
        Assert.Contains(secondEvents, e => e.TryGetProperty("stateChanged", out var s) && s.GetProperty("state").GetString() == "JOB_STATE_CANCELLED");

        // Unknown job: 404.
        using var missing = await http.GetAsync(new Uri("/v1/jobs/no-such-job", UriKind.Relative)).WaitAsync(CallTimeout);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task OpenApiDocument_ListsEveryRoute()
    {
        await using var farm = await LocalFarm.StartAsync("openapi", new FarmOptions { Workers = 0 });
        using var http = new HttpClient { BaseAddress = new Uri(farm.CoordinatorHttpAddress), Timeout = CallTimeout };

        using var document = await GetJsonAsync(http, "/openapi/v1.json");

        var paths = document.RootElement.GetProperty("paths");
        var routes = paths.EnumerateObject().SelectMany(p => p.Value.EnumerateObject().Select(m => $"{m.Name.ToUpperInvariant()} {p.Name}")).ToHashSet();
        foreach (var route in new[]
        {
            "POST /v1/jobs", "POST /v1/jobs:estimate", "GET /v1/jobs", "GET /v1/jobs/{jobId}", "POST /v1/jobs/{jobId}:cancel",
            "GET /v1/jobs/{jobId}:watch", "GET /v1/templates", "GET /v1/workers", "POST /v1/workers/{workerId}:drain",
        })
        {
            Assert.True(routes.Contains(route), $"{route} missing from the OpenAPI document: {string.Join(", ", routes)}");
        }

        // The request schema names the job's fields as the JSON API spells them.
        Assert.Contains("durationSeconds", document.RootElement.GetProperty("components").GetRawText());
    }

    [Fact]
    public async Task Health_IsServing_OnTheGrpcEndpoint()
    {
        await using var farm = await LocalFarm.StartAsync("health", new FarmOptions { Workers = 1 });
        var health = new Health.HealthClient(farm.Channel);

        var reply = await health.CheckAsync(new HealthCheckRequest { Service = "" }, deadline: DateTime.UtcNow.Add(CallTimeout));

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, reply.Status);
    }

    /// <summary>An int64 in proto3 JSON: a string per the spec, a number as the transcoder writes it.</summary>
    private static long Sequence(JsonElement e)
    {
        var value = e.GetProperty("sequence");
        return value.ValueKind == JsonValueKind.String
            ? long.Parse(value.GetString()!, System.Globalization.CultureInfo.InvariantCulture)
            : value.GetInt64();
    }

    private static async Task<JsonDocument> GetJsonAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(new Uri(path, UriKind.Relative)).WaitAsync(CallTimeout);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(body);
    }

    private static async Task<JsonDocument> PostJsonAsync(HttpClient http, string path, string json, HttpStatusCode expected)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(new Uri(path, UriKind.Relative), content).WaitAsync(CallTimeout);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"POST {path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body);
    }

    /// <summary>Reads a watch response line by line: each line one JSON JobEvent.</summary>
    private static async Task<List<JsonElement>> WatchAsync(HttpClient http, string path)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(6));
        using var response = await http.GetAsync(new Uri(path, UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode}");
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token));
        var events = new List<JsonElement>();
        while (await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.Length > 0)
            {
                events.Add(JsonDocument.Parse(line).RootElement.Clone());
            }
        }

        return events;
    }
}
