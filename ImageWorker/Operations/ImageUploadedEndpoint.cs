using MassTransit;
using Reference.Contracts;
using Reference.ImageWorker.Consumers;

namespace Reference.ImageWorker.Operations;

/// <summary>
/// The workers' queue, connected by hand once the bus runs (not by <c>ConfigureEndpoints</c>) so this
/// worker keeps its handle and can drain: stopping the endpoint cancels its RabbitMQ consumer, so the broker
/// sends it nothing more, while the jobs it holds finish. A job it received but had not started when
/// the drain began waits for the stop and goes back to the queue unacknowledged, to another worker.
/// A resume connects the endpoint again (MassTransit removes a stopped one from the bus, so the name is free).
/// </summary>
public sealed class ImageUploadedEndpoint(
    IReceiveEndpointConnector connector, WorkerJobs jobs, WorkerDrain drain, ILogger<ImageUploadedEndpoint> logger) : IHostedService
{
    private HostReceiveEndpointHandle? _handle;
    private Task? _drain;

    public bool IsDrained => _drain is { IsCompleted: true };

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // After MassTransit's own hosted service: the bus exists (and, where the host waits for it, runs).
        var handle = _handle = Connect();
        // Normally ready at once; with the broker away the worker starts anyway and the bus keeps trying.
        await Task.WhenAny(handle.Ready, Task.Delay(TimeSpan.FromSeconds(10), cancellationToken));
        logger.LogInformation("Worker {WorkerId} takes jobs from {Queue}.", jobs.Identity.WorkerId, MessageEndpoints.ImageUploadedQueue);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Stops taking jobs; completes once the endpoint has stopped and every started job has ended.</summary>
    public Task DrainAsync()
    {
        lock (drain)
        {
            if (_drain is null)
            {
                drain.Begin();
                _drain = StopEndpointAsync();
            }

            return _drain;
        }
    }

    /// <summary>
    /// Takes jobs again after a drain: once the drain has finished (its endpoint stopped), connects the endpoint anew.
    /// False when this worker was not draining (or another resume came first).
    /// </summary>
    public async Task<bool> ResumeAsync()
    {
        Task? draining;
        lock (drain)
        {
            draining = _drain;
        }

        if (draining is null)
        {
            return false;
        }

        // A drain still under way ends first: the old endpoint's stop must not race the new one's start.
        await draining;
        HostReceiveEndpointHandle handle;
        lock (drain)
        {
            if (_drain != draining)
            {
                return false;
            }

            _drain = null;
            drain.End();
            handle = _handle = Connect();
        }

        await Task.WhenAny(handle.Ready, Task.Delay(TimeSpan.FromSeconds(10)));
        logger.LogWarning("Worker {WorkerId} resumed: it takes jobs from {Queue} again.", jobs.Identity.WorkerId, MessageEndpoints.ImageUploadedQueue);
        return true;
    }

    private HostReceiveEndpointHandle Connect() =>
        connector.ConnectReceiveEndpoint(MessageEndpoints.ImageUploadedQueue, (context, endpoint) =>
        {
            endpoint.ConcurrentMessageLimit = ImageUploadedConsumerDefinition.ConcurrentJobs;
            endpoint.ConfigureConsumer<ImageUploadedConsumer>(context);
        });

    private async Task StopEndpointAsync()
    {
        logger.LogWarning("Worker {WorkerId} is draining: it finishes the {Count} jobs it holds and takes no more.",
            jobs.Identity.WorkerId, jobs.Count);
        // Started jobs first: stopping the endpoint cancels what is still running after the bus's consumer stop timeout.
        while (jobs.Snapshot().Any(j => j.Running))
        {
            await Task.Delay(100);
        }

        if (_handle is not null)
        {
            await _handle.StopAsync(CancellationToken.None);
        }

        logger.LogWarning("Worker {WorkerId} is drained.", jobs.Identity.WorkerId);
    }
}
