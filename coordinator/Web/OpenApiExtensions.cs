using Microsoft.OpenApi.Models;

namespace VideoGen.Coordinator.Web;

/// <summary>
/// The OpenAPI document of the REST/JSON routes (the google.api.http annotations of jobs.proto), generated from the
/// contract by Microsoft.AspNetCore.Grpc.Swagger and served at <c>/openapi/v1.json</c> on both endpoints.
/// </summary>
public static class OpenApiExtensions
{
    public const string DocumentPath = "/openapi/v1.json";

    public static IServiceCollection AddRestOpenApi(this IServiceCollection services)
    {
        services.AddGrpcSwagger();
        services.AddSwaggerGen(o => o.SwaggerDoc("v1", new OpenApiInfo
        {
            Title = "VideoGen job API",
            Version = "v1",
            Description = "REST/JSON transcoding of videogen.v1.JobService (see protos/videogen/v1/jobs.proto). "
                + "Errors are google.rpc.Status JSON; a bad field carries google.rpc.BadRequest naming it. "
                + "GET /v1/jobs/{job_id}:watch streams one JobEvent JSON object per line.",
        }));
        return services;
    }

    public static WebApplication MapRestOpenApi(this WebApplication app)
    {
        app.UseSwagger(o => o.RouteTemplate = "openapi/{documentName}.json");
        return app;
    }
}
