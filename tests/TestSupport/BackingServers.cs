using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
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
public sealed class BackingServers : IAsyncLifetime
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

    public async Task StartAsync(BackingServer server)
    {
        if (_processes.ContainsKey(server))
        {
            return;
        }

        var scripts = Path.Combine(RepoPaths.Root, "AppHost", "LocalServers");
        var start = server switch
        {
            BackingServer.MySql => Script(Path.Combine(scripts, "mariadb.sh"), Dir("mysql"), _mySqlPort.ToString()),
            BackingServer.Redis => Script(Path.Combine(scripts, "redis.sh"), Dir("redis"), _redisPort.ToString()),
            _ => Script(Path.Combine(scripts, "rabbitmq.sh"), Dir("rabbitmq"), _rabbitNode,
                _rabbitPort.ToString(), _rabbitDistPort.ToString(), RabbitMqManagement ? _rabbitManagementPort.ToString() : "0"),
        };
        start.Environment["MYSQL_ROOT_PASSWORD"] = MySqlPassword;
        start.Environment["REDIS_PASSWORD"] = RedisPassword;
        start.Environment["RABBITMQ_USER"] = RabbitUser;
        start.Environment["RABBITMQ_PASSWORD"] = RabbitPassword;
        start.Environment["RABBITMQ_MONITOR_PASSWORD"] = ServicePassword("rabbitmq", "monitor");
        start.Environment["RABBITMQ_OPERATOR_PASSWORD"] = ServicePassword("rabbitmq", "operator");
        start.Environment["REDIS_MAXMEMORY"] = RedisMaxMemory;
        foreach (var service in Services)
        {
            start.Environment[$"REDIS_{service.ToUpperInvariant()}_PASSWORD"] = ServicePassword("redis", service);
            start.Environment[$"RABBITMQ_{service.ToUpperInvariant()}_PASSWORD"] = ServicePassword("rabbitmq", service);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {server}.");
        var log = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        lock (_processes)
        {
            _processes[server] = process;
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        while (!await IsReadyAsync(server))
        {
            if (process.HasExited || timeout.IsCancellationRequested)
            {
                string output;
                lock (log) { output = log.ToString(); }
                throw new InvalidOperationException($"{server} did not become ready (exited: {process.HasExited}). Output:\n{output}");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>Stops a server gracefully (SIGTERM), as a restart or an outage would.</summary>
    public async Task StopAsync(BackingServer server)
    {
        Process? process;
        lock (_processes)
        {
            if (!_processes.Remove(server, out process))
            {
                return;
            }
        }

        if (!process.HasExited)
        {
            _ = Kill(process.Id, 15);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        process.Dispose();
    }

    private string ServerConnectionString() =>
        $"Server=127.0.0.1;Port={_mySqlPort};User ID=root;Password={MySqlPassword};Pooling=true;Connection Timeout=5";

    private async Task<bool> IsReadyAsync(BackingServer server)
    {
        try
        {
            switch (server)
            {
                case BackingServer.MySql:
                    await using (var connection = new MySqlConnection(ServerConnectionString()))
                    {
                        await connection.OpenAsync();
                    }

                    return true;
                case BackingServer.Redis:
                    return await RespondsAsync(_redisPort, System.Text.Encoding.ASCII.GetBytes($"AUTH {RedisPassword}\r\nPING\r\n"), "+PONG");
                default:
                    // RabbitMQ opens its AMQP listener last in its boot; a protocol header is answered with Connection.Start.
                    return await RespondsAsync(_rabbitPort, [(byte)'A', (byte)'M', (byte)'Q', (byte)'P', 0, 0, 9, 1], null);
            }
        }
        catch (Exception e) when (e is MySqlException or SocketException or IOException)
        {
            return false;
        }
    }

    private static async Task<bool> RespondsAsync(int port, byte[] request, string? expected)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        var stream = client.GetStream();
        await stream.WriteAsync(request);
        var buffer = new byte[512];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        var text = "";
        while (true)
        {
            var read = await stream.ReadAsync(buffer, timeout.Token);
            if (read == 0)
            {
                return false;
            }

            if (expected is null)
            {
                return true;
            }

            text += System.Text.Encoding.ASCII.GetString(buffer, 0, read);
            if (text.Contains(expected, StringComparison.Ordinal))
            {
                return true;
            }
        }
    }

    private string Dir(string name) => Path.Combine(_root, name);

    private static ProcessStartInfo Script(string path, params string[] arguments)
    {
        var start = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(path);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
