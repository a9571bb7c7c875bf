using System.Diagnostics;
using System.Text.Json;
using Reference.Contracts;
using StackExchange.Redis;

namespace Reference.ImageWorker.Operations;

/// <summary>
/// Tells the operations console what this worker does, every <see cref="WorkerControl.HeartbeatInterval"/>, in Redis
/// (so the console's restarts lose nothing), and acts on the command an operator or a scheduler left for it
/// (<see cref="WorkerControl.CommandKey"/>): drain, drain and stop, or resume after a drain.
/// </summary>
public sealed class WorkerHeartbeats(
    WorkerJobs jobs,
    WorkerDrain drain,
    ImageUploadedEndpoint endpoint,
    IConnectionMultiplexer redis,
    IHostApplicationLifetime lifetime,
    ILogger<WorkerHeartbeats> logger) : BackgroundService
{
    private static readonly ActivitySource Tracing = new("Reference.ImageWorker");
    private volatile bool _stopping;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(WorkerControl.HeartbeatInterval);
        do
        {
            try
            {
                await ObeyAsync();
                await SendAsync(lastWords: null, wait: true);
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                // The console shows this worker lost until Redis answers again; the jobs go on.
                logger.LogDebug(e, "Could not send the heartbeat of worker {WorkerId}.", jobs.Identity.WorkerId);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Said just before the process ends itself, so the console can name the job and the reason.</summary>
    public void SendLastWords(string reason)
    {
        try
        {
            SendAsync(reason, wait: true).Wait(TimeSpan.FromSeconds(1));
        }
        catch (Exception e) when (e is AggregateException or RedisException or TimeoutException)
        {
            logger.LogWarning(e, "Could not send the last words of worker {WorkerId}.", jobs.Identity.WorkerId);
        }
    }

    private async Task ObeyAsync()
    {
        var database = redis.GetDatabase();
        var command = (string?)await database.StringGetDeleteAsync(WorkerControl.CommandKey(jobs.Identity.WorkerId));
        if (!Enum.TryParse<WorkerCommand>(command, ignoreCase: true, out var order))
        {
            return;
        }

        using var activity = Tracing.StartActivity($"worker {order}");
        activity?.SetTag("worker.id", jobs.Identity.WorkerId);
        logger.LogWarning("Worker {WorkerId} was told to {Command}.", jobs.Identity.WorkerId, order);
        if (order == WorkerCommand.Resume)
        {
            if (_stopping)
            {
                // The process is on its way out; a replacement, not this one, takes jobs again.
                logger.LogWarning("Worker {WorkerId} is stopping and cannot resume.", jobs.Identity.WorkerId);
            }
            else
            {
                _ = endpoint.ResumeAsync().ContinueWith(
                    t => logger.LogError(t.Exception, "Worker {WorkerId} could not resume.", jobs.Identity.WorkerId),
                    CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            }

            return;
        }

        var drained = endpoint.DrainAsync();
        if (order == WorkerCommand.Stop && !_stopping)
        {
            _stopping = true;
            _ = drained.ContinueWith(_ => lifetime.StopApplication(), TaskScheduler.Default);
        }
    }

    private async Task SendAsync(string? lastWords, bool wait)
    {
        var identity = jobs.Identity;
        var state = _stopping ? "Stopping" : endpoint.IsDrained ? "Drained" : drain.IsDraining ? "Draining" : "Running";
        var now = DateTimeOffset.UtcNow;
        var heartbeat = new WorkerHeartbeat(identity.WorkerId, identity.Name, identity.Host, identity.Pid, identity.Version,
            identity.StartedAt, Consumers.ImageUploadedConsumerDefinition.ConcurrentJobs, state, jobs.Snapshot(), jobs.Done, jobs.Failed,
            Environment.WorkingSet, now, lastWords);
        var database = redis.GetDatabase();
        var flags = wait ? CommandFlags.None : CommandFlags.FireAndForget;
        await database.StringSetAsync(WorkerControl.HeartbeatKey(identity.WorkerId),
            JsonSerializer.Serialize(heartbeat, JsonSerializerOptions.Web), WorkerControl.KeptFor, flags: flags);
        await database.SortedSetAddAsync(WorkerControl.WorkersKey, identity.WorkerId, now.ToUnixTimeMilliseconds(), flags);
    }
}
