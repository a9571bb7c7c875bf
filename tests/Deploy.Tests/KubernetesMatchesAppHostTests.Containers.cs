using Reference.Contracts;
using Reference.Deploy.Tests.Support;
using Reference.Tests.Support;
using static Reference.Deploy.Tests.Support.KubernetesManifests;

namespace Reference.Deploy.Tests;

/// <summary>The containers: backing images and data, service images and memory, requests, probes, an unprivileged read-only root.</summary>
public sealed partial class KubernetesMatchesAppHostTests
{
    [Fact]
    public void Backing_StatefulSets_use_the_same_images_arguments_settings_and_data_folders()
    {
        foreach (var resource in AppHostContainers)
        {
            var container = Manifest[resource];
            var statefulSet = Cluster.Get("StatefulSet", resource);
            var pod = Container(statefulSet);
            var commandLine = List(pod, "command").Concat(List(pod, "args")).Cast<string>().ToList();
            var environment = Cluster.Environment(pod);

            Assert.Equal(WithoutDefaultRegistry((string)container["image"]!), Str(pod, "image"));
            // Server options (--innodb-flush-log-at-trx-commit=1, --appendonly, ...) are durability settings.
            Assert.All(Manifest.Args(resource).Where(a => a.StartsWith("--")), arg => Assert.Contains(arg, commandLine));
            Assert.All(Manifest.Volumes(resource), volume =>
                Assert.Contains(List(Map(statefulSet, "spec"), "volumeClaimTemplates").Cast<Dictionary<object, object?>>(),
                    claim => MountPath(pod, Str(claim, "metadata", "name")!) == volume.Target));

            if (container["entrypoint"] is { } entrypoint)
            {
                // The AppHost runs its own script (sh /storefront/redis.sh ...): the cluster runs the same
                // command line, with the same script mounted where the AppHost binds its folder.
                Assert.Equal(new[] { (string)entrypoint! }.Concat(Manifest.Args(resource)), commandLine);
                foreach (var mount in container["bindMounts"]!.AsArray())
                {
                    var (kind, source) = VolumeSource(statefulSet, VolumeMountedAt(pod, (string)mount!["target"]!));
                    Assert.Equal("configMap", kind);
                    var copies = Map(Cluster.Get("ConfigMap", Str(source, "name")!), "data");
                    var script = Path.GetFileName(Manifest.Args(resource)[0]);
                    var folder = Path.Combine(RepoPaths.Root, "AppHost", "LocalServers");
                    // Every script the AppHost's folder holds for it, file for file (rabbitmq-container.sh runs rabbitmq-definitions.sh).
                    Assert.Contains(script, copies.Keys.Cast<string>());
                    Assert.All(copies, copy => Assert.True(
                        File.ReadAllText(Path.Combine(folder, (string)copy.Key)) == (string?)copy.Value,
                        $"{Str(source, "name")}: {copy.Key} differs from AppHost/LocalServers/{copy.Key}; copy it again"));
                }
            }

            foreach (var (key, value) in Manifest.Environment(resource))
            {
                Assert.True(environment.TryGetValue(key, out var actual), $"{resource}: {key} is missing in the cluster");
                Assert.Equal(Manifest.Resolve(value), actual);
            }

            // Clients use the resource name as host (the connection strings): a Service by that name reaches each binding.
            Assert.All(Manifest[resource]["bindings"]!.AsObject(), binding =>
                AssertServiceReaches(resource, (int)binding.Value!["targetPort"]!));
        }
    }

    [Fact]
    public void Services_run_the_compose_images_and_get_the_compose_memory()
    {
        foreach (var workload in WorkloadsAndJobs)
        {
            var name = Name(workload);
            var compose = Compose.Services.GetValueOrDefault(name) ?? Compose.Services[name + "-1"];
            var container = Container(workload);

            Assert.Equal(compose.Image, Str(container, "image"));
            Assert.Equal(Quantity(compose.MemoryLimit!, binarySuffixes: true), Quantity(Str(container, "resources", "limits", "memory")!));
        }
    }

    [Fact]
    public void Every_container_has_requests_within_its_limits()
    {
        Assert.All(WorkloadsAndJobs, workload =>
        {
            var resources = Map(Container(workload), "resources");
            foreach (var kind in new[] { "cpu", "memory" })
            {
                var request = Str(resources, "requests", kind);
                var limit = Str(resources, "limits", kind);
                Assert.True(request is not null && limit is not null, $"{Name(workload)}: no {kind} request or limit");
                Assert.True(Quantity(request) <= Quantity(limit), $"{Name(workload)}: {kind} request {request} above its limit {limit}");
            }
        });
    }

    [Fact]
    public void Every_service_is_ready_on_health_and_alive_on_alive()
    {
        foreach (var service in AppHostServices)
        {
            var container = Container(Cluster.Get("Deployment", service.Key));
            var port = List(container, "ports").Cast<Dictionary<object, object?>>().Single();

            Assert.Equal(AppHostManifest.ServicePort.ToString(), port["containerPort"]);
            Assert.Equal(HealthEndpoints.HealthPath, Str(container, "readinessProbe", "httpGet", "path"));
            Assert.Equal(HealthEndpoints.AlivePath, Str(container, "livenessProbe", "httpGet", "path"));
            // A slow start (migrations) is the startup probe's to wait for, on /alive too: never on a dependency.
            Assert.Equal(HealthEndpoints.AlivePath, Str(container, "startupProbe", "httpGet", "path"));
            Assert.All(new[] { "readinessProbe", "livenessProbe", "startupProbe" }, probe =>
                Assert.Equal(port["name"], Str(container, probe, "httpGet", "port")));
        }

        Assert.All(AppHostContainers, name =>
        {
            var container = Container(Cluster.Get("StatefulSet", name));
            Assert.True(container.ContainsKey("readinessProbe") && container.ContainsKey("livenessProbe"), $"{name} lacks a probe");
        });
    }

    [Fact]
    public void Services_run_unprivileged_on_a_read_only_root_filesystem_with_a_scratch_tmp()
    {
        Assert.All(AppHostServices, service =>
        {
            var deployment = Cluster.Get("Deployment", service.Key);
            var container = Container(deployment);

            Assert.Equal("true", Str(PodSpec(deployment), "securityContext", "runAsNonRoot"));
            Assert.Equal("true", Str(container, "securityContext", "readOnlyRootFilesystem"));
            Assert.Equal("false", Str(container, "securityContext", "allowPrivilegeEscalation"));
            Assert.Equal("emptyDir", VolumeSource(deployment, VolumeMountedAt(container, "/tmp")).Key);
        });
    }
}
