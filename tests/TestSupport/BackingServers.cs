using System.Diagnostics;
using MySqlConnector;
using Xunit;

namespace Reference.Tests.Support;

public enum BackingServer
{
    MySql,
    Redis,
    RabbitMq,
}

/// <summary>
/// Real MariaDB, Redis and RabbitMQ for integration tests, started as child processes with
/// the AppHost's own local-mode scripts (AppHost/LocalServers), each in a fresh temporary
/// folder on free loopback ports. Use it as an xUnit class or collection fixture.
/// Stop and start a server to test faults: it comes back on the same port with its data.
/// </summary>
public sealed partial class BackingServers : IAsyncLifetime
{
    private const string MySqlPassword = "test-mysql-pw";
    private const string RedisPassword = "test-redis-pw";
    private const string RabbitUser = "storefront";
    private const string RabbitPassword = "test-rabbit-pw";

    private readonly string _root = Directory.CreateTempSubdirectory("reference-backing-").FullName;
    private readonly string _rabbitNode = $"t{Guid.NewGuid():N}"[..12] + "@localhost";
    private readonly Dictionary<BackingServer, Process> _processes = [];
    private readonly int _mySqlPort = Loopback.FreePort();
    private readonly int _redisPort = Loopback.FreePort();
    private readonly int _rabbitPort = Loopback.FreePort();
    private readonly int _rabbitDistPort = Loopback.FreePort();
    private readonly int _rabbitManagementPort = Loopback.FreePort();

    /// <summary>RabbitMQ's management API on <see cref="RabbitMqManagementUrl"/> too (off by default: it slows the start).</summary>
    public bool RabbitMqManagement { get; init; }

    public Uri RabbitMqManagementUrl => new($"http://127.0.0.1:{_rabbitManagementPort}/");

    /// <summary>For <c>MySql:ServerVersion</c>: the Debian package is MariaDB 10.11.</summary>
    public string MySqlServerVersion => "10.11.0-mariadb";

    /// <summary>The services with Redis and RabbitMQ users of their own, as in the AppHost.</summary>
    public static readonly IReadOnlyList<string> Services = ["inventoryapi", "uploadapi", "imageworker"];

    /// <summary>Redis's bound (<c>maxmemory</c>), small here so a test can fill it.</summary>
    public const string RedisMaxMemory = "32mb";

    /// <summary>As Redis's administrator (the <c>default</c> user).</summary>
    public string RedisConnectionString => $"127.0.0.1:{_redisPort},password={RedisPassword}";

    /// <summary>As RabbitMQ's administrator.</summary>
    public string RabbitMqConnectionString => $"amqp://{RabbitUser}:{RabbitPassword}@127.0.0.1:{_rabbitPort}/";

    /// <summary>As <paramref name="service"/>'s own Redis user (AppHost/LocalServers/redis.sh).</summary>
    public string RedisConnectionStringFor(string service) => $"127.0.0.1:{_redisPort},user={service},password={ServicePassword("redis", service)}";

    /// <summary>As <paramref name="service"/>'s own RabbitMQ user, or <c>monitor</c> or <c>operator</c> (AppHost/LocalServers/rabbitmq-definitions.sh).</summary>
    public string RabbitMqConnectionStringFor(string service) => $"amqp://{service}:{ServicePassword("rabbitmq", service)}@127.0.0.1:{_rabbitPort}/";

    /// <summary>As root, for a set-up step: <c>ConnectionStrings:mysql-admin</c>.</summary>
    public string MySqlAdminConnectionString => ServerConnectionString();

    /// <summary>
    /// <paramref name="service"/>'s own login to <paramref name="database"/>, which the database's set-up
    /// (<c>--migrate</c>) creates; nothing is created here.
    /// </summary>
    public string MySqlConnectionStringFor(string service, string database) =>
        $"Server=127.0.0.1;Port={_mySqlPort};User ID={service};Password={ServicePassword("mysql", service)};Database={database}";

    /// <summary>Every password the servers were given, to look for where none may show.</summary>
    public static IReadOnlyList<string> Passwords =>
        [MySqlPassword, RedisPassword, RabbitPassword, ServicePassword("rabbitmq", "monitor"), ServicePassword("rabbitmq", "operator"),
         .. Services.SelectMany(s => new[] { ServicePassword("redis", s), ServicePassword("rabbitmq", s), ServicePassword("mysql", s) })];

    private static string ServicePassword(string server, string service) => $"test-{server}-{service}-pw";

    public int RabbitMqPort => _rabbitPort;

    /// <summary>A connection string for <paramref name="database"/>, created if it does not exist yet.</summary>
    public string MySqlConnectionString(string database)
    {
        using (var connection = new MySqlConnection(ServerConnectionString()))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"CREATE DATABASE IF NOT EXISTS `{database.Replace("`", "``", StringComparison.Ordinal)}`";
            command.ExecuteNonQuery();
        }

        return ServerConnectionString() + $";Database={database}";
    }

    public async Task InitializeAsync() =>
        await Task.WhenAll(StartAsync(BackingServer.MySql), StartAsync(BackingServer.Redis), StartAsync(BackingServer.RabbitMq));

    public async Task DisposeAsync()
    {
        await Task.WhenAll(_processes.Keys.ToList().Select(StopAsync));
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A server may still be flushing; the temp folder is cleaned by the OS eventually.
        }
    }

    private string ServerConnectionString() =>
        $"Server=127.0.0.1;Port={_mySqlPort};User ID=root;Password={MySqlPassword};Pooling=true;Connection Timeout=5";
}
