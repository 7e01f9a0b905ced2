using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using VideoGen.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace VideoGen.EndToEnd.Tests;

/// <summary>
/// Static checks of deploy/: the Dockerfiles, the compose files, the Kubernetes manifests and the configs they
/// mount, against each other and the repository (no Docker engine or cluster needed). Each check reads the real
/// files and names the file and the thing that does not match.
/// </summary>
public sealed class DeployFilesTests(ITestOutputHelper output)
{
    private static readonly string DeployDir = Path.Combine(RepoPaths.Root, "deploy");
    private static readonly string DockerDir = Path.Combine(DeployDir, "docker");
    private static readonly string ComposeDir = Path.Combine(DeployDir, "compose");
    private static readonly string K8sDir = Path.Combine(DeployDir, "k8s");
    private static readonly string PrometheusDir = Path.Combine(DeployDir, "prometheus");

    // ---------------------------------------------------------------- YAML

    [Fact]
    public void EveryYamlFileUnderDeploy_Parses()
    {
        var files = Directory.EnumerateFiles(DeployDir, "*.*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".yml", StringComparison.Ordinal) || f.EndsWith(".yaml", StringComparison.Ordinal))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}node_modules{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Order()
            .ToList();
        Assert.True(files.Count >= 15, $"only {files.Count} YAML files under deploy/");
        foreach (var file in files)
        {
            var documents = LoadYaml(file);
            Assert.True(documents.Count > 0 && documents.All(d => d is YamlMappingNode { Children.Count: > 0 }), $"{Rel(file)}: expected one or more non-empty mappings");
        }

        output.WriteLine($"{files.Count} YAML files parse: {string.Join(", ", files.Select(Rel))}");
    }

    // ---------------------------------------------------------------- Dockerfiles

    [Fact]
    public void Dockerfiles_PinTheirImages_RunAsNonRoot_CheckHealth_ExposeTheirPorts_AndCopyWhatExists()
    {
        var dockerfiles = Directory.GetFiles(DockerDir, "*.Dockerfile").Order().ToList();
        Assert.Equal(["coordinator.Dockerfile", "worker.Dockerfile"], dockerfiles.Select(Path.GetFileName));
        var ignore = DockerIgnore.Load(Path.Combine(RepoPaths.Root, ".dockerignore"));
        foreach (var path in dockerfiles)
        {
            var file = Dockerfile.Parse(path);
            var name = Rel(path);

            // Every FROM names a stage of this file or an image pinned to a tag (or digest), never latest.
            var stages = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var from in file.All("FROM"))
            {
                var words = from.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(w => !w.StartsWith("--", StringComparison.Ordinal)).ToList();
                var image = words[0];
                if (!stages.Contains(image))
                {
                    Assert.True(Regex.IsMatch(image, @"^[^:@\s]+(:[\w][\w.-]*|@sha256:[0-9a-f]{64})$") && !image.EndsWith(":latest", StringComparison.Ordinal),
                        $"{name}: FROM {image} is not pinned to a tag");
                }

                if (words.Count >= 3 && words[1].Equals("AS", StringComparison.OrdinalIgnoreCase))
                {
                    stages.Add(words[2]);
                }
            }

            Assert.Contains(file.All("FROM"), f => f.StartsWith("mcr.microsoft.com/dotnet/sdk:10.0", StringComparison.Ordinal));
            Assert.StartsWith("mcr.microsoft.com/dotnet/aspnet:10.0", file.Final("FROM").Single());

            // The image that runs: a non-root USER, a HEALTHCHECK on /healthz of the HTTP port, the two ports exposed.
            var user = file.Final("USER").LastOrDefault();
            Assert.True(user is not null, $"{name}: the final stage sets no USER (it would run as root)");
            Assert.False(user.Split(':')[0] is "root" or "0", $"{name}: USER {user} is root");
            var env = file.Env();
            var grpc = env.Single(e => e.Key.EndsWith("__GrpcUrl", StringComparison.Ordinal));
            var http = env.Single(e => e.Key.EndsWith("__HttpUrl", StringComparison.Ordinal));
            var exposed = file.Final("EXPOSE").SelectMany(e => e.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Select(p => int.Parse(p.Split('/')[0], System.Globalization.CultureInfo.InvariantCulture)).ToHashSet();
            Assert.True(exposed.SetEquals([PortOf(grpc.Value), PortOf(http.Value)]), $"{name}: EXPOSE {string.Join(' ', exposed)} but {grpc.Key}={grpc.Value}, {http.Key}={http.Value}");
            Assert.True(Regex.IsMatch(grpc.Value, @"^http://0\.0\.0\.0:\d+$") && Regex.IsMatch(http.Value, @"^http://0\.0\.0\.0:\d+$"), $"{name}: a container must bind 0.0.0.0 ({grpc.Value}, {http.Value})");
            var health = file.Final("HEALTHCHECK").SingleOrDefault();
            Assert.True(health is not null, $"{name}: no HEALTHCHECK");
            Assert.Contains("/healthz", health);
            Assert.True(health.Contains(http.Key, StringComparison.Ordinal) || health.Contains($":{PortOf(http.Value)}/", StringComparison.Ordinal), $"{name}: the HEALTHCHECK does not hit the HTTP port ({http.Key}): {health}");

            // COPY sources (from the context, the repository root) exist and are not excluded by .dockerignore.
            foreach (var copy in file.All("COPY").Where(c => !c.Contains("--from=", StringComparison.Ordinal)))
            {
                var words = copy.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(w => !w.StartsWith("--", StringComparison.Ordinal)).ToList();
                foreach (var source in words[..^1])
                {
                    var full = Path.Combine(RepoPaths.Root, source);
                    Assert.True(File.Exists(full) || Directory.Exists(full), $"{name}: COPY source {source} does not exist in the repository");
                    Assert.False(ignore.Excludes(source.TrimEnd('/')), $"{name}: COPY source {source} is excluded by .dockerignore");
                }
            }

            // The published project is the one ENTRYPOINT runs.
            var publish = Regex.Match(string.Join('\n', file.All("RUN")), @"dotnet publish (\S+\.csproj)");
            Assert.True(publish.Success, $"{name}: no dotnet publish");
            Assert.True(File.Exists(Path.Combine(RepoPaths.Root, publish.Groups[1].Value)), $"{name}: {publish.Groups[1].Value} does not exist");
            var entrypoint = file.Final("ENTRYPOINT").Single();
            Assert.Contains($"\"{Path.GetFileNameWithoutExtension(publish.Groups[1].Value)}.dll\"", entrypoint);
            Assert.StartsWith("[", entrypoint); // exec form: dotnet is PID 1 and gets SIGTERM
        }
    }

    [Fact]
    public void DockerIgnore_KeepsBuildOutputsAndLocalStateOutOfTheContext()
    {
        var ignore = DockerIgnore.Load(Path.Combine(RepoPaths.Root, ".dockerignore"));
        foreach (var excluded in new[] { "artifacts", "artifacts/bin/VideoGen.Worker/debug/VideoGen.Worker.dll", "coordinator/bin/Debug/x.dll", "worker/obj/project.assets.json", "bin", ".farm/coordinator/videogen.db", "tests/support/s3/node_modules/x/index.js", "node_modules" })
        {
            Assert.True(ignore.Excludes(excluded), $".dockerignore lets {excluded} into the build context");
        }

        foreach (var kept in new[] { "coordinator/Program.cs", "worker/VideoGen.Worker.csproj", "protos/videogen/v1/jobs.proto", "Directory.Packages.props", "global.json", "coordinator/Planning/Templates" })
        {
            Assert.False(ignore.Excludes(kept), $".dockerignore excludes {kept}");
        }
    }

    // ---------------------------------------------------------------- compose

    [Fact]
    public void ComposeFiles_BuildWithTheDockerfiles_MountWhatExists_AndPrometheusScrapesTheirServices()
    {
        var composeFiles = Directory.GetFiles(ComposeDir, "*.yml").Order().ToList();
        Assert.Contains(Path.Combine(ComposeDir, "docker-compose.yml"), composeFiles);
        Assert.Contains(Path.Combine(ComposeDir, "docker-compose.consul.yml"), composeFiles);
        Assert.Contains(Path.Combine(ComposeDir, "docker-compose.standby.yml"), composeFiles);
        foreach (var path in composeFiles)
        {
            var name = Rel(path);
            var compose = Compose.Load(path);
            Assert.NotEmpty(compose.Services);
            foreach (var service in compose.Services)
            {
                var where = $"{name}: service {service.Name}";
                Assert.True(service.Image is not null || service.Dockerfile is not null, $"{where} has neither image nor build");
                if (service.Dockerfile is not null)
                {
                    Assert.True(Directory.Exists(service.Context), $"{where}: build context {service.Context} does not exist");
                    Assert.True(File.Exists(service.Dockerfile), $"{where}: build.dockerfile {service.Dockerfile} does not exist");
                    Assert.Equal(DockerDir, Path.GetDirectoryName(service.Dockerfile));
                }
                else
                {
                    Assert.Matches(@"^[^:\s]+:[\w][\w.-]*$", service.Image!); // pinned, like the Dockerfiles' FROM
                    Assert.DoesNotContain(":latest", service.Image!, StringComparison.Ordinal);
                }

                foreach (var (source, target) in service.Mounts)
                {
                    if (source.StartsWith('.') || source.StartsWith('/'))
                    {
                        var host = Path.GetFullPath(Path.Combine(ComposeDir, source));
                        Assert.True(File.Exists(host) || Directory.Exists(host), $"{where}: bind mount {source} ({host}) does not exist");
                    }
                    else
                    {
                        Assert.True(compose.Volumes.Contains(source), $"{where}: volume {source} (at {target}) is not declared under volumes:");
                    }
                }

                foreach (var dependency in service.DependsOn)
                {
                    Assert.True(compose.Services.Any(s => s.Name == dependency), $"{where} depends on {dependency}, which is not a service");
                }

                // --config.file=… of a container lies in one of its bind mounts and exists on the host.
                foreach (var config in service.Command.Select(c => Regex.Match(c, @"^--config\.file=(\S+)$")).Where(m => m.Success).Select(m => m.Groups[1].Value))
                {
                    Assert.True(service.HostPathOf(config, ComposeDir) is { } host && File.Exists(host), $"{where}: --config.file={config} is not a file mounted from the repository");
                }

                // A VideoGen worker advertises its own service name and gRPC port (the coordinator calls it back there).
                if (service.Dockerfile?.EndsWith("worker.Dockerfile", StringComparison.Ordinal) == true)
                {
                    var advertise = service.Environment.GetValueOrDefault("Worker__AdvertiseAddress");
                    Assert.Equal($"http://{service.Name}:{PortOf(Setting(service, "Worker__GrpcUrl"))}", advertise);
                    Assert.True(service.StopGracePeriodSeconds is { } grace && grace > int.Parse(Setting(service, "DOTNET_SHUTDOWNTIMEOUTSECONDS"), System.Globalization.CultureInfo.InvariantCulture),
                        $"{where}: stop_grace_period must exceed DOTNET_SHUTDOWNTIMEOUTSECONDS so running tasks finish");
                }
            }
        }

        // deploy/prometheus/prometheus.yml's static targets are exactly docker-compose.yml's services on their HTTP ports.
        var direct = Compose.Load(Path.Combine(ComposeDir, "docker-compose.yml"));
        var targets = PrometheusStaticTargets(Path.Combine(PrometheusDir, "prometheus.yml"));
        var expected = new Dictionary<string, string[]>
        {
            ["videogen-coordinator"] = direct.Services.Where(s => s.Dockerfile?.EndsWith("coordinator.Dockerfile", StringComparison.Ordinal) == true)
                .Select(s => $"{s.Name}:{PortOf(Setting(s, "Coordinator__HttpUrl"))}").Order().ToArray(),
            ["videogen-worker"] = direct.Services.Where(s => s.Dockerfile?.EndsWith("worker.Dockerfile", StringComparison.Ordinal) == true)
                .Select(s => $"{s.Name}:{PortOf(Setting(s, "Worker__HttpUrl"))}").Order().ToArray(),
        };
        Assert.Single(expected["videogen-coordinator"]);
        Assert.True(expected["videogen-worker"].Length >= 2);
        foreach (var (job, services) in expected)
        {
            Assert.True(targets.TryGetValue(job, out var actual) && actual.Order().SequenceEqual(services),
                $"prometheus.yml job {job} scrapes [{string.Join(", ", actual ?? [])}], docker-compose.yml serves [{string.Join(", ", services)}]");
        }

        // The Grafana datasource points at the compose Prometheus service.
        var datasource = File.ReadAllText(Path.Combine(DeployDir, "grafana", "provisioning", "datasources", "prometheus.yml"));
        var prometheus = direct.Services.Single(s => s.Image?.StartsWith("prom/prometheus:", StringComparison.Ordinal) == true);
        Assert.Contains($"url: http://{prometheus.Name}:9090", datasource);
        Assert.Contains(direct.Services, s => s.Profiles.Contains("s3") && s.Image?.StartsWith("minio/minio:", StringComparison.Ordinal) == true);
    }

    // ---------------------------------------------------------------- Kubernetes

    [Fact]
    public void KubernetesManifests_AreConsistent_PortsProbesEnvSecretsAndGracePeriod()
    {
        var kustomization = (YamlMappingNode)LoadYaml(Path.Combine(K8sDir, "kustomization.yaml")).Single();
        var resources = Seq(kustomization, "resources").Select(r => Str(r) ?? "").ToList();
        Assert.NotEmpty(resources);
        var documents = new List<(string File, YamlMappingNode Doc)>();
        foreach (var resource in resources)
        {
            var path = Path.Combine(K8sDir, resource);
            Assert.True(File.Exists(path), $"kustomization.yaml lists {resource}, which does not exist");
            documents.AddRange(LoadYaml(path).Cast<YamlMappingNode>().Select(d => (resource, d)));
        }

        foreach (var (file, doc) in documents)
        {
            Assert.True(Str(doc, "apiVersion") is { Length: > 0 } && Str(doc, "kind") is { Length: > 0 } && Str(Map(doc, "metadata"), "name") is { Length: > 0 },
                $"deploy/k8s/{file}: a document lacks apiVersion, kind or metadata.name");
        }

        var imageNames = Seq(kustomization, "images").Cast<YamlMappingNode>().Select(i => Str(i, "name")).ToHashSet();
        var configMaps = documents.Where(d => Str(d.Doc, "kind") == "ConfigMap").ToDictionary(d => Str(Map(d.Doc, "metadata"), "name")!, d => Map(d.Doc, "data"));
        var secret = (YamlMappingNode)LoadYaml(Path.Combine(K8sDir, "secret.example.yaml")).Single();
        Assert.Equal("Secret", Str(secret, "kind"));
        Assert.DoesNotContain("secret.example.yaml", resources); // a template: apply -k must not overwrite real keys
        var secretName = Str(Map(secret, "metadata"), "name");
        var secretKeys = Map(secret, "stringData")?.Children.Keys.Select(Str).ToHashSet() ?? [];

        var workloads = documents.Where(d => Str(d.Doc, "kind") is "Deployment" or "StatefulSet").ToList();
        Assert.Equal(["Deployment/videogen-worker", "StatefulSet/videogen-coordinator"], workloads.Select(w => $"{Str(w.Doc, "kind")}/{Str(Map(w.Doc, "metadata"), "name")}").Order());
        foreach (var (file, workload) in workloads)
        {
            var workloadName = Str(Map(workload, "metadata"), "name");
            var where = $"deploy/k8s/{file}: {workloadName}";
            var template = Map(Map(workload, "spec"), "template");
            var podSpec = Map(template, "spec");
            Assert.Equal(Labels(Map(Map(workload, "spec"), "selector"), "matchLabels").OrderBy(l => l.Key), Labels(Map(template, "metadata"), "labels").Where(l => Labels(Map(Map(workload, "spec"), "selector"), "matchLabels").ContainsKey(l.Key)).OrderBy(l => l.Key));
            var container = Seq(podSpec, "containers").Cast<YamlMappingNode>().Single();
            var image = Str(container, "image");
            Assert.True(image is { Length: > 0 } && imageNames.Contains(image), $"{where}: image '{image}' is not one kustomization.yaml's images: rewrites");

            var env = Seq(container, "env").Cast<YamlMappingNode>().ToList();
            var defined = new HashSet<string>();
            foreach (var variable in env)
            {
                var key = Str(variable, "name")!;
                foreach (Match reference in Regex.Matches(Str(variable, "value") ?? "", @"\$\((\w+)\)"))
                {
                    Assert.True(defined.Contains(reference.Groups[1].Value), $"{where}: {key} uses $({reference.Groups[1].Value}), which is not defined before it (Kubernetes leaves it unexpanded)");
                }

                if (Map(variable, "valueFrom") is { } from && Map(from, "secretKeyRef") is { } secretRef)
                {
                    Assert.Equal(secretName, Str(secretRef, "name"));
                    Assert.True(secretKeys.Contains(Str(secretRef, "key")), $"{where}: {key} reads key {Str(secretRef, "key")}, which secret.example.yaml lacks");
                }

                defined.Add(key);
            }

            string EnvValue(string key) => env.Select(e => (Name: Str(e, "name"), Value: Str(e, "value"))).SingleOrDefault(e => e.Name == key).Value
                ?? throw new Xunit.Sdk.XunitException($"{where}: no env {key}");
            var component = workloadName == "videogen-worker" ? "Worker" : "Coordinator";
            var ports = Seq(container, "ports").Cast<YamlMappingNode>().ToDictionary(p => Str(p, "name")!, p => int.Parse(Str(p, "containerPort")!, System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(PortOf(EnvValue($"{component}__GrpcUrl")), ports["grpc"]);
            Assert.Equal(PortOf(EnvValue($"{component}__HttpUrl")), ports["http"]);

            // Probes: readiness is grpc.health.v1 on the gRPC port (a number: Kubernetes' grpc probes take no port names);
            // startup and liveness GET /healthz on the HTTP port (by name or number).
            Assert.True(Map(container, "readinessProbe") is not null && Map(container, "livenessProbe") is not null, $"{where}: needs a readinessProbe and a livenessProbe");
            Assert.Equal(ports["grpc"].ToString(System.Globalization.CultureInfo.InvariantCulture), Str(Map(Map(container, "readinessProbe"), "grpc"), "port"));
            foreach (var probe in new[] { "startupProbe", "livenessProbe" }.Where(p => Map(container, p) is not null))
            {
                var get = Map(Map(container, probe), "httpGet");
                Assert.Equal("/healthz", Str(get, "path"));
                var port = Str(get, "port")!;
                Assert.True(port == "http" || port == ports["http"].ToString(System.Globalization.CultureInfo.InvariantCulture), $"{where}: {probe} hits port {port}, not the HTTP port");
            }

            var annotations = Labels(Map(template, "metadata"), "annotations");
            Assert.Equal("true", annotations.GetValueOrDefault("prometheus.io/scrape"));
            Assert.Equal(ports["http"].ToString(System.Globalization.CultureInfo.InvariantCulture), annotations.GetValueOrDefault("prometheus.io/port"));
            Assert.Equal("true", Str(Map(podSpec, "securityContext"), "runAsNonRoot"));

            // Mounted ConfigMap keys exist and hold JSON (appsettings overrides).
            var volumes = Seq(podSpec, "volumes").Cast<YamlMappingNode>().ToDictionary(v => Str(v, "name")!);
            foreach (var mount in Seq(container, "volumeMounts").Cast<YamlMappingNode>())
            {
                var volumeName = Str(mount, "name")!;
                if (volumes.TryGetValue(volumeName, out var volume) && Map(volume, "configMap") is { } configMap)
                {
                    Assert.True(configMaps.TryGetValue(Str(configMap, "name")!, out var data), $"{where}: ConfigMap {Str(configMap, "name")} is not in the kustomization");
                    var key = Str(mount, "subPath");
                    Assert.True(key is not null && data!.Children.ContainsKey(key), $"{where}: ConfigMap key {key} does not exist");
                    using var json = JsonDocument.Parse(Str(data!, key)!);
                    Assert.EndsWith(".json", Str(mount, "mountPath"));
                }
                else
                {
                    var claims = Seq(Map(workload, "spec"), "volumeClaimTemplates").Cast<YamlMappingNode>().Select(c => Str(Map(c, "metadata"), "name"));
                    Assert.True(volumes.ContainsKey(volumeName) || claims.Contains(volumeName), $"{where}: volumeMount {volumeName} has no volume");
                }
            }

            if (component == "Worker")
            {
                var podIp = env.Single(e => Str(e, "name") == "POD_IP");
                Assert.Equal("status.podIP", Str(Map(Map(podIp, "valueFrom"), "fieldRef"), "fieldPath"));
                Assert.Equal($"http://$(POD_IP):{ports["grpc"]}", EnvValue("Worker__AdvertiseAddress"));
                var coordinator = Regex.Match(EnvValue("Worker__Coordinator"), @"^http://([\w-]+):(\d+)$");
                Assert.True(coordinator.Success, EnvValue("Worker__Coordinator"));
                var service = documents.Select(d => d.Doc).Single(d => Str(d, "kind") == "Service" && Str(Map(d, "metadata"), "name") == coordinator.Groups[1].Value);
                Assert.Contains(Seq(Map(service, "spec"), "ports").Cast<YamlMappingNode>(), p => Str(p, "port") == coordinator.Groups[2].Value && Str(p, "targetPort") == "grpc");

                // Graceful termination: the pod waits longer than the worker's drain (running tasks finish, then it leaves).
                var grace = int.Parse(Str(podSpec, "terminationGracePeriodSeconds") ?? "30", System.Globalization.CultureInfo.InvariantCulture);
                var drain = int.Parse(EnvValue("DOTNET_SHUTDOWNTIMEOUTSECONDS"), System.Globalization.CultureInfo.InvariantCulture);
                Assert.True(grace >= 60 && grace > drain, $"{where}: terminationGracePeriodSeconds {grace} must be ≥ 60 and above the drain timeout {drain}");
                Assert.NotNull(Map(Map(container, "resources"), "requests"));
            }
            else
            {
                Assert.Equal("1", Str(Map(workload, "spec"), "replicas"));
                var claim = Seq(Map(workload, "spec"), "volumeClaimTemplates").Cast<YamlMappingNode>().Single();
                var dataMount = Seq(container, "volumeMounts").Cast<YamlMappingNode>().Single(m => Str(m, "name") == Str(Map(claim, "metadata"), "name"));
                Assert.Equal(EnvValue("Coordinator__DataDirectory"), Str(dataMount, "mountPath"));
                var governing = documents.Select(d => d.Doc).Single(d => Str(d, "kind") == "Service" && Str(Map(d, "metadata"), "name") == Str(Map(workload, "spec"), "serviceName"));
                Assert.Equal("None", Str(Map(governing, "spec"), "clusterIP"));
            }
        }

        // Every Service selects a workload and its ports land on container ports of that workload.
        foreach (var (file, service) in documents.Where(d => Str(d.Doc, "kind") == "Service"))
        {
            var name = Str(Map(service, "metadata"), "name");
            var selector = Labels(Map(service, "spec"), "selector");
            var targets = workloads.Where(w => selector.All(s => Labels(Map(Map(Map(w.Doc, "spec"), "template"), "metadata"), "labels").GetValueOrDefault(s.Key) == s.Value)).ToList();
            Assert.True(selector.Count > 0 && targets.Count == 1, $"deploy/k8s/{file}: Service {name} selects {targets.Count} workloads");
            var containerPorts = Seq(Map(Map(Map(targets[0].Doc, "spec"), "template"), "spec"), "containers").Cast<YamlMappingNode>()
                .SelectMany(c => Seq(c, "ports").Cast<YamlMappingNode>()).Select(p => (Name: Str(p, "name"), Port: Str(p, "containerPort"))).ToList();
            foreach (var port in Seq(Map(service, "spec"), "ports").Cast<YamlMappingNode>())
            {
                var target = Str(port, "targetPort") ?? Str(port, "port");
                Assert.True(containerPorts.Any(p => p.Name == target || p.Port == target), $"deploy/k8s/{file}: Service {name} port {Str(port, "name")} targets {target}, which no container port of {Str(Map(targets[0].Doc, "metadata"), "name")} is");
                var match = containerPorts.Single(p => p.Name == target || p.Port == target);
                Assert.Equal(match.Port, Str(port, "port")); // one port number inside and outside, as documented
            }
        }

        // The GPU variant: a component patching the worker Deployment with one nvidia.com/gpu.
        var gpuDir = Path.Combine(K8sDir, "components", "gpu");
        var gpu = (YamlMappingNode)LoadYaml(Path.Combine(gpuDir, "kustomization.yaml")).Single();
        Assert.Equal("Component", Str(gpu, "kind"));
        var patch = Seq(gpu, "patches").Cast<YamlMappingNode>().Single();
        Assert.Equal("videogen-worker", Str(Map(patch, "target"), "name"));
        Assert.Contains(workloads, w => Str(w.Doc, "kind") == Str(Map(patch, "target"), "kind") && Str(Map(w.Doc, "metadata"), "name") == "videogen-worker");
        var patchFile = Path.Combine(gpuDir, Str(patch, "path")!);
        Assert.True(File.Exists(patchFile), $"the GPU component's patch {patchFile} does not exist");
        var patchContainer = Seq(Map(Map(Map((YamlMappingNode)LoadYaml(patchFile).Single(), "spec"), "template"), "spec"), "containers").Cast<YamlMappingNode>().Single();
        Assert.Equal("worker", Str(patchContainer, "name")); // strategic merge by container name
        Assert.Equal("1", Str(Map(Map(patchContainer, "resources"), "limits"), "nvidia.com/gpu"));
    }

    [Fact]
    public void StandbyCoordinators_ComposeAndKubernetes_ShareOnePostgresStore_AdvertiseTheirOwnAddresses_AndWorkersReachEither()
    {
        // Compose: every coordinator leads or stands by on the same store and names its own service as the leader;
        // the workers list exactly those addresses.
        var path = Path.Combine(ComposeDir, "docker-compose.standby.yml");
        var compose = Compose.Load(path);
        var coordinators = compose.Services.Where(s => s.Dockerfile?.EndsWith("coordinator.Dockerfile", StringComparison.Ordinal) == true).ToList();
        Assert.True(coordinators.Count >= 2, $"{Rel(path)}: {coordinators.Count} coordinators");
        var advertised = new List<string>();
        foreach (var coordinator in coordinators)
        {
            var where = $"{Rel(path)}: service {coordinator.Name}";
            Assert.Equal("true", Setting(coordinator, "Coordinator__Leadership__Enabled"));
            Assert.Equal("postgres", Setting(coordinator, "JobStore__Kind"));
            Assert.Equal(Setting(coordinators[0], "JobStore__ConnectionString"), Setting(coordinator, "JobStore__ConnectionString"));
            var address = Setting(coordinator, "Coordinator__Leadership__AdvertisedAddress");
            Assert.True(address == $"http://{coordinator.Name}:{PortOf(Setting(coordinator, "Coordinator__GrpcUrl"))}", $"{where}: advertises {address}, not its own service and gRPC port");
            advertised.Add(address);
        }

        // The store the connection string names is the compose PostgreSQL, with its database, user and password.
        var connection = Setting(coordinators[0], "JobStore__ConnectionString").Split(';', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1], StringComparer.OrdinalIgnoreCase);
        var postgres = compose.Services.Single(s => s.Name == connection["Host"]);
        Assert.StartsWith("postgres:", postgres.Image);
        Assert.Equal(connection["Database"], postgres.Environment["POSTGRES_DB"]);
        Assert.Equal(connection["Username"], postgres.Environment["POSTGRES_USER"]);
        Assert.Equal(connection["Password"], postgres.Environment["POSTGRES_PASSWORD"]);
        Assert.All(coordinators, c => Assert.Contains(postgres.Name, c.DependsOn));

        var workers = compose.Services.Where(s => s.Dockerfile?.EndsWith("worker.Dockerfile", StringComparison.Ordinal) == true).ToList();
        Assert.NotEmpty(workers);
        Assert.All(workers, w => Assert.Equal(advertised, Setting(w, "Worker__Coordinator").Split(',')));

        // Kubernetes: a component turns the coordinator StatefulSet into two pods on PostgreSQL, each advertising its
        // pod's stable name under the governing headless Service (a standby's readiness fails, so the Service sends
        // traffic to the leader only).
        var standbyDir = Path.Combine(K8sDir, "components", "standby");
        var component = (YamlMappingNode)LoadYaml(Path.Combine(standbyDir, "kustomization.yaml")).Single();
        Assert.Equal("Component", Str(component, "kind"));
        var patch = Seq(component, "patches").Cast<YamlMappingNode>().Single();
        Assert.Equal(("StatefulSet", "videogen-coordinator"), (Str(Map(patch, "target"), "kind"), Str(Map(patch, "target"), "name")));
        var patchDoc = (YamlMappingNode)LoadYaml(Path.Combine(standbyDir, Str(patch, "path")!)).Single();
        Assert.True(int.Parse(Str(Map(patchDoc, "spec"), "replicas")!, System.Globalization.CultureInfo.InvariantCulture) >= 2);
        var container = Seq(Map(Map(Map(patchDoc, "spec"), "template"), "spec"), "containers").Cast<YamlMappingNode>().Single();
        Assert.Equal("coordinator", Str(container, "name")); // strategic merge by container name
        var env = Seq(container, "env").Cast<YamlMappingNode>().ToList();
        string? Value(string name) => env.Select(e => (Name: Str(e, "name"), Value: Str(e, "value"))).SingleOrDefault(e => e.Name == name).Value;
        Assert.Equal("postgres", Value("JobStore__Kind"));
        Assert.Equal("true", Value("Coordinator__Leadership__Enabled"));

        var statefulSet = LoadYaml(Path.Combine(K8sDir, "coordinator.yaml")).Cast<YamlMappingNode>().Single(d => Str(d, "kind") == "StatefulSet");
        var baseContainer = Seq(Map(Map(Map(statefulSet, "spec"), "template"), "spec"), "containers").Cast<YamlMappingNode>().Single();
        var grpcUrl = Seq(baseContainer, "env").Cast<YamlMappingNode>().Single(e => Str(e, "name") == "Coordinator__GrpcUrl");
        Assert.Equal($"http://$(POD_NAME).{Str(Map(statefulSet, "spec"), "serviceName")}:{PortOf(Str(grpcUrl, "value")!)}", Value("Coordinator__Leadership__AdvertisedAddress"));
        var names = env.Select(e => Str(e, "name")).ToList();
        Assert.True(names.IndexOf("POD_NAME") is >= 0 and var at && at < names.IndexOf("Coordinator__Leadership__AdvertisedAddress"), "POD_NAME must be defined before the address that uses it");
        Assert.Equal("metadata.name", Str(Map(Map(env.Single(e => Str(e, "name") == "POD_NAME"), "valueFrom"), "fieldRef"), "fieldPath"));

        var secretKeys = Map((YamlMappingNode)LoadYaml(Path.Combine(K8sDir, "secret.example.yaml")).Single(), "stringData")!.Children.Keys.Select(Str).ToHashSet();
        var connectionRef = Map(Map(env.Single(e => Str(e, "name") == "JobStore__ConnectionString"), "valueFrom"), "secretKeyRef");
        Assert.True(connectionRef is not null && secretKeys.Contains(Str(connectionRef, "key")), "JobStore__ConnectionString must come from a key of secret.example.yaml");
    }

    [Fact]
    public async Task Kustomize_RendersTheManifests_AndTheGpuVariant_WhenKubectlIsInstalled()
    {
        var kubectl = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(d => Path.Combine(d, "kubectl")).FirstOrDefault(File.Exists);
        if (kubectl is null)
        {
            // Debian's kubectl (kubernetes-client) is 1.20 with a kustomize too old for components; the structural
            // test above covers the manifests without it.
            output.WriteLine("kubectl is not installed: kustomize rendering not checked");
            return;
        }

        // kubectl ≥ 1.21 embeds kustomize ≥ 4 (labels:, components:) and prints its version; older ones do neither.
        var version = Regex.Match((await RunAsync(kubectl, "version", "--client")).Output, @"Kustomize Version: v(\d+)");
        if (!version.Success || int.Parse(version.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) < 4)
        {
            output.WriteLine("this kubectl embeds a kustomize older than v4: kustomize rendering not checked");
            return;
        }

        var rendered = await RenderAsync(kubectl, K8sDir);
        Assert.Equal(["ConfigMap/videogen-config", "Deployment/videogen-worker", "Namespace/videogen", "Service/videogen-coordinator", "Service/videogen-coordinator-headless", "StatefulSet/videogen-coordinator"],
            rendered.Select(d => $"{Str(d, "kind")}/{Str(Map(d, "metadata"), "name")}").Order());
        Assert.All(rendered.Where(d => Str(d, "kind") != "Namespace"), d => Assert.Equal("videogen", Str(Map(d, "metadata"), "namespace")));
        var images = rendered.Where(d => Str(d, "kind") is "Deployment" or "StatefulSet")
            .Select(d => Str(Seq(Map(Map(Map(d, "spec"), "template"), "spec"), "containers").Cast<YamlMappingNode>().Single(), "image")!).ToList();
        Assert.All(images, i => Assert.Matches(@"^[\w.-]+(/[\w.-]+)+:[\w.-]+$", i)); // rewritten by images:, with a tag

        // The GPU component from an overlay outside the repository (kustomize wants relative paths).
        var overlay = RepoPaths.NewTempDirectory("kustomize-gpu");
        await File.WriteAllTextAsync(Path.Combine(overlay, "kustomization.yaml"), $"""
            apiVersion: kustomize.config.k8s.io/v1beta1
            kind: Kustomization
            resources:
              - {Path.GetRelativePath(overlay, K8sDir)}
            components:
              - {Path.GetRelativePath(overlay, Path.Combine(K8sDir, "components", "gpu"))}
            """);
        var gpu = await RenderAsync(kubectl, overlay);
        var worker = gpu.Single(d => Str(d, "kind") == "Deployment");
        var container = Seq(Map(Map(Map(worker, "spec"), "template"), "spec"), "containers").Cast<YamlMappingNode>().Single();
        Assert.Equal("1", Str(Map(Map(container, "resources"), "limits"), "nvidia.com/gpu"));
        Assert.NotNull(Str(Map(Map(container, "resources"), "limits"), "memory")); // merged, not replaced
        Assert.Contains(Seq(container, "env").Cast<YamlMappingNode>(), e => Str(e, "name") == "Worker__AdvertiseAddress");
        output.WriteLine($"kubectl kustomize: {rendered.Count} objects; GPU variant sets nvidia.com/gpu: 1");
    }

    [Fact]
    public async Task Promtool_AcceptsTheKubernetesScrapeConfig()
    {
        // Debian's promtool has no Kubernetes service discovery: it may refuse kubernetes_sd_configs and nothing
        // else; the rest of the file is checked with a file_sd stand-in (as PrometheusTests does for Consul).
        var path = Path.Combine(PrometheusDir, "prometheus-kubernetes.yml");
        var text = await File.ReadAllTextAsync(path);
        Assert.Contains("job_name: videogen-coordinator", text);
        Assert.Contains("job_name: videogen-worker", text);
        Assert.Contains("videogen;worker;http", text); // the labels and port name of deploy/k8s/worker.yaml
        var check = await RunAsync("promtool", "check", "config", path);
        if (check.Code != 0)
        {
            var errors = Regex.Matches(check.Output, @"line \d+: .*").Select(m => m.Value).ToList();
            Assert.True(errors.Count > 0 && errors.All(e => e.Contains("field kubernetes_sd_configs not found", StringComparison.Ordinal)), check.Output);
            var standIn = Regex.Replace(text, @"kubernetes_sd_configs:\n\s+- role: pod\n\s+namespaces:\n\s+names: .*\n", "file_sd_configs:\n      - files: [standin.json]\n");
            Assert.DoesNotContain("kubernetes_sd_configs", standIn);
            var copy = RepoPaths.NewTempDirectory("promtool-k8s");
            foreach (var rules in new[] { "rules.yml", "alerts.yml" })
            {
                File.Copy(Path.Combine(PrometheusDir, rules), Path.Combine(copy, rules));
            }

            await File.WriteAllTextAsync(Path.Combine(copy, "prometheus-kubernetes.yml"), standIn);
            check = await RunAsync("promtool", "check", "config", Path.Combine(copy, "prometheus-kubernetes.yml"));
            output.WriteLine("prometheus-kubernetes.yml: this promtool has no Kubernetes SD; checked with a file_sd stand-in");
        }

        Assert.True(check.Code == 0, $"promtool check config prometheus-kubernetes.yml:\n{check.Output}");
    }

    // ---------------------------------------------------------------- helpers

    private static string Rel(string path) => Path.GetRelativePath(RepoPaths.Root, path);

    private static int PortOf(string url)
    {
        var match = Regex.Match(url, @":(\d+)/?$");
        Assert.True(match.Success, $"no port in {url}");
        return int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A setting of a compose service: its environment, else the ENV default of its Dockerfile.</summary>
    private static string Setting(Compose.Service service, string key) =>
        service.Environment.GetValueOrDefault(key)
        ?? (service.Dockerfile is { } dockerfile ? Dockerfile.Parse(dockerfile).Env().GetValueOrDefault(key) : null)
        ?? throw new Xunit.Sdk.XunitException($"service {service.Name}: {key} is set neither in the compose file nor in its Dockerfile");

    private static Dictionary<string, string[]> PrometheusStaticTargets(string path)
    {
        var config = (YamlMappingNode)LoadYaml(path).Single();
        return Seq(config, "scrape_configs").Cast<YamlMappingNode>().ToDictionary(
            job => Str(job, "job_name")!,
            job => Seq(job, "static_configs").Cast<YamlMappingNode>().SelectMany(s => Seq(s, "targets").Select(Str)).Select(t => t!).ToArray());
    }

    /// <summary>The documents of a YAML file, with anchors, aliases and merge keys (&lt;&lt;) resolved.</summary>
    private static List<YamlNode> LoadYaml(string path)
    {
        var stream = new YamlStream();
        try
        {
            using var reader = new StringReader(File.ReadAllText(path));
            stream.Load(new MergingParser(new Parser(reader)));
        }
        catch (Exception ex) when (ex is YamlException or InvalidOperationException)
        {
            // MergingParser reports some syntax errors as InvalidOperationException: name the file either way.
            throw new Xunit.Sdk.XunitException($"{Rel(path)} is not valid YAML: {ex.Message}");
        }

        return stream.Documents.Select(d => d.RootNode).ToList();
    }

    private static YamlMappingNode? Map(YamlNode? node, string key) =>
        node is YamlMappingNode map && map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value as YamlMappingNode : null;

    private static IEnumerable<YamlNode> Seq(YamlNode? node, string key) =>
        node is YamlMappingNode map && map.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlSequenceNode sequence ? sequence.Children : [];

    private static string? Str(YamlNode? node, string key) =>
        node is YamlMappingNode map && map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? Str(value) : null;

    private static string? Str(YamlNode node) => (node as YamlScalarNode)?.Value;

    private static Dictionary<string, string> Labels(YamlNode? node, string key) =>
        Map(node, key)?.Children.ToDictionary(c => Str(c.Key)!, c => Str(c.Value) ?? "") ?? [];

    private static async Task<List<YamlMappingNode>> RenderAsync(string kubectl, string directory)
    {
        var (code, stdout, stderr) = await RunAsync(kubectl, "kustomize", directory);
        Assert.True(code == 0, $"kubectl kustomize {directory}:\n{stderr}");
        var stream = new YamlStream();
        stream.Load(new StringReader(stdout));
        return stream.Documents.Select(d => (YamlMappingNode)d.RootNode).ToList();
    }

    private static async Task<(int Code, string Output, string Error)> RunAsync(string fileName, params string[] arguments)
    {
        var info = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = RepoPaths.Root };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr, await stderr);
    }

    /// <summary>The instructions of a Dockerfile (continuation lines joined, comments dropped), by stage.</summary>
    private sealed class Dockerfile
    {
        private readonly List<(string Instruction, string Arguments, int Stage)> _lines = [];

        public static Dockerfile Parse(string path)
        {
            var file = new Dockerfile();
            var logical = "";
            var stage = -1;
            foreach (var raw in File.ReadAllLines(path))
            {
                var line = raw.Trim();
                if (line.StartsWith('#') || (line.Length == 0 && logical.Length == 0))
                {
                    continue;
                }

                logical += line.EndsWith('\\') ? line[..^1] + " " : line;
                if (line.EndsWith('\\'))
                {
                    continue;
                }

                var match = Regex.Match(logical.Trim(), @"^(\w+)\s+(.*)$", RegexOptions.Singleline);
                logical = "";
                if (!match.Success)
                {
                    continue;
                }

                var instruction = match.Groups[1].Value.ToUpperInvariant();
                stage += instruction == "FROM" ? 1 : 0;
                file._lines.Add((instruction, Regex.Replace(match.Groups[2].Value, @"\s+", " ").Trim(), stage));
            }

            return file;
        }

        public IEnumerable<string> All(string instruction) => _lines.Where(l => l.Instruction == instruction).Select(l => l.Arguments);

        /// <summary>The instructions of the last stage: the image that runs.</summary>
        public IEnumerable<string> Final(string instruction) => _lines.Where(l => l.Instruction == instruction && l.Stage == _lines.Max(x => x.Stage)).Select(l => l.Arguments);

        public Dictionary<string, string> Env() => Final("ENV")
            .SelectMany(e => Regex.Matches(e, @"(\w+)=(""[^""]*""|\S*)").Select(m => (m.Groups[1].Value, m.Groups[2].Value.Trim('"'))))
            .ToDictionary(p => p.Item1, p => p.Item2);
    }

    /// <summary>The exclusions of a .dockerignore: Go filepath.Match globs plus **, a match on a folder excluding its content, ! re-including.</summary>
    private sealed class DockerIgnore
    {
        private readonly List<(Regex Pattern, bool Exclude)> _rules = [];

        public static DockerIgnore Load(string path)
        {
            Assert.True(File.Exists(path), ".dockerignore is missing at the repository root");
            var ignore = new DockerIgnore();
            foreach (var raw in File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')))
            {
                var exclude = !raw.StartsWith('!');
                var pattern = raw.TrimStart('!').Trim('/');
                var regex = "^" + Regex.Escape(pattern).Replace(@"\*\*/", "(.*/)?").Replace(@"\*\*", ".*").Replace(@"\*", "[^/]*").Replace(@"\?", "[^/]") + "$";
                ignore._rules.Add((new Regex(regex), exclude));
            }

            return ignore;
        }

        public bool Excludes(string relativePath)
        {
            var segments = relativePath.Split('/');
            var excluded = false;
            foreach (var (pattern, exclude) in _rules)
            {
                // A pattern matching the path or one of its parent folders applies; the last matching rule wins.
                if (Enumerable.Range(1, segments.Length).Any(n => pattern.IsMatch(string.Join('/', segments[..n]))))
                {
                    excluded = exclude;
                }
            }

            return excluded;
        }
    }

    /// <summary>The parts of a compose file these checks read.</summary>
    private sealed class Compose
    {
        public List<Service> Services { get; } = [];

        public HashSet<string> Volumes { get; } = [];

        public static Compose Load(string path)
        {
            var root = (YamlMappingNode)LoadYaml(path).Single();
            var compose = new Compose();
            foreach (var volume in Map(root, "volumes")?.Children.Keys.Select(Str) ?? [])
            {
                compose.Volumes.Add(volume!);
            }

            var directory = Path.GetDirectoryName(path)!;
            foreach (var (key, value) in Map(root, "services")!.Children)
            {
                var node = (YamlMappingNode)value;
                var service = new Service { Name = Str(key)!, Image = Str(node, "image") };
                if (Map(node, "build") is { } build)
                {
                    service.Context = Path.GetFullPath(Path.Combine(directory, Str(build, "context") ?? "."));
                    service.Dockerfile = Str(build, "dockerfile") is { } dockerfile ? Path.GetFullPath(Path.Combine(service.Context, dockerfile)) : null;
                    Assert.True(service.Dockerfile is not null, $"{Rel(path)}: service {service.Name} builds without a dockerfile from deploy/docker");
                }

                if (Map(node, "environment") is { } environment)
                {
                    foreach (var (k, v) in environment.Children)
                    {
                        service.Environment[Str(k)!] = Str(v) ?? "";
                    }
                }
                else
                {
                    foreach (var entry in Seq(node, "environment").Select(Str))
                    {
                        var parts = entry!.Split('=', 2);
                        service.Environment[parts[0]] = parts.Length > 1 ? parts[1] : "";
                    }
                }

                foreach (var volume in Seq(node, "volumes"))
                {
                    if (volume is YamlMappingNode longForm)
                    {
                        service.Mounts.Add((Str(longForm, "source")!, Str(longForm, "target")!));
                    }
                    else
                    {
                        var parts = Str(volume)!.Split(':');
                        service.Mounts.Add((parts[0], parts.Length > 1 ? parts[1] : parts[0]));
                    }
                }

                service.DependsOn.AddRange(Map(node, "depends_on")?.Children.Keys.Select(k => Str(k)!) ?? Seq(node, "depends_on").Select(d => Str(d)!));
                service.Command.AddRange(Seq(node, "command").Select(c => Str(c) ?? ""));
                service.Profiles.AddRange(Seq(node, "profiles").Select(p => Str(p)!));
                if (Str(node, "stop_grace_period") is { } grace)
                {
                    var match = Regex.Match(grace, @"^(\d+)(s|m)?$");
                    Assert.True(match.Success, $"{Rel(path)}: service {service.Name}: stop_grace_period {grace} is not N[s|m]");
                    service.StopGracePeriodSeconds = int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) * (match.Groups[2].Value == "m" ? 60 : 1);
                }

                compose.Services.Add(service);
            }

            return compose;
        }

        public sealed class Service
        {
            public required string Name { get; init; }

            public string? Image { get; init; }

            public string Context { get; set; } = "";

            public string? Dockerfile { get; set; }

            public Dictionary<string, string> Environment { get; } = [];

            public List<(string Source, string Target)> Mounts { get; } = [];

            public List<string> DependsOn { get; } = [];

            public List<string> Command { get; } = [];

            public List<string> Profiles { get; } = [];

            public int? StopGracePeriodSeconds { get; set; }

            /// <summary>The host path of a container path inside one of this service's bind mounts.</summary>
            public string? HostPathOf(string containerPath, string composeDirectory)
            {
                foreach (var (source, target) in Mounts.Where(m => m.Source.StartsWith('.') || m.Source.StartsWith('/')))
                {
                    if (containerPath == target || containerPath.StartsWith(target.TrimEnd('/') + "/", StringComparison.Ordinal))
                    {
                        return Path.GetFullPath(Path.Combine(composeDirectory, source, containerPath[target.Length..].TrimStart('/')));
                    }
                }

                return null;
            }
        }
    }
}
