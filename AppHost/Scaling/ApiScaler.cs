using System.Collections.Concurrent;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Reference.Scaling;
using StackExchange.Redis;

namespace Reference.AppHost.Scaling;

/// <summary>
/// The F5 run's API scheduler: every <see cref="ApiScalingOptions.Interval"/> it reads the gateway's load per cluster,
/// asks each API's <see cref="ApiScalingPolicy"/> for a replica count, and starts or stops replicas through Aspire's
/// resource commands (the dashboard shows each change). A replica is stopped only after the gateway has taken it out of
/// rotation and its requests are done, so a scale-down costs clients nothing. Running replicas are read from the
/// resources' states each round, never remembered. Each change goes to the log, the metrics and the console.
/// </summary>
public sealed class ApiScaler(
    ScaledApis apis,
    GatewayLoadReader gateway,
    ScalerRedis redis,
    ApiScalingMetrics metrics,
    ResourceNotificationService notifications,
    ResourceCommandService commands,
    IOptions<ApiScalingOptions> options,
    TimeProvider clock,
    ILogger<ApiScaler> logger) : BackgroundService
{
    private static readonly HashSet<string> Up = [KnownResourceStates.Running, KnownResourceStates.Starting, KnownResourceStates.RuntimeUnhealthy, KnownResourceStates.Waiting];

    private readonly ConcurrentDictionary<string, DateTimeOffset> _stoppedAt = new();

    /// <summary>Each API's last decision, by cluster, for tests.</summary>
    public ConcurrentDictionary<string, ApiScalingDecision> LastDecisions { get; } = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var policies = apis.Apis.ToDictionary(api => api.Cluster, api => new ApiScalingPolicy(api.Cluster, api.Names.Count, options.Value.Limits));
        logger.LogInformation("Scaling {Apis} between 1 and their replicas by latency (target {Target} ms)",
            string.Join(", ", apis.Apis.Select(api => $"{api.Cluster} ({api.Names.Count})")), options.Value.LatencyTarget.TotalMilliseconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RoundAsync(policies, stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "An API scaling round failed; trying again next round");
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                return; // the run is stopping
            }

            await Task.Delay(options.Value.Interval, clock, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task RoundAsync(Dictionary<string, ApiScalingPolicy> policies, CancellationToken cancellationToken)
    {
        var readings = await ReadGatewayAsync(cancellationToken);
        var now = clock.GetUtcNow();
        foreach (var api in apis.Apis)
        {
            var running = Enumerable.Range(0, api.Names.Count).Where(i => IsUp(api.Names[i])).ToList();
            await PutBackHealthyTakenOutAsync(api, running, readings?.GetValueOrDefault(api.Cluster), cancellationToken);
            var decision = policies[api.Cluster].Decide(readings?.GetValueOrDefault(api.Cluster)?.Load, running.Count, now);
            LastDecisions[api.Cluster] = decision;
            metrics.Record(decision);
            if (!decision.IsChange)
            {
                logger.LogTrace("{Decision}", decision);
                continue;
            }

            logger.LogInformation("{Api} {From} → {To}: {Reason}", decision.Api, decision.From, decision.To, decision.Reason);
            await WriteDecisionAsync(decision, api.Names.Count, cancellationToken);
            if (decision.To > decision.From)
            {
                foreach (var index in Enumerable.Range(0, api.Names.Count).Where(i => !IsUp(api.Names[i])).Take(decision.To - decision.From))
                {
                    await StartAsync(api, index, cancellationToken);
                }
            }
            else
            {
                // The last started first; replica 1 is never among them (the policy keeps at least one).
                foreach (var index in Enumerable.Reverse(running).Take(decision.From - decision.To))
                {
                    await StopAsync(api, index, cancellationToken);
                }
            }
        }
    }

    private async Task StartAsync(ScaledApi api, int index, CancellationToken cancellationToken)
    {
        var name = api.Names[index];
        var started = await commands.ExecuteCommandAsync(name, KnownResourceCommands.StartCommand, cancellationToken);
        logger.LogInformation("Started {Replica} ({Result})", name, started.Success ? "ok" : started.Message);
        if (started.Success)
        {
            // Not awaited: the next rounds go on while it starts. Without this, the gateway's active check finds it within its interval.
            _ = PutInRotationWhenHealthyAsync(api, index, cancellationToken);
        }
    }

    /// <summary>Once Aspire sees the replica healthy, the gateway takes it into rotation at once (and out of an earlier stop's exclusion).</summary>
    private async Task PutInRotationWhenHealthyAsync(ScaledApi api, int index, CancellationToken cancellationToken)
    {
        var since = clock.GetUtcNow();
        try
        {
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bounded.CancelAfter(TimeSpan.FromMinutes(1));
            await notifications.WaitForResourceHealthyAsync(api.Names[index], bounded.Token);
            var back = await TrySetInRotationAsync(api, index, takeOut: false, cancellationToken);
            logger.LogInformation("{Replica} healthy {Elapsed:0} ms after its start; in the gateway's rotation: {Back}",
                api.Names[index], (clock.GetUtcNow() - since).TotalMilliseconds, back);
        }
        catch (OperationCanceledException)
        {
            logger.LogInformation("{Replica} was not healthy within a minute of its start; the gateway's active check decides", api.Names[index]);
        }
    }

    /// <summary>
    /// A replica that runs and is healthy but is out of the gateway's rotation (its stop failed, or someone started it from the
    /// dashboard after the scaler stopped it) is put back: a running replica always takes its share.
    /// </summary>
    private async Task PutBackHealthyTakenOutAsync(ScaledApi api, List<int> running, ClusterReading? reading, CancellationToken cancellationToken)
    {
        // Not the process this scaler stopped (a stop may still be under way): one started since.
        foreach (var index in running.Where(i => reading?.Destinations.GetValueOrDefault(new Uri(api.Endpoints[i].Url))?.TakenOut == true
                                                 && notifications.TryGetCurrentState(api.Names[i], out var current)
                                                 && current.Snapshot.HealthStatus == HealthStatus.Healthy
                                                 && (!_stoppedAt.TryGetValue(api.Names[i], out var stopped)
                                                     || current.Snapshot.StartTimeStamp?.ToUniversalTime() > stopped.UtcDateTime)))
        {
            logger.LogInformation("{Replica} runs healthy but out of the gateway's rotation; putting it back: {Back}",
                api.Names[index], await TrySetInRotationAsync(api, index, takeOut: false, cancellationToken));
        }
    }

    private async Task StopAsync(ScaledApi api, int index, CancellationToken cancellationToken)
    {
        var name = api.Names[index];
        if (!await TrySetInRotationAsync(api, index, takeOut: true, cancellationToken))
        {
            logger.LogWarning("The gateway did not take {Replica} out of rotation; it keeps running", name);
            return;
        }

        // Its requests finish before the stop (graceful shutdown would wait for them too, but new ones would be refused).
        var address = new Uri(api.Endpoints[index].Url);
        var since = clock.GetUtcNow();
        var inFlight = -1;
        while (clock.GetUtcNow() - since < options.Value.DrainTimeout)
        {
            inFlight = (await ReadGatewayAsync(cancellationToken))?.GetValueOrDefault(api.Cluster)?.Destinations.GetValueOrDefault(address)?.InFlight ?? -1;
            if (inFlight == 0)
            {
                break;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), clock, cancellationToken);
        }

        _stoppedAt[name] = clock.GetUtcNow();
        var stopped = await commands.ExecuteCommandAsync(name, KnownResourceCommands.StopCommand, cancellationToken);
        logger.LogInformation("Stopped {Replica} {Elapsed:0} ms after it left the gateway's rotation, {InFlight} requests then in flight ({Result})",
            name, (clock.GetUtcNow() - since).TotalMilliseconds, inFlight, stopped.Success ? "ok" : stopped.Message);
    }

    private async Task<bool> TrySetInRotationAsync(ScaledApi api, int index, bool takeOut, CancellationToken cancellationToken)
    {
        try
        {
            return await gateway.SetInRotationAsync(api.Cluster, new Uri(api.Endpoints[index].Url), takeOut, cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Could not reach the gateway for {Replica} ({Error})", api.Names[index], e.Message);
            return false;
        }
    }

    private async Task<IReadOnlyDictionary<string, ClusterReading>?> ReadGatewayAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await gateway.ReadAsync(cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException or KeyNotFoundException
                                  && !cancellationToken.IsCancellationRequested)
        {
            logger.LogDebug("Could not read the gateway's load ({Error}); the APIs hold", e.Message);
            return null;
        }
    }

    private async Task WriteDecisionAsync(ApiScalingDecision decision, int replicas, CancellationToken cancellationToken)
    {
        try
        {
            await ScalerDecisionLog.WriteAsync(await redis.DatabaseAsync(cancellationToken), decision, replicas);
        }
        catch (Exception e) when (e is RedisException or TimeoutException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
        {
            logger.LogDebug("Could not write the API scaler's decision to Redis: {Error}", e.Message);
        }
    }

    private bool IsUp(string name) =>
        notifications.TryGetCurrentState(name, out var current) && current.Snapshot.State?.Text is { } state && Up.Contains(state);
}
