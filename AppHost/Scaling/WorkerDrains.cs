using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Reference.Contracts;
using Reference.Scaling;
using StackExchange.Redis;

namespace Reference.AppHost.Scaling;

/// <summary>
/// How the scaler takes a worker out of the pool without killing a job: it tells the worker to drain through the
/// same Redis command key the operations console uses (<see cref="WorkerControl.CommandKey"/>), and stops the
/// resource once the worker's heartbeat says Drained. A worker that sends no heartbeat (it cannot reach Redis), or
/// is still not drained after <see cref="ScalingOptions.DrainTimeout"/>, is stopped once the broker shows it holds
/// no job; a job delivered between that reading and the stop is cancelled, redelivered, and redone idempotently.
/// A worker found Draining or Drained by someone else (an operator, a scaler before a restart) is leaving too:
/// it takes no jobs, so it is stopped the same way and the pool refills if the queue needs it.
/// </summary>
public sealed class WorkerDrains(ScalerRedis redis, IOptions<ScalingOptions> options, TimeProvider clock, ILogger<WorkerDrains> logger)
{
    private readonly Dictionary<string, Leaving> _leaving = [];

    /// <summary>Workers on their way out, by resource name; none of them counts as running.</summary>
    public IReadOnlyCollection<string> LeavingNow => _leaving.Keys;

    /// <summary>
    /// The newest live heartbeat of each running worker, by resource name (a heartbeat carries it: OTEL_SERVICE_NAME);
    /// a heartbeat from before the resource's current start is a previous process's. Empty when Redis does not answer.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, WorkerHeartbeat>> HeartbeatsAsync(
        IReadOnlyDictionary<string, DateTime?> up, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        try
        {
            var database = await redis.DatabaseAsync(cancellationToken);
            var ids = await database.SortedSetRangeByScoreAsync(WorkerControl.WorkersKey, (now - WorkerControl.LostAfter).ToUnixTimeMilliseconds());
            var keys = ids.Select(id => (RedisKey)WorkerControl.HeartbeatKey(id.ToString())).ToArray();
            var values = keys.Length == 0 ? [] : await database.StringGetAsync(keys);
            return values.Where(v => v.HasValue)
                .Select(v => JsonSerializer.Deserialize<WorkerHeartbeat>(v.ToString(), JsonSerializerOptions.Web)!)
                .Where(h => up.TryGetValue(h.Name, out var started) && now - h.SentAt <= WorkerControl.LostAfter
                            && (started is null || h.StartedAt >= started.Value.ToUniversalTime().AddSeconds(-1)))
                .GroupBy(h => h.Name)
                .ToDictionary(g => g.Key, g => g.MaxBy(h => h.StartedAt)!);
        }
        catch (Exception e) when (e is RedisException or TimeoutException or InvalidOperationException or JsonException
                                  && !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Could not read the workers' heartbeats from Redis ({Error}); drains fall back to the broker's view", e.Message);
            return new Dictionary<string, WorkerHeartbeat>();
        }
    }

    /// <summary>
    /// Forgets workers that are no longer up, or were started again since (a new process takes jobs), and adopts running
    /// ones whose heartbeat says they are draining.
    /// </summary>
    public void Track(IReadOnlyDictionary<string, DateTime?> up, IReadOnlyDictionary<string, WorkerHeartbeat> heartbeats)
    {
        foreach (var (name, leaving) in _leaving.ToList())
        {
            if (!up.TryGetValue(name, out var started) || (leaving.ResourceStarted is { } then && started != then))
            {
                _leaving.Remove(name);
            }
            else if (leaving.ResourceStarted is null)
            {
                _leaving[name] = leaving with { ResourceStarted = started };
            }
        }

        foreach (var (name, heartbeat) in heartbeats)
        {
            if (heartbeat.State != "Running" && !_leaving.ContainsKey(name))
            {
                logger.LogInformation("{Worker} is {State} ({WorkerId}); it leaves the pool", name, heartbeat.State, heartbeat.WorkerId);
                _leaving[name] = new Leaving(clock.GetUtcNow(), heartbeat.WorkerId, up[name]);
            }
        }
    }

    /// <summary>Tells <paramref name="worker"/> to take nothing new and finish what it holds; from now on it is leaving.</summary>
    public async Task BeginAsync(string worker, WorkerHeartbeat? heartbeat, CancellationToken cancellationToken)
    {
        _leaving[worker] = new Leaving(clock.GetUtcNow(), null);
        if (heartbeat is not null)
        {
            await TellAsync(worker, heartbeat, cancellationToken);
        }
        else
        {
            logger.LogInformation("{Worker} sends no heartbeat; it is stopped once the broker shows it holds no job", worker);
        }
    }

    /// <summary>Whether a leaving worker may be stopped now, and why (for the log); null when it must wait.</summary>
    public async Task<string?> MayStopAsync(
        string worker, WorkerHeartbeat? heartbeat, WorkQueueReading? reading, CancellationToken cancellationToken)
    {
        var leaving = _leaving[worker];
        if (heartbeat?.State == "Drained")
        {
            return "its heartbeat says Drained";
        }

        if (heartbeat is { State: "Running" } && leaving.Told != heartbeat.WorkerId)
        {
            await TellAsync(worker, heartbeat, cancellationToken); // it had sent no heartbeat when the drain began
            return null;
        }

        var holdsNothing = reading is not null && reading.HeldBy.GetValueOrDefault(worker) == 0;
        if (heartbeat is null)
        {
            return holdsNothing ? "no heartbeat, and the broker shows it holds no job" : null;
        }

        var draining = clock.GetUtcNow() - leaving.Since;
        return draining >= options.Value.DrainTimeout && holdsNothing
            ? $"still {heartbeat.State} after {draining.TotalSeconds:0} s, and the broker shows it holds no job"
            : null;
    }

    public void Stopped(string worker) => _leaving.Remove(worker);

    private async Task TellAsync(string worker, WorkerHeartbeat heartbeat, CancellationToken cancellationToken)
    {
        try
        {
            var database = await redis.DatabaseAsync(cancellationToken);
            // As the console's WorkerRegistry.SendAsync: the command expires unread if the worker never comes back.
            await database.StringSetAsync(WorkerControl.CommandKey(heartbeat.WorkerId), nameof(WorkerCommand.Drain), TimeSpan.FromMinutes(1));
            _leaving[worker] = _leaving[worker] with { Told = heartbeat.WorkerId };
            logger.LogInformation("Told {Worker} ({WorkerId}) to drain", worker, heartbeat.WorkerId);
        }
        catch (Exception e) when (e is RedisException or TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Could not tell {Worker} to drain ({Error}); trying again next round", worker, e.Message);
        }
    }

    /// <param name="Told">The worker process told to drain, once told.</param>
    /// <param name="ResourceStarted">When the resource's current run began, as seen by the next round.</param>
    private sealed record Leaving(DateTimeOffset Since, string? Told, DateTime? ResourceStarted = null);
}
