using Reference.Deploy.Tests.Support;

namespace Reference.Deploy.Tests;

/// <summary>What deploy/compose.yaml promises a server operator, read from the file itself.</summary>
public sealed class ComposeFileTests
{
    private static readonly string[] BackingServices = ["mysql", "cache", "messaging"];

    private static readonly IReadOnlyDictionary<string, string> Secrets = new Dictionary<string, string>
    {
        ["MYSQL_PASSWORD"] = "mysql-secret",
        ["CACHE_PASSWORD"] = "cache-secret",
        ["MESSAGING_PASSWORD"] = "messaging-secret",
        ["ADMIN_KEY"] = "admin-secret-0123456789abcdef0123456789",
    };

    private readonly ComposeFile compose = ComposeFile.Load(Secrets);

    private IEnumerable<ComposeService> DotNetServices => compose.Services.Values.Where(s => !BackingServices.Contains(s.Name));

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
            Assert.Equal("unless-stopped", service.Restart);
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
            var uses = BackingServices.Where(b => service.Environment.Values.Any(v => v.Contains($"@{b}:") || v.StartsWith($"{b}:") || v.Contains($"Server={b};")));
            Assert.All(uses, backing => Assert.Equal("service_healthy", service.DependsOn.GetValueOrDefault(backing)));
        });
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
        Assert.Contains("--appendonly", compose.Services["cache"].Command);
        Assert.Equal("yes", compose.Services["cache"].Command[compose.Services["cache"].Command.ToList().IndexOf("--appendonly") + 1]);
        // RabbitMQ's data folder is named after its host name: a fixed one survives recreation.
        Assert.Equal("messaging", compose.Services["messaging"].Hostname);
    }

    [Fact]
    public void Secrets_come_only_from_the_environment_and_none_is_committed()
    {
        var environment = compose.Services.Values.SelectMany(s => s.Environment.Values).Concat(compose.Services["cache"].Command);
        var text = File.ReadAllText(ComposeFile.FilePath);

        Assert.All(Secrets.Values, secret => Assert.Contains(environment, v => v.Contains(secret)));
        Assert.All(Secrets.Keys, variable => Assert.Contains($"${{{variable}:?", text));
        Assert.DoesNotContain("Password=", text.Replace("Password=${MYSQL_PASSWORD", ""));

        var example = File.ReadAllLines(Path.Combine(ComposeFile.DeployDirectory, ".env.example"));
        Assert.All(Secrets.Keys, variable => Assert.Contains($"{variable}=", example));
        Assert.Contains(".env", File.ReadAllLines(Path.Combine(ComposeFile.DeployDirectory, ".gitignore")));
    }
}
