using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Reference.Scaling;

namespace Reference.AppHost.Scaling;

/// <summary>
/// The F5 run's scheduler: every <see cref="ScalingOptions.Interval"/> it reads the work queue, asks
/// <see cref="ScalingPolicy"/> for a pool size, and starts stopped workers or stops drained ones through
/// Aspire's resource commands. The running workers are read from the resources' states each round,
/// never remembered, so a restarted scaler adopts the pool it finds instead of starting a second one.
/// </summary>
public sealed class WorkerScaler(
    WorkerPoolMembers pool,
    WorkQueueReader queue,
    IWorkerDrain drain,
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

            await Task.Delay(options.Value.Interval, clock, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task RoundAsync(ScalingPolicy policy, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var running = pool.Names.Where(IsUp).ToList();
        var reading = await queue.ReadAsync(now, cancellationToken);
        var decision = policy.Decide(new ScalingInputs(reading?.Queue, running.Count, now));
        LastDecision = decision;
        metrics.Record(decision);
        if (!decision.IsChange)
        {
            logger.LogDebug("Image workers {Decision} (held by {HeldBy})", decision, Held(reading));
            return;
        }

        logger.LogInformation("Image workers {From} → {To}: {Reason} (running {Running}; held by {HeldBy})",
            decision.From, decision.To, decision.Reason, string.Join(' ', running), Held(reading));
        if (decision.To > decision.From)
        {
            foreach (var worker in pool.Names.Where(name => !IsUp(name)).Take(decision.To - decision.From))
            {
                var started = await commands.ExecuteCommandAsync(worker, KnownResourceCommands.StartCommand, cancellationToken);
                logger.LogInformation("Started {Worker}: {Success} after {Elapsed} ms", worker, started.Success, (clock.GetUtcNow() - now).TotalMilliseconds);
                if (!started.Success)
                {
                    logger.LogWarning("Starting {Worker} failed: {Error}", worker, started.Message);
                }
            }

            return;
        }

        // Down: the last-started idle workers first, each only once drained.
        var stopping = decision.From - decision.To;
        foreach (var worker in Enumerable.Reverse(running))
        {
            if (stopping == 0 || reading is null)
            {
                break;
            }

            if (!await drain.DrainAsync(worker, reading, cancellationToken))
            {
                continue;
            }

            var stopped = await commands.ExecuteCommandAsync(worker, KnownResourceCommands.StopCommand, cancellationToken);
            logger.LogInformation("Stopped {Worker}: {Success} after {Elapsed} ms", worker, stopped.Success, (clock.GetUtcNow() - now).TotalMilliseconds);
            if (stopped.Success)
            {
                stopping--;
            }
            else
            {
                logger.LogWarning("Stopping {Worker} failed: {Error}", worker, stopped.Message);
            }
        }

        if (stopping > 0)
        {
            logger.LogInformation("{Count} image worker(s) still hold jobs; stopping them waits for a later round", stopping);
        }
    }

    private static string Held(WorkQueueReading? reading) =>
        reading is null ? "unknown" : string.Join(' ', reading.HeldBy.Select(held => $"{held.Key}={held.Value}"));

    private bool IsUp(string worker) =>
        notifications.TryGetCurrentState(worker, out var current) && current.Snapshot.State?.Text is { } state && Up.Contains(state);
}
