using System.Text.RegularExpressions;
using Reference.Contracts;
using Reference.Deploy.Tests.Support;
using Reference.Tests.Support;
using static Reference.Deploy.Tests.Support.KubernetesManifests;

namespace Reference.Deploy.Tests;

/// <summary>Renders and schema-checks deploy/k8s once (check.sh) for the tests below.</summary>
public sealed class KubernetesFixture : IAsyncLifetime
{
    private readonly string directory = System.IO.Directory.CreateTempSubdirectory("storefront-k8s-").FullName;

    public KubernetesManifests Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        // The first run installs kubectl, Node.js and the schema packages when they are missing.
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        Cluster = await RenderAsync(Path.Combine(directory, "rendered.yaml"), timeout.Token);
    }

    public Task DisposeAsync()
    {
        System.IO.Directory.Delete(directory, recursive: true);
        return Task.CompletedTask;
    }
}

/// <summary>
/// deploy/k8s must not drift from the AppHost (nor from deploy/compose.yaml where the AppHost
/// says nothing, as for images and memory): the same resources under the same names, every
/// service given the same configuration, secrets only from the Secret, and the image workers
/// scaled by KEDA on their queue with the single-server scheduler's policy.
/// </summary>
public sealed partial class KubernetesMatchesAppHostTests(ManifestFixture manifestFixture, KubernetesFixture kubernetesFixture)
    : IClassFixture<ManifestFixture>, IClassFixture<KubernetesFixture>
{
    /// <summary>Issue 15's scheduler: Scaling:MinWorkers defaults to 0, Scaling:IdleTimeout to 5 minutes.</summary>
    private const int MinWorkers = 0;

    private static readonly TimeSpan IdleTimeout = TimeSpan.FromMinutes(5);

    private const string ImagesClaim = "images";

    private AppHostManifest Manifest => manifestFixture.Manifest;

    private ComposeFile Compose => manifestFixture.Compose;

    private KubernetesManifests Cluster => kubernetesFixture.Cluster;

    private IEnumerable<string> AppHostContainers => Manifest.Names("container.v0");

    /// <summary>The AppHost's services, replicas as one: <c>inventoryapi-1</c> and <c>-2</c> are <c>inventoryapi</c>.</summary>
    private IEnumerable<IGrouping<string, string>> AppHostServices =>
        Manifest.Names("project.v0").Except(AppHostSetups).GroupBy(r => ReplicaOf(r) ?? r);

    /// <summary>
    /// The one-shot database set-ups (<c>inventorydb-setup</c>: a service's image run with <c>--migrate</c>,
    /// which its replicas wait for): they run to completion, so in the cluster they are Jobs.
    /// </summary>
    private IEnumerable<string> AppHostSetups =>
        Manifest.Names("project.v0").Where(r => Manifest.Args(r).Contains("--migrate"));

    /// <summary>Deployments, StatefulSets and the set-ups' Jobs.</summary>
    private IEnumerable<Dictionary<object, object?>> WorkloadsAndJobs => Cluster.Workloads.Concat(Cluster.OfKind("Job"));

    [Fact]
    public void The_manifests_render_and_pass_the_Kubernetes_and_KEDA_schemas()
    {
        Assert.True(Cluster.Check.Succeeded, $"check.sh failed (exit {Cluster.Check.ExitCode}):\n{Cluster.Check.Output}\n{Cluster.Check.Errors}");
        var valid = Cluster.Check.Output.Split('\n').Count(line => line.StartsWith("valid "));
        Assert.Equal(Cluster.Resources.Count, valid);
    }

    [Fact]
    public async Task The_schema_check_rejects_what_a_cluster_would_reject()
    {
        // The same validator on resources a cluster refuses: a Deployment without a selector, a
        // probe without a port, a quantity that is not one, a ScaledObject with a word for a number.
        var broken = Path.Combine(SchemaDirectory, "broken.yaml");
        File.WriteAllText(broken, """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: broken}
            spec:
              template:
                spec:
                  containers:
                    - name: app
                      image: app
                      readinessProbe: {httpGet: {path: /health}}
                      resources: {limits: {memory: lots}}
            ---
            apiVersion: keda.sh/v1alpha1
            kind: ScaledObject
            metadata: {name: broken}
            spec:
              scaleTargetRef: {name: broken}
              minReplicaCount: none
              triggers: [{type: rabbitmq, metadata: {value: 2}}]
            ---
            apiVersion: example.com/v1
            kind: Unknown
            metadata: {name: unknown}
            """);

        var result = await new Shell(NullOutput.Instance).RunAsync(
            "node", [Path.Combine(SchemaDirectory, "validate.mjs"), broken], CancellationToken.None, check: false, quiet: true);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("INVALID apps/v1 Deployment/broken", result.Output);
        Assert.Contains("must have required property selector", result.Output);
        Assert.Contains("must have required property port", result.Output);
        Assert.Contains("memory must match format \"quantity\"", result.Output);
        Assert.Contains("INVALID keda.sh/v1alpha1 ScaledObject/broken", result.Output);
        Assert.Contains("minReplicaCount must be integer", result.Output);
        Assert.Contains("NO SCHEMA example.com/v1 Unknown/unknown", result.Output);
    }

    [Fact]
    public void Every_AppHost_container_is_a_StatefulSet_and_every_service_a_Deployment()
    {
        Assert.All(AppHostContainers, name => Assert.NotNull(Cluster.Find("StatefulSet", name)));
        Assert.All(AppHostServices, service => Assert.NotNull(Cluster.Find("Deployment", service.Key)));
        Assert.NotEmpty(AppHostSetups);
        Assert.All(AppHostSetups, setup => Assert.NotNull(Cluster.Find("Job", setup)));
    }

    [Fact]
    public void Each_database_setup_is_a_Job_that_runs_its_service_image_once_with_the_AppHost_arguments_and_settings()
    {
        foreach (var setup in AppHostSetups)
        {
            var job = Cluster.Get("Job", setup);
            var container = Container(job);
            var expected = ExpectedSettings(setup);
            var actual = ServiceSettings(container);

            // Run to completion: retried on failure (MySQL still starting), never restarted once done.
            Assert.Contains(Str(PodSpec(job), "restartPolicy"), new[] { "OnFailure", "Never" });
            Assert.Equal(Manifest.Args(setup), List(container, "args").Cast<string>());
            // The image of the service it sets up: the one compose runs for this set-up.
            Assert.Equal(Compose.Services[setup].Image, Str(container, "image"));
            Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
            Assert.All(expected, e => Assert.True(e.Value == actual[e.Key], $"{setup}: {e.Key} is\n  {actual[e.Key]}\nin the cluster, but\n  {e.Value}\nfrom the AppHost"));
            Assert.Equal("true", Str(PodSpec(job), "securityContext", "runAsNonRoot"));
            Assert.Equal("true", Str(container, "securityContext", "readOnlyRootFilesystem"));
            Assert.Equal("false", Str(container, "securityContext", "allowPrivilegeEscalation"));
        }
    }

    [Fact]
    public void The_cluster_runs_nothing_the_AppHost_does_not()
    {
        var resources = AppHostContainers.Concat(AppHostServices.Select(s => s.Key)).ToHashSet();

        Assert.All(Cluster.Workloads.Select(Name), name => Assert.Contains(name, resources));
        // Jobs only for the AppHost's one-shot set-ups.
        Assert.Equal(AppHostSetups.Order(), Cluster.OfKind("Job").Select(Name).Order());
        Assert.Empty(Cluster.OfKind("DaemonSet").Concat(Cluster.OfKind("CronJob")));
    }

    [Fact]
    public void Each_service_runs_at_least_as_many_replicas_as_in_the_AppHost()
    {
        foreach (var service in AppHostServices)
        {
            var deployment = Cluster.Get("Deployment", service.Key);
            var scaledObject = ScaledObjectFor(service.Key);
            var replicas = scaledObject is not null
                ? int.Parse(Str(scaledObject, "spec", "maxReplicaCount")!)
                : int.Parse(Str(deployment, "spec", "replicas") ?? "1");

            Assert.True(replicas >= service.Count(), $"{service.Key}: at most {replicas} replicas in the cluster, {service.Count()} in the AppHost");
        }
    }

    [Fact]
    public void Each_service_gets_the_same_settings_as_from_the_AppHost()
    {
        foreach (var service in AppHostServices)
        {
            var deployment = Cluster.Get("Deployment", service.Key);
            var container = Container(deployment);
            var expected = ExpectedSettings(service.First());
            var actual = ServiceSettings(container);

            Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
            foreach (var (key, value) in expected)
            {
                if (key == "Storage__Root")
                {
                    // A host folder in the AppHost; in the cluster, the shared images volume mounted at that path.
                    Assert.Equal(ImagesClaim, ClaimMountedAt(deployment, actual[key]));
                    continue;
                }

                if (ServiceAddressPattern().Match(key) is { Success: true } address)
                {
                    // One address per API in the cluster: its Service, which balances across the replicas.
                    var api = address.Groups[1].Value;
                    Assert.Equal($"http://{api}:{AppHostManifest.ServicePort}", actual[key]);
                    AssertServiceReaches(api, AppHostManifest.ServicePort);
                    continue;
                }

                Assert.True(value == actual[key], $"{service.Key}: {key} is\n  {actual[key]}\nin the cluster, but\n  {value}\nfrom the AppHost");
            }
        }
    }

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

    [Fact]
    public void Only_what_the_AppHost_exposes_is_reachable_from_outside_through_the_Ingress()
    {
        var external = Manifest.Bindings().Where(b => (bool?)b.Value["external"] == true).Select(b => b.Resource).ToHashSet();

        var ingressBackends = Cluster.OfKind("Ingress")
            .SelectMany(ingress => List(Map(ingress, "spec"), "rules").Cast<Dictionary<object, object?>>())
            .SelectMany(rule => List(Map(rule, "http"), "paths").Cast<Dictionary<object, object?>>())
            .Select(path => Str(path, "backend", "service", "name")!)
            .ToHashSet();

        Assert.Equal(external, ingressBackends);
        Assert.All(Cluster.OfKind("Service"), service =>
            Assert.True(Str(service, "spec", "type") is null or "ClusterIP", $"Service/{Name(service)} is reachable from outside the cluster"));
        Assert.All(Cluster.Workloads, workload => Assert.All(Containers(workload), container =>
            Assert.DoesNotContain(List(container, "ports").Cast<Dictionary<object, object?>>(), port => port.ContainsKey("hostPort"))));
        Assert.All(Cluster.Workloads, workload => Assert.Null(Str(PodSpec(workload), "hostNetwork")));
    }

    [Fact]
    public void Each_workload_takes_connections_only_from_what_uses_it_in_the_AppHost()
    {
        var external = Manifest.Bindings().Where(b => (bool?)b.Value["external"] == true).Select(b => b.Resource).ToHashSet();
        var policies = Cluster.OfKind("NetworkPolicy").Select(p => Map(p, "spec")).ToList();

        // Nothing is reachable that no policy opens.
        Assert.Contains(policies, p => Map(p, "podSelector").Count == 0 && List(p, "policyTypes").Contains("Ingress") && List(p, "ingress").Count == 0);

        foreach (var workload in Cluster.Workloads.Select(Name))
        {
            var isContainer = AppHostContainers.Contains(workload);
            // The port the services connect to: a container's "tcp" binding, a service's "http".
            var servicePort = isContainer ? "tcp" : "http";
            var expected = external.Contains(workload) ? ["anyone"] : UsersOf(workload, servicePort);

            var rules = IngressRules(policies, workload).ToList();
            var sources = rules.Where(r => r.Ports.Count == 0 || r.Ports.Contains(servicePort)).SelectMany(r => r.Sources).ToHashSet();
            Assert.True(expected.SetEquals(sources),
                $"{workload}: open on {servicePort} to [{string.Join(", ", sources.Order())}], but used by [{string.Join(", ", expected.Order())}] in the AppHost");

            // Any other port (RabbitMQ's management API) is open to what uses that binding in the AppHost
            // (UploadApi's jobs console, as the monitoring user) and to KEDA, from its own namespace.
            var otherPorts = rules.SelectMany(r => r.Ports).Where(p => p != servicePort)
                .Concat(AppHostServices.SelectMany(s => s).Concat(AppHostSetups).SelectMany(ReferencedBindings)
                    .Where(b => b.Resource == workload && b.Binding != servicePort).Select(b => b.Binding))
                .ToHashSet();
            foreach (var port in otherPorts)
            {
                var users = UsersOf(workload, port);
                if (workload == "messaging" && port == "management")
                {
                    users.Add("namespace keda");
                }

                var open = rules.Where(r => r.Ports.Contains(port)).SelectMany(r => r.Sources).ToHashSet();
                Assert.True(users.SetEquals(open),
                    $"{workload}: open on {port} to [{string.Join(", ", open.Order())}], but used by [{string.Join(", ", users.Order())}]");
            }
        }
    }

    [Fact]
    public void The_Ingress_lets_the_largest_upload_reach_the_gateway()
    {
        var maxFileBytes = long.Parse(Manifest.Environment("gateway")["Uploads__MaxBytes"]);
        var ingress = Assert.Single(Cluster.OfKind("Ingress"));

        var bodyLimit = Quantity(Str(ingress, "metadata", "annotations", "nginx.ingress.kubernetes.io/proxy-body-size")!, binarySuffixes: true);

        Assert.True(bodyLimit >= ImageLimits.UploadBodyBytes(maxFileBytes),
            $"The Ingress takes bodies up to {bodyLimit} bytes; an upload of {maxFileBytes} bytes is {ImageLimits.UploadBodyBytes(maxFileBytes)} with its form");
    }

    [Fact]
    public void Secrets_come_only_from_the_Secret_under_the_AppHost_parameter_names()
    {
        var parameters = Manifest.Names("parameter.v0").ToHashSet();
        var secretParameters = parameters.Where(p => (bool?)Manifest[p]["inputs"]?["value"]?["secret"] == true).ToList();
        var references = Cluster.SecretReferences().ToList();

        // No Secret is written in the repository: the operator creates it (docs/deploy-kubernetes.md).
        Assert.Empty(Cluster.OfKind("Secret"));
        Assert.All(references, r => Assert.Equal(SecretName, r.Secret));
        Assert.All(references, r => Assert.Contains(r.Key, parameters));
        Assert.All(secretParameters, p => Assert.Contains(references, r => r.Key == p));
        // And no secret is a literal anywhere else: every password in a value is a $(VARIABLE) from the Secret.
        Assert.All(WorkloadsAndJobs.SelectMany(Containers).SelectMany(c => List(c, "env")).Cast<Dictionary<object, object?>>(), variable =>
        {
            var literal = Regex.Replace(variable.GetValueOrDefault("value") as string ?? "", @"\$\(\w+\)", "");
            Assert.DoesNotMatch(@"(?i)password=[^;,]", literal);
            Assert.DoesNotMatch(@"://[^/@]*:[^/@]+@", literal);
        });
        Assert.All(Cluster.OfKind("ConfigMap"), configMap =>
            Assert.DoesNotContain(Map(configMap, "data").Keys.Cast<string>(), key => secretParameters.Contains(key)));
    }

    [Fact]
    public void KEDA_scales_the_image_workers_on_their_queue_ready_plus_unacknowledged_with_the_scheduler_policy()
    {
        var deployment = Cluster.Get("Deployment", "imageworker");
        var scaledObject = ScaledObjectFor("imageworker") ?? throw new Xunit.Sdk.XunitException("No ScaledObject targets imageworker");
        var spec = Map(scaledObject, "spec");
        var trigger = Assert.Single(List(spec, "triggers").Cast<Dictionary<object, object?>>());
        var metadata = Map(trigger, "metadata");
        var namespaceName = Str(deployment, "metadata", "namespace");
        var management = Manifest["messaging"]["bindings"]!["management"]!;

        // KEDA owns the count: a replicas value in the Deployment would be re-applied over it.
        Assert.Null(Str(deployment, "spec", "replicas"));
        Assert.Equal(MinWorkers.ToString(), Str(spec, "minReplicaCount"));
        Assert.True(int.Parse(Str(spec, "maxReplicaCount")!) >= AppHostServices.Single(s => s.Key == "imageworker").Count());
        Assert.Equal(((int)IdleTimeout.TotalSeconds).ToString(), Str(spec, "cooldownPeriod"));

        Assert.Equal("rabbitmq", trigger["type"]);
        Assert.Equal(MessageEndpoints.ImageUploadedQueue, metadata["queueName"]);
        Assert.Equal("QueueLength", metadata["mode"]);
        // Over AMQP KEDA counts ready messages only; the management API's count adds the unacknowledged.
        Assert.Equal("http", metadata["protocol"]);
        Assert.NotEqual("true", metadata.GetValueOrDefault("excludeUnacknowledged"));
        Assert.True(decimal.Parse((string)metadata["value"]!) >= 1);
        // The broker's management port, by the Service's full name: KEDA asks from its own namespace.
        Assert.Equal($"http://messaging.{namespaceName}.svc:{management["targetPort"]}/", metadata["host"]);
        AssertServiceReaches("messaging", (int)management["targetPort"]!);

        var authentication = Cluster.Get("TriggerAuthentication", Str(trigger, "authenticationRef", "name")!);
        var credentials = List(Map(authentication, "spec"), "secretTargetRef").Cast<Dictionary<object, object?>>()
            .ToDictionary(r => (string)r["parameter"]!, r => (string)r["key"]!);
        // The broker's administrator (the parameters behind RABBITMQ_USER/PASSWORD): the monitoring user's
        // name is no parameter, so the Secret cannot give it to a TriggerAuthentication.
        Assert.Equal(Manifest.Environment("messaging")["RABBITMQ_USER"], $"{{{credentials["username"]}.value}}");
        Assert.Equal(Manifest.Environment("messaging")["RABBITMQ_PASSWORD"], $"{{{credentials["password"]}.value}}");
    }

    [Fact]
    public void Every_database_the_services_use_is_created_on_the_first_start()
    {
        var mysql = Cluster.Get("StatefulSet", "mysql");
        var initFolder = VolumeMountedAt(Container(mysql), "/docker-entrypoint-initdb.d");
        var (kind, source) = VolumeSource(mysql, initFolder);
        var scripts = Map(Cluster.Get("ConfigMap", Str(source, "name")!), "data");

        Assert.Equal("configMap", kind);
        // The same scripts as compose's deploy/mysql-init, file for file.
        var composeScripts = System.IO.Directory.GetFiles(Path.Combine(ComposeFile.DeployDirectory, "mysql-init"), "*.sql");
        Assert.Equal(composeScripts.Select(Path.GetFileName).Order(), scripts.Keys.Cast<string>().Order());
        Assert.All(composeScripts, file => Assert.Equal(File.ReadAllText(file), scripts[Path.GetFileName(file)]));
    }

    /// <summary>A service's or set-up's settings from the AppHost (one address per API), values resolved.</summary>
    private Dictionary<string, string> ExpectedSettings(string resource)
    {
        var environment = Manifest.Environment(resource);
        return environment
            .Where(e => IsServiceSetting(e.Key))
            // Aspire adds ConnectionStrings__mysql_admin beside ConnectionStrings__mysql-admin for shells; .NET reads the latter.
            .Where(e => !(e.Key.StartsWith("ConnectionStrings__")
                          && e.Key["ConnectionStrings__".Length..].Contains('_')
                          && environment.ContainsKey("ConnectionStrings__" + e.Key["ConnectionStrings__".Length..].Replace('_', '-'))))
            .Select(e => (Key: SingleAddressPerService(e.Key), Value: Manifest.Resolve(e.Value)))
            .DistinctBy(e => e.Key)
            .ToDictionary(e => e.Key, e => e.Value);
    }

    /// <summary>
    /// A container's settings in the cluster, without the ingredients: a password from the Secret
    /// that only goes into another variable (<c>DB_PASSWORD</c> in <c>Password=$(DB_PASSWORD)</c>).
    /// </summary>
    private Dictionary<string, string> ServiceSettings(Dictionary<object, object?> container)
    {
        var variables = List(container, "env").Cast<Dictionary<object, object?>>().ToList();
        var used = variables.Select(v => v.GetValueOrDefault("value") as string ?? "")
            .SelectMany(value => Regex.Matches(value, @"\$\((\w+)\)").Select(m => m.Groups[1].Value))
            .ToHashSet();
        var ingredients = variables
            .Where(v => v.ContainsKey("valueFrom") && Map(v, "valueFrom").ContainsKey("secretKeyRef") && used.Contains((string)v["name"]!))
            .Select(v => (string)v["name"]!)
            .ToHashSet();
        return Cluster.Environment(container).Where(e => IsServiceSetting(e.Key) && !ingredients.Contains(e.Key)).ToDictionary();
    }

    /// <summary>The services and set-ups whose AppHost settings use that binding of the resource.</summary>
    private HashSet<string> UsersOf(string resource, string binding) =>
        AppHostServices.Where(s => s.Any(r => ReferencedBindings(r).Contains((resource, binding)))).Select(s => s.Key)
            .Concat(AppHostSetups.Where(r => ReferencedBindings(r).Contains((resource, binding))))
            .ToHashSet();

    /// <summary>Configuration the services read; the same exclusions as ComposeMatchesAppHostTests.</summary>
    private bool IsServiceSetting(string key) =>
        !key.StartsWith("OTEL_")
        && key is not ("HTTP_PORTS" or "ASPNETCORE_FORWARDEDHEADERS_ENABLED")
        && !key.StartsWith("Gateway__TrustedProxies__")
        && !(ReferenceVariablePattern().Match(key) is { Success: true } m
             && AppHostContainers.Any(r => AppHostManifest.EnvironmentVariable(r) == m.Groups[1].Value));

    /// <summary>
    /// The bindings of containers and services a resource's settings name, through connection strings:
    /// <c>uploadapi-1</c> uses mysql's tcp, cache's tcp, messaging's tcp and (the jobs console) management.
    /// </summary>
    private HashSet<(string Resource, string Binding)> ReferencedBindings(string resource)
    {
        var found = new HashSet<(string, string)>();
        var followed = new HashSet<string>();
        var pending = new Stack<string>(Manifest.Environment(resource).Values);
        while (pending.TryPop(out var expression))
        {
            foreach (Match match in ResourceReferencePattern().Matches(expression))
            {
                var name = match.Groups[1].Value;
                var binding = match.Groups[2].Success ? match.Groups[2].Value : null;
                var referenced = Manifest[name];
                switch ((string)referenced["type"]!)
                {
                    case "container.v0" when binding is not null:
                        found.Add((name, binding));
                        break;
                    case "container.v0" or "value.v0" or "annotated.string" when binding is null && followed.Add(name):
                        // {mysql.connectionString}, inventorydb, messaging-password-uri-encoded: follow what they are made of.
                        pending.Push((string?)referenced["connectionString"] ?? (string?)referenced["value"] ?? "");
                        break;
                    case "project.v0":
                        found.Add((ReplicaOf(name) ?? name, binding ?? "http"));
                        break;
                }
            }
        }

        // Its own port (HTTP_PORTS) is not a use of itself.
        found.RemoveWhere(b => b.Item1 == (ReplicaOf(resource) ?? resource));
        return found;
    }

    /// <summary>A NetworkPolicy's ingress rules for a workload: who (<c>anyone</c>, a workload, <c>namespace X</c>) on which ports (none: all).</summary>
    private static IEnumerable<(HashSet<string> Sources, HashSet<string> Ports)> IngressRules(
        IEnumerable<Dictionary<object, object?>> policies, string workload) =>
        policies
            .Where(p => Str(p, "podSelector", "matchLabels", "app.kubernetes.io/name") == workload)
            .SelectMany(p => List(p, "ingress").Cast<Dictionary<object, object?>>())
            .Select(rule => (
                Sources: rule.ContainsKey("from")
                    ? List(rule, "from").Cast<Dictionary<object, object?>>().Select(peer =>
                        Str(peer, "podSelector", "matchLabels", "app.kubernetes.io/name")
                        ?? $"namespace {Str(peer, "namespaceSelector", "matchLabels", "kubernetes.io/metadata.name")}").ToHashSet()
                    : ["anyone"],
                Ports: List(rule, "ports").Cast<Dictionary<object, object?>>().Select(port => (string)port["port"]!).ToHashSet()));

    /// <summary><c>services__inventoryapi__http__1</c> is the same setting as <c>__0</c> when the cluster gives one address.</summary>
    private static string SingleAddressPerService(string key) =>
        ServiceAddressPattern().Match(key) is { Success: true } m ? $"services__{m.Groups[1].Value}__http__0" : key;

    private Dictionary<object, object?>? ScaledObjectFor(string deployment) =>
        Cluster.OfKind("ScaledObject").SingleOrDefault(s => Str(s, "spec", "scaleTargetRef", "name") == deployment);

    /// <summary>A Service of that name selects the workload of that name and serves the port as its container does.</summary>
    private void AssertServiceReaches(string name, int port)
    {
        var service = Cluster.Get("Service", name);
        var workload = Cluster.Workloads.Single(w => Name(w) == name);
        var selector = Map(service, "spec", "selector");
        var labels = Map(workload, "spec", "template", "metadata", "labels");
        Assert.All(selector, label => Assert.Equal(label.Value, labels.GetValueOrDefault(label.Key)));

        var servicePort = List(Map(service, "spec"), "ports").Cast<Dictionary<object, object?>>()
            .SingleOrDefault(p => (string?)p["port"] == port.ToString());
        Assert.True(servicePort is not null, $"Service/{name} has no port {port}");
        var target = (string?)servicePort!.GetValueOrDefault("targetPort") ?? port.ToString();
        Assert.Contains(Containers(workload).SelectMany(c => List(c, "ports")).Cast<Dictionary<object, object?>>(), p =>
            (string?)p["containerPort"] == port.ToString() && ((string?)p.GetValueOrDefault("name") == target || target == port.ToString()));
    }

    private static string? MountPath(Dictionary<object, object?> container, string volume) =>
        List(container, "volumeMounts").Cast<Dictionary<object, object?>>().SingleOrDefault(m => (string?)m["name"] == volume)?["mountPath"] as string;

    private static string VolumeMountedAt(Dictionary<object, object?> container, string path) =>
        List(container, "volumeMounts").Cast<Dictionary<object, object?>>().Single(m => (string?)m["mountPath"] == path)["name"] as string
        ?? throw new InvalidOperationException();

    private static KeyValuePair<string, Dictionary<object, object?>> VolumeSource(Dictionary<object, object?> workload, string volume)
    {
        var entry = List(PodSpec(workload), "volumes").Cast<Dictionary<object, object?>>().Single(v => (string?)v["name"] == volume);
        var source = entry.Single(e => (string)e.Key != "name");
        return new((string)source.Key, source.Value as Dictionary<object, object?> ?? []);
    }

    private static string? ClaimMountedAt(Dictionary<object, object?> workload, string path)
    {
        var (kind, source) = VolumeSource(workload, VolumeMountedAt(Container(workload), path));
        return kind == "persistentVolumeClaim" ? Str(source, "claimName") : null;
    }

    private static string? ReplicaOf(string resource) =>
        ReplicaPattern().Match(resource) is { Success: true } m ? m.Groups[1].Value : null;

    private static string WithoutDefaultRegistry(string image) =>
        image.Replace("docker.io/library/", "").Replace("docker.io/", "");

    [GeneratedRegex(@"^(.+)-(\d+)$")]
    private static partial Regex ReplicaPattern();

    /// <summary><c>{messaging.bindings.management.port}</c>: messaging, management; <c>{mysql.connectionString}</c>: mysql.</summary>
    [GeneratedRegex(@"\{([a-z0-9-]+)\.(?:bindings\.([a-z0-9-]+)\.)?")]
    private static partial Regex ResourceReferencePattern();

    [GeneratedRegex(@"^services__([a-z0-9-]+)__http__\d+$")]
    private static partial Regex ServiceAddressPattern();

    [GeneratedRegex(@"^([A-Z0-9_]+?)_(HOST|PORT|PASSWORD|URI|USERNAME)$")]
    private static partial Regex ReferenceVariablePattern();

    private sealed class NullOutput : Xunit.Abstractions.ITestOutputHelper
    {
        public static readonly NullOutput Instance = new();

        public void WriteLine(string message)
        {
        }

        public void WriteLine(string format, params object[] args)
        {
        }
    }
}
