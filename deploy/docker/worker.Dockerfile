# syntax=docker/dockerfile:1
# A VideoGen worker: task streaming over gRPC (7100), /metrics and /healthz over HTTP/1.1 (7101), FFmpeg,
# artifacts in /artifacts (Storage:Kind=local) or S3. Build from the repository root:
#   docker build -f deploy/docker/worker.Dockerfile -t videogen-worker:local .
#   docker run --rm -e Worker__Coordinator=http://coordinator:7070 \
#     -e Worker__AdvertiseAddress=http://THIS-HOST:7100 -p 7100:7100 -p 7101:7101 videogen-worker:local
# Worker__AdvertiseAddress is the address the coordinator calls back: set it to a name or IP the coordinator
# reaches (a compose service name, the pod IP). See deploy/README.md.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore first: this layer is rebuilt only when a project file or a package version changes.
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY protos/VideoGen.Contracts.csproj protos/
COPY libs/VideoGen.Catalog/VideoGen.Catalog.csproj libs/VideoGen.Catalog/
COPY libs/VideoGen.Consul/VideoGen.Consul.csproj libs/VideoGen.Consul/
COPY libs/VideoGen.Security/VideoGen.Security.csproj libs/VideoGen.Security/
COPY worker/VideoGen.Worker.csproj worker/
RUN dotnet restore worker/VideoGen.Worker.csproj
COPY protos/ protos/
COPY libs/ libs/
COPY worker/ worker/
RUN dotnet publish worker/VideoGen.Worker.csproj -c Release --no-restore -o /out -p:UseAppHost=false

# .NET 10's aspnet:10.0 is Ubuntu 24.04 (there are no Debian images for .NET 10): FFmpeg comes from its apt
# (ffmpeg and ffprobe on PATH, where FFMpegCore looks; the finish step's title font; espeak-ng for voiceovers); curl is for HEALTHCHECK.
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg fonts-dejavu-core espeak-ng curl \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /out ./
# The local artifact store (shared by every worker: mount one volume here on all of them).
RUN mkdir -p /artifacts && chown "$APP_UID:$APP_UID" /artifacts

# DOTNET_SHUTDOWNTIMEOUTSECONDS bounds the drain on SIGTERM: the worker takes no new task, lets the running
# ones finish, then leaves. Give the container longer than this to stop (compose stop_grace_period,
# Kubernetes terminationGracePeriodSeconds); raise both for slow models.
ENV ASPNETCORE_HTTP_PORTS= \
    Worker__GrpcUrl=http://0.0.0.0:7100 \
    Worker__HttpUrl=http://0.0.0.0:7101 \
    Storage__LocalRoot=/artifacts \
    DOTNET_SHUTDOWNTIMEOUTSECONDS=120
VOLUME ["/artifacts"]
EXPOSE 7100 7101

# The image's non-root "app" user (uid 1654, $APP_UID): numeric, so Kubernetes' runAsNonRoot can check it.
USER $APP_UID

# /healthz on the HTTP port, whatever Worker__HttpUrl says (200 while draining too: it is alive).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD port="${Worker__HttpUrl##*:}"; curl -fsS -o /dev/null "http://127.0.0.1:${port%%/*}/healthz" || exit 1

# exec form: dotnet is PID 1 and gets SIGTERM (docker stop, Kubernetes) and drains.
ENTRYPOINT ["dotnet", "VideoGen.Worker.dll"]
