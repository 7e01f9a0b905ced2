using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Persistence;
using VideoGen.Errors;

namespace VideoGen.Coordinator.Web;

/// <summary>
/// The web page (static files shipped in <c>Web/Page</c>, no build step) at <c>/</c>, and the artifacts of a job for its
/// players: <c>GET /v1/jobs/{jobId}/artifact?uri=file://…</c> serves one of the job's own outputs (the final video, a
/// deliverable, a task's output such as a storyboard frame) from the local artifact store (<c>Storage:LocalRoot</c>),
/// with range requests so a video element can seek. Anything else is 404: a URI the job does not list, a path outside the
/// store's root, an S3 artifact (the page plays those from their presigned <c>url</c>). The route takes the caller's API
/// key like every other route (<c>Authorization: Bearer</c>; 401 without a valid one) and answers 404 for a job of
/// another tenant, as GetJob does; the page fetches artifacts with its key and plays them from blob URLs.
/// </summary>
public static class WebPageExtensions
{
    public static WebApplication MapWebPage(this WebApplication app)
    {
        var page = new PhysicalFileProvider(Path.Combine(AppContext.BaseDirectory, "Web", "Page"));
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = page });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = page,
            OnPrepareResponse = c => c.Context.Response.Headers.CacheControl = "no-cache",
        });

        var root = Path.GetFullPath(app.Configuration["Storage:LocalRoot"] is { Length: > 0 } configured ? configured : ".farm/artifacts");
        var types = new FileExtensionContentTypeProvider();
        app.MapGet("/v1/jobs/{jobId}/artifact", (string jobId, string? uri, HttpContext http, IJobStore store, Access.ApiKeyAuthenticator keys) =>
        {
            var headers = new Grpc.Core.Metadata();
            if (http.Request.Headers.Authorization.ToString() is { Length: > 0 } authorization)
            {
                headers.Add("authorization", authorization);
            }

            Access.Caller caller;
            try
            {
                caller = keys.Authenticate(headers, "/v1/jobs/{jobId}/artifact");
            }
            catch (Grpc.Core.RpcException e) when (e.StatusCode == Grpc.Core.StatusCode.Unauthenticated)
            {
                return Results.Text(e.Status.Detail, statusCode: StatusCodes.Status401Unauthorized);
            }

            try
            {
                Services.InputText.RequireId("job_id", jobId);
            }
            catch (RequestValidationException)
            {
                return Results.NotFound();
            }

            var job = store.Get(jobId);
            if (job is null || !caller.Sees(job.Request.Tenant) || string.IsNullOrEmpty(uri) || !ArtifactUris(job).Contains(uri))
            {
                return Results.NotFound();
            }

            if (!Uri.TryCreate(uri, UriKind.Absolute, out var parsed) || !parsed.IsFile)
            {
                return Results.NotFound();
            }

            var path = Path.GetFullPath(parsed.LocalPath);
            if (!path.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal) || !File.Exists(path))
            {
                return Results.NotFound();
            }

            var type = types.TryGetContentType(path, out var known) ? known : "application/octet-stream";
            return Results.File(path, type, enableRangeProcessing: true);
        });
        return app;
    }

    private static HashSet<string> ArtifactUris(Job job)
    {
        var uris = new HashSet<string>(StringComparer.Ordinal) { job.OutputUri };
        uris.UnionWith(job.Deliverables.Select(d => d.Uri));
        uris.UnionWith(job.Tasks.Select(t => t.OutputUri));
        uris.Remove("");
        return uris;
    }
}
