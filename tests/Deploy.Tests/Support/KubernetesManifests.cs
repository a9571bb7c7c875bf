using System.Globalization;
using System.Text.RegularExpressions;
using Reference.Tests.Support;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace Reference.Deploy.Tests.Support;

/// <summary>
/// <c>deploy/k8s</c> as a cluster gets it: rendered by <c>kubectl kustomize</c> (through
/// <c>tests/Deploy.Tests/Kubernetes/check.sh</c>, which also validates every resource against
/// the Kubernetes and KEDA schemas), then read back with YamlDotNet.
/// </summary>
public sealed partial class KubernetesManifests(IReadOnlyList<Dictionary<object, object?>> resources, CommandResult check)
{
    public static string Directory { get; } = Path.Combine(RepoPaths.Root, "deploy", "k8s");

    public static string CheckScript { get; } = Path.Combine(RepoPaths.Root, "tests", "Deploy.Tests", "Kubernetes", "check.sh");

    /// <summary>Where check.sh installs the schema packages and copies validate.mjs (git-ignored).</summary>
    public static string SchemaDirectory { get; } = Path.Combine(RepoPaths.Root, ".data", "kubernetes-schemas");

    /// <summary>The name of the Secret that holds every AppHost secret parameter, under the parameter's name.</summary>
    public const string SecretName = "storefront-secrets";

    /// <summary>What check.sh printed (one line per resource) and its exit code.</summary>
    public CommandResult Check { get; } = check;

    public IReadOnlyList<Dictionary<object, object?>> Resources { get; } = resources;

    public static async Task<KubernetesManifests> RenderAsync(string outputPath, CancellationToken cancellationToken)
    {
        var shell = new Shell(NullLog.Instance);
        var check = await shell.RunAsync("bash", [CheckScript, outputPath], cancellationToken, check: false, quiet: true);
        if (!File.Exists(outputPath) || new FileInfo(outputPath).Length == 0)
        {
            throw new InvalidOperationException($"check.sh rendered nothing (exit {check.ExitCode}):\n{check.Output}\n{check.Errors}");
        }

        var deserializer = new DeserializerBuilder().Build();
        using var reader = File.OpenText(outputPath);
        var parser = new Parser(reader);
        parser.Consume<StreamStart>();
        var documents = new List<Dictionary<object, object?>>();
        while (parser.Accept<DocumentStart>(out _))
        {
            documents.Add(deserializer.Deserialize<Dictionary<object, object?>>(parser));
        }

        return new KubernetesManifests(documents, check);
    }

    public IEnumerable<Dictionary<object, object?>> OfKind(string kind) => Resources.Where(r => Kind(r) == kind);

    public Dictionary<object, object?> Get(string kind, string name) =>
        OfKind(kind).SingleOrDefault(r => Name(r) == name) ?? throw new KeyNotFoundException($"No {kind}/{name} in deploy/k8s");

    public Dictionary<object, object?>? Find(string kind, string name) => OfKind(kind).SingleOrDefault(r => Name(r) == name);

    /// <summary>Deployments and StatefulSets.</summary>
    public IEnumerable<Dictionary<object, object?>> Workloads => OfKind("Deployment").Concat(OfKind("StatefulSet"));

    public static string Kind(Dictionary<object, object?> resource) => (string)resource["kind"]!;

    public static string Name(Dictionary<object, object?> resource) => Str(resource, "metadata", "name")!;

    public static Dictionary<object, object?> PodSpec(Dictionary<object, object?> workload) => Map(workload, "spec", "template", "spec");

    public static IReadOnlyList<Dictionary<object, object?>> Containers(Dictionary<object, object?> workload) =>
        List(PodSpec(workload), "containers").Cast<Dictionary<object, object?>>().ToList();

    public static Dictionary<object, object?> Container(Dictionary<object, object?> workload) => Assert.Single(Containers(workload));

    /// <summary>
    /// A container's environment as the kubelet gives it: <c>envFrom</c> ConfigMaps first, then
    /// <c>env</c> in order, with <c>$(NAME)</c> replaced by an earlier variable's value. A value
    /// from the storefront's Secret is <see cref="AppHostManifest.Placeholder"/> of its key, so it
    /// compares with the AppHost's parameter of that name.
    /// </summary>
    public IReadOnlyDictionary<string, string> Environment(Dictionary<object, object?> container)
    {
        var environment = new Dictionary<string, string>();
        foreach (var source in List(container, "envFrom").Cast<Dictionary<object, object?>>())
        {
            var configMap = Str(source, "configMapRef", "name") ?? throw new NotSupportedException("envFrom other than a ConfigMap");
            foreach (var (key, value) in Map(Get("ConfigMap", configMap), "data"))
            {
                environment[(string)key] = (string?)value ?? "";
            }
        }

        foreach (var variable in List(container, "env").Cast<Dictionary<object, object?>>())
        {
            var name = (string)variable["name"]!;
            environment[name] = variable.TryGetValue("value", out var value)
                ? ExpandReferences((string?)value ?? "", environment)
                : ValueFrom(Map(variable, "valueFrom"));
        }

        return environment;
    }

    /// <summary>A value from a Secret or ConfigMap key, as <see cref="Environment"/> resolves it.</summary>
    public string ValueFrom(Dictionary<object, object?> source)
    {
        if (source.ContainsKey("secretKeyRef"))
        {
            Assert.Equal(SecretName, Str(source, "secretKeyRef", "name"));
            return AppHostManifest.Placeholder(Str(source, "secretKeyRef", "key")!);
        }

        if (source.ContainsKey("configMapKeyRef"))
        {
            var data = Map(Get("ConfigMap", Str(source, "configMapKeyRef", "name")!), "data");
            return (string?)data[Str(source, "configMapKeyRef", "key")!] ?? "";
        }

        throw new NotSupportedException("valueFrom other than a Secret or ConfigMap key");
    }

    /// <summary>Every Secret key the manifests read (env, and KEDA's TriggerAuthentication), with the Secret's name.</summary>
    public IEnumerable<(string Secret, string Key)> SecretReferences() =>
        Walk(Resources.Cast<object?>())
            .Where(map => map.ContainsKey("secretKeyRef"))
            .Select(map => (Str(map, "secretKeyRef", "name")!, Str(map, "secretKeyRef", "key")!))
            .Concat(OfKind("TriggerAuthentication").SelectMany(auth => List(Map(auth, "spec"), "secretTargetRef")
                .Cast<Dictionary<object, object?>>()
                .Select(r => ((string)r["name"]!, (string)r["key"]!))));

    /// <summary>Kubernetes quantities: <c>512Mi</c>, <c>1Gi</c>, <c>250m</c> (CPU), <c>2</c>; and nginx/compose sizes: <c>32m</c>, <c>1g</c>.</summary>
    public static decimal Quantity(string quantity, bool binarySuffixes = false)
    {
        var match = QuantityPattern().Match(quantity);
        Assert.True(match.Success, $"'{quantity}' is not a quantity");
        var number = decimal.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return number * match.Groups[2].Value switch
        {
            "" => 1m,
            "m" when !binarySuffixes => 0.001m,
            "k" when binarySuffixes => 1024m,
            "m" => 1024m * 1024,
            "g" => 1024m * 1024 * 1024,
            "Ki" => 1024m,
            "Mi" => 1024m * 1024,
            "Gi" => 1024m * 1024 * 1024,
            "k" => 1000m,
            "M" => 1000m * 1000,
            "G" => 1000m * 1000 * 1000,
            var suffix => throw new NotSupportedException($"Quantity suffix {suffix}"),
        };
    }

    public static Dictionary<object, object?> Map(Dictionary<object, object?> parent, params string[] path)
    {
        var current = parent;
        foreach (var key in path)
        {
            current = current.TryGetValue(key, out var value) && value is Dictionary<object, object?> map ? map : [];
        }

        return current;
    }

    public static List<object?> List(Dictionary<object, object?> parent, string key) =>
        parent.TryGetValue(key, out var value) && value is List<object?> list ? list : [];

    public static string? Str(Dictionary<object, object?> parent, params string[] path) =>
        Map(parent, path[..^1]).TryGetValue(path[^1], out var value) ? value as string : null;

    private static string ExpandReferences(string value, IReadOnlyDictionary<string, string> earlier) =>
        ReferencePattern().Replace(value, m => earlier.TryGetValue(m.Groups[1].Value, out var resolved) ? resolved : m.Value);

    private static IEnumerable<Dictionary<object, object?>> Walk(IEnumerable<object?> nodes)
    {
        foreach (var node in nodes)
        {
            switch (node)
            {
                case Dictionary<object, object?> map:
                    yield return map;
                    foreach (var child in Walk(map.Values))
                    {
                        yield return child;
                    }

                    break;
                case List<object?> list:
                    foreach (var child in Walk(list))
                    {
                        yield return child;
                    }

                    break;
            }
        }
    }

    [GeneratedRegex(@"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")]
    private static partial Regex ReferencePattern();

    [GeneratedRegex(@"^([0-9.]+)([A-Za-z]*)$")]
    private static partial Regex QuantityPattern();

    private sealed class NullLog : Xunit.Abstractions.ITestOutputHelper
    {
        public static readonly NullLog Instance = new();

        public void WriteLine(string message)
        {
        }

        public void WriteLine(string format, params object[] args)
        {
        }
    }
}
