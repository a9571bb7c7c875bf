using System.Collections.Concurrent;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Reference.AppHost.Supervision;

/// <summary>
/// Brings back a service or local server (a database, the broker, Redis, the S3 server) that died, as Supervisor or a compose restart
/// policy would: DCP leaves a crashed process Finished. Only crashes count (a non-zero exit
/// code); a resource stopped on purpose exits cleanly and stays stopped. The delay doubles
/// with each crash in a row (1 s up to 30 s) so a process that dies at start-up does not
/// spin, and resets once it has stayed up for a minute. A start that fails (a project waiting for
/// a backing server that is itself restarting gives up at once) is tried again with the same back-off.
/// </summary>
internal sealed class CrashRestarter(
    ResourceNotificationService notifications,
    ResourceCommandService commands,
    IHostApplicationLifetime lifetime,
    IConfiguration configuration,
    ILogger<CrashRestarter> logger) : BackgroundService
{
    private static readonly TimeSpan FirstDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StableAfter = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, Crashes> _crashes = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!configuration.GetValue("Supervision:RestartCrashed", true))
        {
            return;
        }

        await foreach (var change in notifications.WatchAsync(stoppingToken))
        {
            if (change.Resource is not (ProjectResource or ExecutableResource) || lifetime.ApplicationStopping.IsCancellationRequested)
            {
                continue;
            }

            var state = change.Snapshot.State?.Text;
            var crashes = _crashes.GetOrAdd(change.ResourceId, _ => new Crashes());
            // A stop command passes through Stopping, and DCP may then report exit code -1: that is an
            // operator's choice, not a crash. The mark holds until the resource starts again, since a
            // late snapshot of the still-running process can arrive between Stopping and the exit.
            if (state == KnownResourceStates.Stopping)
            {
                crashes.StopRequestedAt ??= DateTime.UtcNow;
                continue;
            }

            if (state == KnownResourceStates.Starting
                || (state == KnownResourceStates.Running && change.Snapshot.StartTimeStamp?.ToUniversalTime() > crashes.StopRequestedAt))
            {
                crashes.StopRequestedAt = null;
            }

            if (state == KnownResourceStates.Running)
            {
                crashes.RunningSince ??= DateTime.UtcNow;
                continue;
            }

            var crashed = (state == KnownResourceStates.Finished || state == KnownResourceStates.Exited)
                          && change.Snapshot.ExitCode is { } code && code != 0 && crashes.StopRequestedAt is null;
            if (!crashed || crashes.RestartPending)
            {
                continue;
            }

            if (crashes.RunningSince is { } since && DateTime.UtcNow - since > StableAfter)
            {
                crashes.InARow = 0;
            }

            crashes.RunningSince = null;
            crashes.RestartPending = true;
            var delay = TimeSpan.FromTicks(Math.Min(MaxDelay.Ticks, FirstDelay.Ticks << Math.Min(crashes.InARow, 10)));
            crashes.InARow++;
            logger.LogWarning("{Resource} exited with code {ExitCode}; restarting it in {Delay} (crash {Count} in a row)",
                change.ResourceId, change.Snapshot.ExitCode, delay, crashes.InARow);
            _ = RestartAsync(change.ResourceId, crashes, delay, stoppingToken);
        }
    }

    private async Task RestartAsync(string resourceId, Crashes crashes, TimeSpan delay, CancellationToken stoppingToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(delay, stoppingToken);
                if (notifications.TryGetCurrentState(resourceId, out var current)
                    && (current.Snapshot.State?.Text == KnownResourceStates.Running || current.Snapshot.State?.Text == KnownResourceStates.Starting))
                {
                    break; // someone started it meanwhile
                }

                var result = await commands.ExecuteCommandAsync(resourceId, KnownResourceCommands.StartCommand, stoppingToken);
                if (result.Success)
                {
                    break;
                }

                // E.g. it waits for RabbitMQ, which is restarting right now: DCP gives up on the
                // start at once, and nothing else would ever try again.
                delay = TimeSpan.FromTicks(Math.Min(MaxDelay.Ticks, delay.Ticks * 2));
                logger.LogWarning("Restarting {Resource} failed ({Error}); trying again in {Delay}", resourceId, result.Message, delay);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            crashes.RestartPending = false;
        }
    }

    private sealed class Crashes
    {
        public int InARow { get; set; }

        public DateTime? RunningSince { get; set; }

        public bool RestartPending { get; set; }

        /// <summary>When a stop command was seen; null once the resource starts again.</summary>
        public DateTime? StopRequestedAt { get; set; }
    }
}
