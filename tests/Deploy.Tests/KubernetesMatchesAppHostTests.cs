using Reference.Deploy.Tests.Support;
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
}
