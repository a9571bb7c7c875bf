using System.Text.Json;
using Reference.Contracts;
using StackExchange.Redis;

namespace Reference.UploadApi.Operations;

/// <summary>The image workers as their heartbeats describe them, and the commands left for them.</summary>
public sealed class WorkerRegistry(IConnectionMultiplexer redis, TimeProvider clock)
{
    public async Task<IReadOnlyList<WorkerView>> ListAsync()
    {
        var database = redis.GetDatabase();
        var now = clock.GetUtcNow();
        // Forget workers whose last heartbeat has expired; lost ones stay in view until then.
        await database.SortedSetRemoveRangeByScoreAsync(WorkerControl.WorkersKey, 0, (now - WorkerControl.KeptFor).ToUnixTimeMilliseconds());
        var ids = await database.SortedSetRangeByRankAsync(WorkerControl.WorkersKey);
        if (ids.Length == 0)
        {
            return [];
        }

        var values = await database.StringGetAsync(ids.Select(id => (RedisKey)WorkerControl.HeartbeatKey(id.ToString())).ToArray());
        return values.Where(v => v.HasValue)
            .Select(v => JsonSerializer.Deserialize<WorkerHeartbeat>(v.ToString(), JsonSerializerOptions.Web)!)
            .Select(h => WorkerView.From(h, now))
            .OrderBy(w => w.Lost).ThenBy(w => w.Heartbeat.Name).ThenBy(w => w.Heartbeat.StartedAt)
            .ToList();
    }

    public async Task<WorkerView?> FindAsync(string workerId)
    {
        var value = await redis.GetDatabase().StringGetAsync(WorkerControl.HeartbeatKey(workerId));
        return value.HasValue
            ? WorkerView.From(JsonSerializer.Deserialize<WorkerHeartbeat>(value.ToString(), JsonSerializerOptions.Web)!, clock.GetUtcNow())
            : null;
    }

    /// <summary>Leaves the command for the worker's next heartbeat; it expires unread if the worker never comes back.</summary>
    public Task SendAsync(string workerId, WorkerCommand command) =>
        redis.GetDatabase().StringSetAsync(WorkerControl.CommandKey(workerId), command.ToString(), TimeSpan.FromMinutes(1));
}

/// <param name="SilentForSeconds">Since the last heartbeat; past <see cref="WorkerControl.LostAfter"/> the worker is lost.</param>
public sealed record WorkerView(WorkerHeartbeat Heartbeat, bool Lost, double SilentForSeconds)
{
    public static WorkerView From(WorkerHeartbeat heartbeat, DateTimeOffset now)
    {
        var silent = now - heartbeat.SentAt;
        return new WorkerView(heartbeat, silent > WorkerControl.LostAfter, Math.Round(silent.TotalSeconds, 1));
    }
}
