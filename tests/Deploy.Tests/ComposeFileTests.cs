using Reference.Deploy.Tests.Support;
using Reference.Tests.Support;

namespace Reference.Deploy.Tests;

/// <summary>What deploy/compose.yaml promises a server operator, read from the file itself.</summary>
public sealed class ComposeFileTests
{
    private static readonly string[] BackingServices = ["mysql", "cache", "messaging"];

    private static readonly IReadOnlyDictionary<string, string> Secrets = new Dictionary<string, string>();

    private readonly ComposeFile compose = ComposeFile.Load(Secrets);

    private IEnumerable<ComposeService> DotNetServices => compose.Services.Values.Where(s => !BackingServices.Contains(s.Name));

    /// <summary>The databases' set-ups: they run once and exit (--migrate).</summary>
    private IEnumerable<ComposeService> OneShots => compose.Services.Values.Where(s => s.Command.Contains("--migrate"));

    [Fact]
    public void Backing_services_are_only_on_the_internal_network()
    {
        var backend = compose.Networks["backend"];

        Assert.Equal("true", backend.GetValueOrDefault("internal"));
        Assert.All(BackingServices, name =>
        {
            Assert.Equal(["backend"], compose.Services[name].Networks);
            Assert.Empty(compose.Services[name].Ports);
        });
    }

    [Fact]
    public void The_gateway_is_the_only_service_with_a_published_port()
    {
        var publishing = compose.Services.Values.Where(s => s.Ports.Count > 0).Select(s => s.Name);

        Assert.Equal(["gateway"], publishing);
        Assert.Equal(["127.0.0.1:8080:8080"], compose.Services["gateway"].Ports);
    }

    [Fact]
    public void The_gateway_trusts_X_Forwarded_For_from_nobody_unless_a_proxy_is_named()
    {
        var gateway = compose.Services["gateway"];
        var behindCaddy = ComposeFile.Load(new Dictionary<string, string>(Secrets)
        {
            ["GATEWAY_TRUSTED_PROXY"] = "172.18.0.1",
        }).Services["gateway"];

        Assert.StartsWith("127.0.0.1:", Assert.Single(gateway.Ports));
        Assert.Equal("", gateway.Environment["Gateway__TrustedProxies__0"]);
        Assert.Equal("172.18.0.1", behindCaddy.Environment["Gateway__TrustedProxies__0"]);
        // ASP.NET Core's switch trusts every sender: it stays off, the gateway's own list decides.
        Assert.All(compose.Services.Values, service =>
            Assert.NotEqual("true", service.Environment.GetValueOrDefault("ASPNETCORE_FORWARDEDHEADERS_ENABLED")));
    }

    [Fact]
    public void Every_service_restarts_unless_stopped_and_has_a_memory_limit()
    {
        Assert.All(compose.Services.Values, service =>
        {
            Assert.Equal(OneShots.Contains(service) ? "no" : "unless-stopped", service.Restart);
            Assert.False(string.IsNullOrEmpty(service.MemoryLimit), $"{service.Name} has no mem_limit");
        });
    }

    [Fact]
    public void The_services_run_on_a_read_only_root_filesystem_with_a_scratch_tmp()
    {
        Assert.All(DotNetServices, service =>
        {
            Assert.True(service.ReadOnlyRootFilesystem, $"{service.Name} is not read_only");
            Assert.Contains("/tmp", service.Tmpfs);
        });
    }

    [Fact]
    public void The_services_start_once_the_backing_services_they_use_are_healthy()
    {
        Assert.All(BackingServices, name => Assert.True(compose.Services[name].HasHealthCheck, $"{name} has no health check"));
        Assert.All(DotNetServices.Where(s => s.Name != "gateway"), service =>
        {
            var secrets = ComposeFile.MakeSecrets(new Dictionary<string, string>());
            var connections = service.Secrets.Select(secret => secrets[secret.Source]).ToList();
            var uses = BackingServices.Where(b => connections.Any(v => v.Contains($"@{b}:") || v.StartsWith($"{b}:") || v.Contains($"Server={b};"))).ToList();
            Assert.NotEmpty(uses);
            Assert.All(uses, backing => Assert.Equal("service_healthy", service.DependsOn.GetValueOrDefault(backing)));
        });
    }

    [Fact]
    public void The_apis_start_once_their_database_is_set_up_and_migrated_once()
    {
        Assert.Equal(["inventorydb-setup", "uploaddb-setup"], OneShots.Select(s => s.Name).Order());
        Assert.All(compose.Services.Values.Where(s => s.Name.StartsWith("inventoryapi-")), api =>
            Assert.Equal("service_completed_successfully", api.DependsOn["inventorydb-setup"]));
        Assert.All(compose.Services.Values.Where(s => s.Name.StartsWith("uploadapi-")), api =>
            Assert.Equal("service_completed_successfully", api.DependsOn["uploaddb-setup"]));
        // Only the set-ups hold MySQL's root login; the worker holds no database login at all.
        Assert.All(compose.Services.Values.Where(s => s.Secrets.Any(secret => secret.Source == "mysql-admin")), s => Assert.Contains(s, OneShots));
        Assert.DoesNotContain(compose.Services["imageworker"].Secrets, secret => secret.Target.Contains("db"));
    }

    [Fact]
    public void Data_lives_on_named_volumes()
    {
        var expected = new[]
        {
            ("mysql", "/var/lib/mysql"), ("cache", "/data"), ("messaging", "/var/lib/rabbitmq"),
            ("uploadapi-1", "/data/images"), ("imageworker", "/data/images"), ("gateway", "/data/images"),
        };

        Assert.All(expected, e => Assert.Contains(compose.Services[e.Item1].Volumes,
            v => v.Target == e.Item2 && compose.NamedVolumes.Contains(v.Source)));
        // The gateway only serves variants.
        Assert.Contains(compose.Services["gateway"].Volumes, v => v.Target == "/data/images" && v.ReadOnly);
    }

    [Fact]
    public void Durability_matches_the_AppHost_flush_at_every_commit_and_an_append_only_cache()
    {
        Assert.Contains("--innodb-flush-log-at-trx-commit=1", compose.Services["mysql"].Command);
        // Redis starts through local mode's script, which writes its configuration.
        Assert.Contains("/storefront/redis.sh", compose.Services["cache"].Entrypoint);
        var redisScript = File.ReadAllText(Path.Combine(RepoPaths.Root, "AppHost", "LocalServers", "redis.sh"));
        Assert.Contains("appendonly yes", redisScript);
        Assert.Contains("maxmemory-policy volatile-lru", redisScript);
        // RabbitMQ's data folder is named after its host name: a fixed one survives recreation.
        Assert.Equal("messaging", compose.Services["messaging"].Hostname);
    }

    [Fact]
    public void Secrets_come_from_files_never_from_a_command_line_and_none_is_committed()
    {
        var text = File.ReadAllText(ComposeFile.FilePath);
        var made = ComposeFile.MakeSecrets(new Dictionary<string, string>());

        // Every secret compose mounts is a file make-secrets.sh makes, kept outside the repository's history.
        Assert.All(compose.Secrets, secret =>
        {
            Assert.Equal($"./secrets/{secret.Key}", secret.Value);
            Assert.Contains(secret.Key, made.Keys);
        });
        Assert.All(compose.Services.Values.SelectMany(s => s.Secrets), secret => Assert.Contains(secret.Source, compose.Secrets.Keys));
        Assert.Contains("secrets/", File.ReadAllLines(Path.Combine(ComposeFile.DeployDirectory, ".gitignore")));
        Assert.True(made["admin-key"].Length >= 32);

        // No password, connection string or key in the file, the environment or a command line.
        Assert.DoesNotContain("password=", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("requirepass", text);
        Assert.All(compose.Services.Values, service =>
        {
            Assert.DoesNotContain(service.Environment.Keys, key => key.StartsWith("ConnectionStrings__") || key == "Auth__AdminKey");
            Assert.All(service.Environment.Where(e => e.Key.EndsWith("PASSWORD")), e => Assert.Fail($"{service.Name}: {e.Key} in the environment"));
        });
    }
}
