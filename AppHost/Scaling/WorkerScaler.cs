using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Reference.Scaling;
using Reference.Contracts;
using StackExchange.Redis;

namespace Reference.AppHost.Scaling;

/// <summary>
/// The F5 run's scheduler: every <see cref="ScalingOptions.Interval"/> it reads the work queue, asks
/// <see cref="ScalingPolicy"/> for a pool size, starts stopped workers, and takes workers out by draining
/// them (<see cref="WorkerDrains"/>) before Aspire's stop command. The running workers are read from the
/// resources' states and heartbeats each round, never remembered, so a restarted scaler adopts the pool it
/// finds instead of starting a second one. Each decision goes to the log, the metrics and the console.
/// </summary>
public sealed class WorkerScaler(
    WorkerPoolMembers pool,
    WorkQueueReader queue,
    WorkerDrains drains,
    ScalerRedis redis,
    ScalingMetrics metrics,
    ResourceNotificationService notifications,
    ResourceCommandService commands,
    IOptions<ScalingOptions> options,
    TimeProvider clock,
    ILogger<WorkerScaler> logger) : BackgroundService
{
    private static readonly HashSet<string> Up = [KnownResourceStates.Running, KnownResourceStates.Starting, KnownResourceStates.RuntimeUnhealthy, KnownResourceStates.Waiting];

    /// <summary>The last decision, for tests and the operations console.</summary>
    public ScalingDecision? LastDecision { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var policy = new ScalingPolicy(pool.Limits);
        logger.LogInformation("Scaling image workers between {Min} and {Max}", pool.Limits.MinWorkers, pool.Limits.MaxWorkers);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RoundAsync(policy, stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "A scaling round failed; trying again next round");
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                // The run is stopping (a round's call to the broker or Redis ended with it): not a failure to report.
                return;
            }

            // With no worker up, sooner when a job arrives (ScalingRounds): a cold upload waits for no whole round.
            await ScalingRounds.WaitAsync(options.Value.Interval, LastDecision is { To: 0 }, queue.ReadyNowAsync, clock, stoppingToken);
        }
    }

    private async Task RoundAsync(ScalingPolicy policy, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var up = UpWorkers();
        var heartbeats = await drains.HeartbeatsAsync(up, cancellationToken);
        drains.Track(up, heartbeats);
        var running = pool.Names.Where(name => up.ContainsKey(name) && !drains.LeavingNow.Contains(name)).ToList();
        var reading = await queue.ReadAsync(now, cancellationToken);
        var decision = policy.Decide(new ScalingInputs(reading?.Queue, running.Count, now));
        LastDecision = decision;
        metrics.Record(decision);
        await WriteDecisionAsync(decision, cancellationToken);
        if (!decision.IsChange)
        {
            logger.LogDebug("Image workers {Decision} (held by {HeldBy})", decision, Held(reading));
        }
        else
        {
            logger.LogInformation("Image workers {From} → {To}: {Reason} (running {Running}; held by {HeldBy})",
                decision.From, decision.To, decision.Reason, string.Join(' ', running), Held(reading));
        }

        if (decision.To < decision.From)
        {
            // Down: those holding the fewest jobs first, the last started among equals.
            foreach (var worker in Enumerable.Reverse(running).OrderBy(name => reading?.HeldBy.GetValueOrDefault(name) ?? 0).Take(decision.From - decision.To))
            {
                await drains.BeginAsync(worker, heartbeats.GetValueOrDefault(worker), cancellationToken);
            }
        }

        // Every leaving worker, whatever this round decided (a worker told to drain takes no more jobs), and before
        // starting any: a burst that arrives while the last worker drains gets that worker back in the same round.
        await StopDrainedAsync(heartbeats, reading, now, cancellationToken);

        if (decision.To > decision.From)
        {
            var upNow = UpWorkers();
            foreach (var worker in pool.Names.Where(name => !upNow.ContainsKey(name)).Take(decision.To - decision.From))
            {
                var started = await commands.ExecuteCommandAsync(worker, KnownResourceCommands.StartCommand, cancellationToken);
                logger.LogInformation("Started {Worker}: {Success} after {Elapsed} ms", worker, started.Success, (clock.GetUtcNow() - now).TotalMilliseconds);
                if (!started.Success)
                {
                    logger.LogWarning("Starting {Worker} failed: {Error}", worker, started.Message);
                }
            }
        }
    }

    private async Task StopDrainedAsync(
        IReadOnlyDictionary<string, WorkerHeartbeat> heartbeats, WorkQueueReading? reading, DateTimeOffset now, CancellationToken cancellationToken)
    {
        foreach (var worker in drains.LeavingNow.ToList())
        {
            if (await drains.MayStopAsync(worker, heartbeats.GetValueOrDefault(worker), reading, cancellationToken) is not { } why)
            {
                continue;
            }

            var stopped = await commands.ExecuteCommandAsync(worker, KnownResourceCommands.StopCommand, cancellationToken);
            logger.LogInformation("Stopped {Worker} ({Why}): {Success} after {Elapsed} ms", worker, why, stopped.Success, (clock.GetUtcNow() - now).TotalMilliseconds);
            if (stopped.Success)
            {
                drains.Stopped(worker);
            }
            else
            {
                logger.LogWarning("Stopping {Worker} failed: {Error}", worker, stopped.Message);
            }
        }
    }

    private async Task WriteDecisionAsync(ScalingDecision decision, CancellationToken cancellationToken)
    {
        try
        {
            await ScalerDecisionLog.WriteAsync(await redis.DatabaseAsync(cancellationToken), decision, drains.LeavingNow, pool.Limits);
        }
        catch (Exception e) when (e is RedisException or TimeoutException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
        {
            // The log and the metrics still have it; the console shows the scaler silent.
            logger.LogDebug("Could not write the scaler's decision to Redis: {Error}", e.Message);
        }
    }

    private static string Held(WorkQueueReading? reading) =>
        reading is null ? "unknown" : string.Join(' ', reading.HeldBy.Select(held => $"{held.Key}={held.Value}"));

    /// <summary>The workers whose resources are up, with when each was started (its heartbeats from before are a previous process's).</summary>
    private Dictionary<string, DateTime?> UpWorkers()
    {
        var up = new Dictionary<string, DateTime?>();
        foreach (var name in pool.Names)
        {
            if (notifications.TryGetCurrentState(name, out var current) && current.Snapshot.State?.Text is { } state && Up.Contains(state))
            {
                up[name] = current.Snapshot.StartTimeStamp;
            }
        }

        return up;
    }
}
