using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Reference.Tests.Support;

namespace Reference.Deploy.Tests.Support;

/// <summary>
/// The AppHost's model as Aspire's manifest publisher writes it
/// (<c>dotnet run --project AppHost -- --publisher manifest --output-path ...</c>), in container
/// mode so MySQL, Redis and RabbitMQ appear as containers (local-mode servers are excluded from
/// the manifest). Expressions resolve as they would on the compose network: a resource's host is
/// its name, a container's port is its target port, a service listens on 8080, and a parameter
/// is the placeholder <see cref="Placeholder"/>.
/// </summary>
public sealed partial class AppHostManifest(JsonObject resources)
{
    /// <summary>Port every service image listens on (ASPNETCORE_HTTP_PORTS in deploy/Dockerfile).</summary>
    public const int ServicePort = 8080;

    public static async Task<AppHostManifest> PublishAsync(string outputDirectory, CancellationToken cancellationToken)
    {
        var manifestPath = Path.Combine(outputDirectory, "manifest.json");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = RepoPaths.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[]
                 {
                     "run", "--project", "AppHost", "--no-build", "-c", BuildConfiguration,
                     "--", "--publisher", "manifest", "--output-path", manifestPath,
                 })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["Backing__Mode"] = "container";
        // The model as the AppHost defines it, not as this machine's settings bend it.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("Replicas__") || k.StartsWith("Storage__")).ToList())
        {
            start.Environment.Remove(key);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var errors = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        if (process.ExitCode != 0 || !File.Exists(manifestPath))
        {
            throw new InvalidOperationException(
                $"The manifest publisher failed (exit {process.ExitCode}):\n{await output}\n{await errors}");
        }

        return new AppHostManifest(JsonNode.Parse(await File.ReadAllTextAsync(manifestPath, cancellationToken))!["resources"]!.AsObject());
    }

    /// <summary>What a parameter resolves to: compose must give the same value at the same place.</summary>
    public static string Placeholder(string parameter) => $"<{parameter}>";

    /// <summary>The .env variable for an AppHost parameter: <c>mysql-password</c> is <c>MYSQL_PASSWORD</c>.</summary>
    public static string EnvironmentVariable(string parameter) => parameter.ToUpperInvariant().Replace('-', '_');

    /// <summary>A parameter marked secret (a password, the admin key).</summary>
    public bool IsSecret(string parameter) => (bool?)this[parameter]["inputs"]?["value"]?["secret"] == true;

    public IEnumerable<string> Names(string type) =>
        resources.Where(r => (string?)r.Value!["type"] == type).Select(r => r.Key);

    public JsonObject this[string name] => resources[name]!.AsObject();

    public IReadOnlyDictionary<string, string> Environment(string name) =>
        this[name]["env"]?.AsObject().ToDictionary(e => e.Key, e => (string)e.Value!) ?? [];

    public IReadOnlyList<string> Args(string name) =>
        this[name]["args"]?.AsArray().Select(a => (string)a!).ToList() ?? [];

    public IEnumerable<(string Name, string Target)> Volumes(string name) =>
        this[name]["volumes"]?.AsArray().Select(v => ((string)v!["name"]!, (string)v["target"]!)) ?? [];

    public IEnumerable<(string Resource, string Binding, JsonObject Value)> Bindings() =>
        resources.SelectMany(r => r.Value!["bindings"]?.AsObject()
            .Select(b => (r.Key, b.Key, b.Value!.AsObject())) ?? []);

    /// <summary>An expression such as <c>Server={mysql.bindings.tcp.host};...</c> with every reference resolved.</summary>
    public string Resolve(string expression) =>
        ReferencePattern().Replace(expression, match => ResolveReference(match.Groups[1].Value));

    private string ResolveReference(string reference)
    {
        var parts = reference.Split('.');
        var resource = this[parts[0]];
        var type = (string)resource["type"]!;
        switch (parts[1])
        {
            case "connectionString":
                return Resolve((string)resource["connectionString"]!);
            case "value" when type == "parameter.v0":
                return Placeholder(parts[0]);
            case "value":
                // annotated.string: a filtered view (uri-encoded) of another value. Compose cannot
                // encode, so .env.example asks for passwords that need no encoding.
                return Resolve((string)resource["value"]!);
            case "bindings":
                var binding = resource["bindings"]![parts[2]]!;
                var port = type == "project.v0" ? ServicePort : (int)binding["targetPort"]!;
                return parts[3] switch
                {
                    "host" => parts[0],
                    "port" or "targetPort" => port.ToString(),
                    "scheme" => (string)binding["scheme"]!,
                    "url" => $"{binding["scheme"]}://{parts[0]}:{port}",
                    _ => throw new NotSupportedException($"Unknown binding property in {{{reference}}}"),
                };
            default:
                throw new NotSupportedException($"Unknown reference {{{reference}}}");
        }
    }

    private static string BuildConfiguration =>
#if DEBUG
        "Debug";
#else
        "Release";
#endif

    [GeneratedRegex(@"\{([a-z0-9-]+\.[A-Za-z0-9.-]+)\}")]
    private static partial Regex ReferencePattern();
}
