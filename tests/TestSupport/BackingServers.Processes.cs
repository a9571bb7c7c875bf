using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using MySqlConnector;

namespace Reference.Tests.Support;

/// <summary>Starting and stopping the servers, and knowing when one answers.</summary>
public sealed partial class BackingServers
{
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
