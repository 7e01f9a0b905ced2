# syntax=docker/dockerfile:1
# The VideoGen coordinator: job API and membership over gRPC (7070), /metrics and /healthz over HTTP/1.1 (7079),
# the SQLite job store in /data. Build from the repository root (the context .dockerignore applies to):
#   docker build -f deploy/docker/coordinator.Dockerfile -t videogen-coordinator:local .
#   docker run --rm -p 7070:7070 -p 7079:7079 -v videogen-data:/data videogen-coordinator:local
# Every setting is an environment variable (Coordinator__GrpcUrl, Scheduling__MaxAttempts, Planner__Kind,
# Membership__Mode, OPENAI_API_KEY…; README.md "Configuration"). See deploy/README.md.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore first: this layer is rebuilt only when a project file or a package version changes.
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY protos/VideoGen.Contracts.csproj protos/
COPY libs/VideoGen.Catalog/VideoGen.Catalog.csproj libs/VideoGen.Catalog/
COPY libs/VideoGen.Consul/VideoGen.Consul.csproj libs/VideoGen.Consul/
COPY libs/VideoGen.Security/VideoGen.Security.csproj libs/VideoGen.Security/
COPY coordinator/VideoGen.Coordinator.csproj coordinator/
RUN dotnet restore coordinator/VideoGen.Coordinator.csproj
COPY protos/ protos/
COPY libs/ libs/
COPY coordinator/ coordinator/
RUN dotnet publish coordinator/VideoGen.Coordinator.csproj -c Release --no-restore -o /out -p:UseAppHost=false

# .NET 10's aspnet:10.0 is Ubuntu 24.04 (there are no Debian images for .NET 10); curl is for HEALTHCHECK.
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /out ./
# The job store; a named volume mounted here starts out owned by the app user.
RUN mkdir -p /data && chown "$APP_UID:$APP_UID" /data

# Bind every interface inside the container; ASPNETCORE_HTTP_PORTS is emptied so Kestrel listens only
# on the two endpoints the coordinator configures.
ENV ASPNETCORE_HTTP_PORTS= \
    Coordinator__GrpcUrl=http://0.0.0.0:7070 \
    Coordinator__HttpUrl=http://0.0.0.0:7079 \
    Coordinator__DataDirectory=/data
VOLUME ["/data"]
EXPOSE 7070 7079

# The image's non-root "app" user (uid 1654, $APP_UID): numeric, so Kubernetes' runAsNonRoot can check it.
USER $APP_UID

# /healthz on the HTTP port, whatever Coordinator__HttpUrl says.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD port="${Coordinator__HttpUrl##*:}"; curl -fsS -o /dev/null "http://127.0.0.1:${port%%/*}/healthz" || exit 1

# exec form: dotnet is PID 1 and gets SIGTERM (docker stop, Kubernetes), and shuts down cleanly.
ENTRYPOINT ["dotnet", "VideoGen.Coordinator.dll"]
