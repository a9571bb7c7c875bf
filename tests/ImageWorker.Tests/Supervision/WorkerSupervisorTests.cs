using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Reference.Contracts;
using Reference.Tests.Support;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Reference.ImageWorker.Tests.Supervision;

/// <summary>
/// The compose deployment's scheduler, as a real process against real RabbitMQ (management on) and
/// Redis: jobs arriving at an empty pool start workers up to the cap, and the pool goes back to zero
/// once idle. The jobs are messages no worker can read: MassTransit moves them aside, which is all
/// the supervisor needs to see a queue fill and drain.
/// </summary>
public sealed class WorkerSupervisorTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly BackingServers _servers = new() { RabbitMqManagement = true };
    private readonly string _storage = Directory.CreateTempSubdirectory("reference-supervisor-").FullName;

    [Fact]
    public async Task Jobs_start_workers_up_to_the_cap_and_an_idle_pool_goes_back_to_zero()
    {
        using var management = new HttpClient { BaseAddress = _servers.RabbitMqManagementUrl };
        management.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes(Uri.UnescapeDataString(new Uri(_servers.RabbitMqConnectionString).UserInfo))));
        (await management.PutAsJsonAsync($"api/queues/%2F/{MessageEndpoints.ImageUploadedQueue}", new { durable = true })).EnsureSuccessStatusCode();

        var log = new StringBuilder();
        using var supervisor = StartSupervisor(log);
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(3));
            Assert.Empty(Children(supervisor.Id));

            for (var i = 0; i < 6; i++)
            {
                (await management.PostAsJsonAsync("api/exchanges/%2F/amq.default/publish", new
                {
                    routing_key = MessageEndpoints.ImageUploadedQueue, payload = "not a job", payload_encoding = "string", properties = new { },
                })).EnsureSuccessStatusCode();
            }

            var most = 0;
            var clock = Stopwatch.StartNew();
            int Running()
            {
                var running = Children(supervisor.Id).Count;
                most = Math.Max(most, running);
                return running;
            }

            Assert.True(await Poll.UntilAsync(() => Running() == 2, TimeSpan.FromSeconds(20)), $"the pool never reached 2:\n{Text(log)}");
            output.WriteLine($"pool at its cap of 2 after {clock.Elapsed.TotalSeconds:0.0} s");
            Assert.True(await Poll.UntilAsync(() => Running() == 0, TimeSpan.FromSeconds(60)),
                $"the pool did not go back to zero:\n{Text(log)}");
            output.WriteLine($"back to zero after {clock.Elapsed.TotalSeconds:0.0} s");

            Assert.Equal(2, most);
            // The supervisor may read the queue before the sixth job is in it: the count is what it saw then.
            Assert.Matches(@"Image workers 0 → 2: \d+ waiting", Text(log));
            Assert.Contains("idle for", Text(log));

            // The changes where the operations console reads the AppHost scaler's, newest first: up to the cap, back to zero.
            await using var redis = await ConnectionMultiplexer.ConnectAsync(_servers.RedisConnectionString);
            var changes = (await redis.GetDatabase().ListRangeAsync(WorkerControl.ScalerDecisionsKey))
                .Select(entry => JsonNode.Parse(entry.ToString())!).ToList();
            output.WriteLine(string.Join("\n", changes.Select(c => c.ToJsonString())));
            Assert.Contains(changes, c => (int)c["from"]! == 0 && (int)c["to"]! == 2 && (int)c["ready"]! is > 0 and <= 6 && (int)c["maxWorkers"]! == 2);
            Assert.Equal(0, (int)changes[0]["to"]!);
            Assert.Contains("idle for", (string)changes[0]["reason"]!);
        }
        finally
        {
            supervisor.Kill(entireProcessTree: true);
            await supervisor.WaitForExitAsync();
        }
    }

    private Process StartSupervisor(StringBuilder log)
    {
        var dll = typeof(ImageWorkerServices).Assembly.Location;
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(dll);
        start.Environment["ConnectionStrings__messaging"] = _servers.RabbitMqConnectionString;
        start.Environment["ConnectionStrings__cache"] = _servers.RedisConnectionString;
        start.Environment["Storage__Root"] = _storage;
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        start.Environment["Scaling__Supervise"] = "true";
        start.Environment["Scaling__MaxWorkers"] = "2";
        start.Environment["Scaling__IdleTimeout"] = "00:00:08";
        start.Environment["Scaling__StableWindow"] = "00:00:02";
        start.Environment["Scaling__Interval"] = "00:00:00.500";
        start.Environment["Scaling__ManagementUrl"] = _servers.RabbitMqManagementUrl.ToString();
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static string Text(StringBuilder log)
    {
        lock (log)
        {
            return log.ToString();
        }
    }

    private static List<int> Children(int pid) =>
        Directory.EnumerateDirectories($"/proc/{pid}/task")
            .SelectMany(task => File.Exists(Path.Combine(task, "children")) ? File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries) : [])
            .Select(int.Parse)
            .ToList();

    public Task InitializeAsync() => Task.WhenAll(_servers.StartAsync(BackingServer.RabbitMq), _servers.StartAsync(BackingServer.Redis));

    public async Task DisposeAsync()
    {
        await _servers.DisposeAsync();
        Directory.Delete(_storage, recursive: true);
    }
}
