using System.Text.Json;
using Reference.AppHost.Scaling;
using Reference.Contracts;
using Reference.Scaling;
using Reference.Tests.Support;

namespace Reference.AppHost.Tests;

/// <summary>
/// How the scaler drains one worker (WorkerDrains), against a real Redis: the worker's side is its heartbeat and command
/// keys, written and read here as ImageWorker's WorkerHeartbeats does.
/// </summary>
public sealed class WorkerDrainsTests : IAsyncLifetime
{
    private const string Worker = "imageworker-3";
    private readonly BackingServers _servers = new();
    private ScalerRedis _redis = null!;
    private StackExchange.Redis.ConnectionMultiplexer _worker = null!;

    [Fact]
    public async Task A_worker_that_sends_heartbeats_is_told_to_drain_and_may_stop_only_once_its_heartbeat_says_drained()
    {
        var drains = Drains(TimeSpan.FromMinutes(2));
        var running = await BeatAsync("Running");
        var idleOnTheBroker = Reading(held: 0);

        await drains.BeginAsync(Worker, running, CancellationToken.None);

        Assert.Equal("Drain", (string?)await _worker.GetDatabase().StringGetAsync(WorkerControl.CommandKey(running.WorkerId)));
        Assert.Equal([Worker], drains.LeavingNow);
        // The broker already shows it idle, but it has not said Drained: a job may be between its prefetch and its start.
        Assert.Null(await drains.MayStopAsync(Worker, await BeatAsync("Draining"), idleOnTheBroker, CancellationToken.None));
        Assert.Equal("its heartbeat says Drained", await drains.MayStopAsync(Worker, await BeatAsync("Drained"), Reading(held: 1), CancellationToken.None));
    }

    [Fact]
    public async Task A_worker_without_heartbeat_or_past_the_drain_timeout_stops_once_the_broker_shows_it_holds_no_job()
    {
        var silent = Drains(TimeSpan.FromMinutes(2));
        await silent.BeginAsync(Worker, heartbeat: null, CancellationToken.None);
        Assert.Null(await silent.MayStopAsync(Worker, null, Reading(held: 1), CancellationToken.None));
        Assert.Null(await silent.MayStopAsync(Worker, null, reading: null, CancellationToken.None));
        Assert.Contains("no heartbeat", await silent.MayStopAsync(Worker, null, Reading(held: 0), CancellationToken.None));

        var slow = Drains(TimeSpan.Zero);
        var draining = await BeatAsync("Draining");
        await slow.BeginAsync(Worker, draining, CancellationToken.None);
        Assert.Null(await slow.MayStopAsync(Worker, draining, Reading(held: 1), CancellationToken.None));
        Assert.Contains("still Draining", await slow.MayStopAsync(Worker, draining, Reading(held: 0), CancellationToken.None));
    }

    [Fact]
    public async Task A_worker_an_operator_drained_leaves_the_pool_and_a_previous_process_heartbeat_is_not_the_current_one()
    {
        var drains = Drains(TimeSpan.FromMinutes(2));
        var drained = await BeatAsync("Drained", startedAt: DateTimeOffset.UtcNow.AddSeconds(-30));

        var firstRun = new Dictionary<string, DateTime?> { [Worker] = DateTime.UtcNow.AddSeconds(-60) };
        var seen = await drains.HeartbeatsAsync(firstRun, CancellationToken.None);
        Assert.Equal(drained.WorkerId, seen[Worker].WorkerId);
        drains.Track(firstRun, seen);
        drains.Track(firstRun, seen);
        Assert.Equal([Worker], drains.LeavingNow);

        // The resource restarted since: that heartbeat was its previous process's, and the new process is not leaving.
        var secondRun = new Dictionary<string, DateTime?> { [Worker] = DateTime.UtcNow };
        var restarted = await drains.HeartbeatsAsync(secondRun, CancellationToken.None);
        Assert.Empty(restarted);
        drains.Track(secondRun, restarted);
        Assert.Empty(drains.LeavingNow);
    }

    private WorkerDrains Drains(TimeSpan drainTimeout) => new(_redis,
        Microsoft.Extensions.Options.Options.Create(new ScalingOptions { DrainTimeout = drainTimeout }), TimeProvider.System,
        Microsoft.Extensions.Logging.Abstractions.NullLogger<WorkerDrains>.Instance);

    private static WorkQueueReading Reading(int held) =>
        new(new QueueReading(0, held), 1, new Dictionary<string, int> { [Worker] = held });

    private int _pid = 4000;

    /// <summary>A heartbeat as the worker process sends it (one process per test unless told otherwise).</summary>
    private async Task<WorkerHeartbeat> BeatAsync(string state, DateTimeOffset? startedAt = null)
    {
        var now = DateTimeOffset.UtcNow;
        var heartbeat = new WorkerHeartbeat($"{Worker}.test.{_pid}", Worker, "test", _pid, "1", startedAt ?? now.AddSeconds(-5), 2, state, [], 0, 0, 0, now);
        var database = _worker.GetDatabase();
        await database.StringSetAsync(WorkerControl.HeartbeatKey(heartbeat.WorkerId),
            JsonSerializer.Serialize(heartbeat, JsonSerializerOptions.Web), WorkerControl.KeptFor);
        await database.SortedSetAddAsync(WorkerControl.WorkersKey, heartbeat.WorkerId, now.ToUnixTimeMilliseconds());
        return heartbeat;
    }

    public async Task InitializeAsync()
    {
        await _servers.StartAsync(BackingServer.Redis);
        _redis = new ScalerRedis(_ => ValueTask.FromResult<string?>(_servers.RedisConnectionString));
        // The worker's own Redis user: its heartbeat and command keys are within its rights.
        _worker = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(_servers.RedisConnectionStringFor("imageworker"));
    }

    public async Task DisposeAsync()
    {
        await _worker.DisposeAsync();
        await _redis.DisposeAsync();
        await _servers.DisposeAsync();
    }
}
