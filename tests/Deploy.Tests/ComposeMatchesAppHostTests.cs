using System.Text.RegularExpressions;
using Reference.Deploy.Tests.Support;

namespace Reference.Deploy.Tests;

/// <summary>Runs the AppHost's manifest publisher once for the drift tests.</summary>
public sealed class ManifestFixture : IAsyncLifetime
{
    private readonly string directory = Directory.CreateTempSubdirectory("storefront-manifest-").FullName;

    public AppHostManifest Manifest { get; private set; } = null!;

    /// <summary>The compose file with every AppHost parameter's variable set to that parameter's placeholder.</summary>
    public ComposeFile Compose { get; private set; } = null!;

    /// <summary>deploy/make-secrets.sh's files, made with every secret parameter's file holding its placeholder.</summary>
    public IReadOnlyDictionary<string, string> SecretFiles { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        Manifest = await AppHostManifest.PublishAsync(directory, timeout.Token);
        Compose = ComposeFile.Load(Manifest.Names("parameter.v0").ToDictionary(
            AppHostManifest.EnvironmentVariable, AppHostManifest.Placeholder));
        SecretFiles = ComposeFile.MakeSecrets(Manifest.Names("parameter.v0").Where(Manifest.IsSecret).ToDictionary(p => p, AppHostManifest.Placeholder));
    }

    public Task DisposeAsync()
    {
        Directory.Delete(directory, recursive: true);
        return Task.CompletedTask;
    }
}

/// <summary>
/// deploy/compose.yaml must not drift from the AppHost: the same resources under the same names,
/// and every service given the same configuration (connection strings value for value).
/// </summary>
public sealed partial class ComposeMatchesAppHostTests(ManifestFixture fixture) : IClassFixture<ManifestFixture>
{
    private AppHostManifest Manifest => fixture.Manifest;

    private ComposeFile Compose => fixture.Compose;

    [Fact]
    public void Every_AppHost_container_and_service_is_a_compose_service()
    {
        var missing = Manifest.Names("container.v0").Concat(Manifest.Names("project.v0"))
            .Where(name => ComposeServiceFor(name) is null)
            .ToList();

        Assert.Empty(missing);
    }

    [Fact]
    public void Compose_runs_nothing_the_AppHost_does_not()
    {
        var resources = Manifest.Names("container.v0").Concat(Manifest.Names("project.v0")).ToList();

        var extra = Compose.Services.Keys.Where(service => !resources.Any(r => r == service || ReplicaOf(r) == service));

        Assert.Empty(extra);
    }

    [Fact]
    public void Replicated_services_run_at_least_as_many_replicas_as_in_the_AppHost()
    {
        foreach (var group in Manifest.Names("project.v0").Where(r => ReplicaOf(r) is not null).GroupBy(r => ReplicaOf(r)!))
        {
            var asOneService = Compose.Services.GetValueOrDefault(group.Key);
            var replicas = asOneService?.Scale ?? group.Count(r => Compose.Services.ContainsKey(r));
            Assert.True(replicas >= group.Count(), $"{group.Key}: {replicas} replicas in compose, {group.Count()} in the AppHost");
        }
    }

    [Fact]
    public void Each_service_gets_the_same_settings_as_from_the_AppHost()
    {
        foreach (var resource in Manifest.Names("project.v0"))
        {
            var service = ComposeServiceFor(resource)!;
            var environment = Manifest.Environment(resource);
            var expected = environment
                .Where(e => IsServiceSetting(e.Key))
                // Aspire adds ConnectionStrings__mysql_admin beside ConnectionStrings__mysql-admin for shells; .NET reads the latter.
                .Where(e => !(e.Key.StartsWith("ConnectionStrings__")
                              && environment.ContainsKey("ConnectionStrings__" + e.Key["ConnectionStrings__".Length..].Replace('_', '-'))
                              && e.Key["ConnectionStrings__".Length..].Contains('_')))
                .ToDictionary(e => e.Key, e => Manifest.Resolve(e.Value));
            // Secrets (connection strings, the admin key) come as files the service reads as configuration.
            var actual = service.Environment.Where(e => IsServiceSetting(e.Key))
                .Concat(service.Secrets.Select(secret => KeyValuePair.Create(secret.Target, fixture.SecretFiles[secret.Source])))
                .ToDictionary();

            Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
            foreach (var (key, value) in expected)
            {
                if (key == "Storage__Root")
                {
                    // A host folder in the AppHost; in compose, the shared volume mounted at that path.
                    Assert.Contains(service.Volumes, v => v.Target == actual[key] && Compose.NamedVolumes.Contains(v.Source));
                    continue;
                }

                Assert.True(value == actual[key], $"{service.Name}: {key} is\n  {actual[key]}\nin compose, but\n  {value}\nfrom the AppHost");
            }
        }
    }

    [Fact]
    public void Backing_containers_use_the_same_images_arguments_and_data_folders()
    {
        foreach (var resource in Manifest.Names("container.v0"))
        {
            var container = Manifest[resource];
            var service = Compose.Services[resource];

            Assert.Equal(WithoutDefaultRegistry((string)container["image"]!), service.Image);
            // Server options (--innodb-flush-log-at-trx-commit=1, ...) are durability settings.
            Assert.All(Manifest.Args(resource).Where(a => a.StartsWith("--")), arg => Assert.Contains(arg, service.Command));
            Assert.All(Manifest.Volumes(resource), volume =>
                Assert.Contains(service.Volumes, v => v.Target == volume.Target && Compose.NamedVolumes.Contains(v.Source)));

            // Where the AppHost overrides the entrypoint, its variables feed that command line;
            // compose passes the same settings as arguments instead.
            if (container["entrypoint"] is null)
            {
                foreach (var (key, value) in Manifest.Environment(resource))
                {
                    // A password parameter comes as a file (MYSQL_ROOT_PASSWORD_FILE) holding that secret.
                    if (service.Environment.TryGetValue(key + "_FILE", out var file))
                    {
                        Assert.Equal($"/run/secrets/{value.Trim('{', '}').Split('.')[0]}", file);
                        Assert.Contains(service.Secrets, secret => "/run/secrets/" + secret.Target == file);
                        continue;
                    }

                    Assert.True(service.Environment.TryGetValue(key, out var actual), $"{resource}: {key} is missing in compose");
                    Assert.Equal(Manifest.Resolve(value), actual);
                }
            }
        }
    }

    [Fact]
    public void Every_database_the_services_use_is_created_on_the_first_start()
    {
        var initScripts = string.Join('\n', Directory.GetFiles(Path.Combine(ComposeFile.DeployDirectory, "mysql-init"), "*.sql")
            .Select(File.ReadAllText));

        var databases = Manifest.Names("value.v0")
            .Select(name => DatabasePattern().Match((string?)Manifest[name]["connectionString"] ?? ""))
            .Where(m => m.Success)
            .Select(m => m.Groups[1].Value)
            .ToList();

        Assert.NotEmpty(databases);
        Assert.All(databases, db => Assert.Contains($"CREATE DATABASE IF NOT EXISTS `{db}`", initScripts));
        Assert.Contains(Compose.Services["mysql"].Volumes, v => v.Target == "/docker-entrypoint-initdb.d" && v.ReadOnly);
    }

    [Fact]
    public void Every_AppHost_parameter_is_a_secret_file_or_a_variable_in_env_example()
    {
        var example = File.ReadAllLines(Path.Combine(ComposeFile.DeployDirectory, ".env.example"));

        Assert.All(Manifest.Names("parameter.v0"), parameter =>
        {
            if (Manifest.IsSecret(parameter))
            {
                // make-secrets.sh makes it under the parameter's name; compose mounts it from there.
                Assert.Contains(parameter, fixture.SecretFiles.Keys);
                Assert.EndsWith("/" + parameter, Compose.Secrets[parameter]);
                return;
            }

            var variable = AppHostManifest.EnvironmentVariable(parameter);
            Assert.Contains(example, line => line.StartsWith(variable + "="));
            Assert.Contains(variable, Compose.ReferencedVariables);
        });
    }

    [Fact]
    public void Only_what_the_AppHost_exposes_publishes_a_port()
    {
        var external = Manifest.Bindings()
            .Where(b => (bool?)b.Value["external"] == true)
            .Select(b => b.Resource)
            .ToHashSet();

        var publishing = Compose.Services.Values.Where(s => s.Ports.Count > 0).Select(s => s.Name).ToHashSet();

        Assert.Equal(external, publishing);
        Assert.All(publishing, name => Assert.All(Compose.Services[name].Ports, port =>
            Assert.EndsWith($":{AppHostManifest.ServicePort}", port)));
    }

    /// <summary>
    /// Configuration the services read. Left out: Aspire's own plumbing (OTEL_*; HTTP_PORTS: the
    /// image listens on 8080; ASPNETCORE_FORWARDEDHEADERS_ENABLED: Aspire sets it on every
    /// project, compose only on the gateway; Gateway__TrustedProxies__*: compose only, where a TLS
    /// proxy may stand in front) and the per-reference variables
    /// Aspire adds for non-.NET clients (CACHE_HOST, MESSAGING_URI...), which no service reads:
    /// they read ConnectionStrings__*.
    /// </summary>
    private bool IsServiceSetting(string key) =>
        !key.StartsWith("OTEL_")
        && key is not ("HTTP_PORTS" or "ASPNETCORE_FORWARDEDHEADERS_ENABLED")
        && !key.StartsWith("Gateway__TrustedProxies__")
        && !(ReferenceVariablePattern().Match(key) is { Success: true } m
             && Manifest.Names("container.v0").Any(r => AppHostManifest.EnvironmentVariable(r) == m.Groups[1].Value));

    private ComposeService? ComposeServiceFor(string resource) =>
        Compose.Services.GetValueOrDefault(resource)
        ?? (ReplicaOf(resource) is { } service && Compose.Services.GetValueOrDefault(service) is { } scaled
            && scaled.Scale >= ReplicaNumber(resource) ? scaled : null);

    /// <summary><c>imageworker-2</c> is replica 2 of <c>imageworker</c>.</summary>
    private static string? ReplicaOf(string resource) =>
        ReplicaPattern().Match(resource) is { Success: true } m ? m.Groups[1].Value : null;

    private static int ReplicaNumber(string resource) => int.Parse(ReplicaPattern().Match(resource).Groups[2].Value);

    private static string WithoutDefaultRegistry(string image) =>
        image.Replace("docker.io/library/", "").Replace("docker.io/", "");

    [GeneratedRegex(@"^(.+)-(\d+)$")]
    private static partial Regex ReplicaPattern();

    [GeneratedRegex(@"^([A-Z0-9_]+?)_(HOST|PORT|PASSWORD|URI|USERNAME)$")]
    private static partial Regex ReferenceVariablePattern();

    [GeneratedRegex(@";Database=([A-Za-z0-9_]+)$")]
    private static partial Regex DatabasePattern();
}
