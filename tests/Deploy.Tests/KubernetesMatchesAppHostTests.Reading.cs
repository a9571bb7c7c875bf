using System.Text.RegularExpressions;
using Reference.Deploy.Tests.Support;
using static Reference.Deploy.Tests.Support.KubernetesManifests;

namespace Reference.Deploy.Tests;

/// <summary>Reading the AppHost manifest and the rendered cluster.</summary>
public sealed partial class KubernetesMatchesAppHostTests
{
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
