using System.Text.Json;
using Microsoft.Extensions.Logging;
using Reference.Contracts;
using Reference.Scaling;

namespace Reference.AppHost.Scaling;

/// <summary>The work queue as the F5 run's RabbitMQ shows it: the management endpoint and credentials come from the <c>messaging</c> resource.</summary>
public sealed class WorkQueueReader(IResourceWithConnectionString messaging, DistributedApplicationModel model, ILogger<WorkQueueReader> logger)
{
    private readonly RabbitMqQueueReader _reader = new(MessageEndpoints.ImageUploadedQueue, MessageEndpoints.WebpVariantsQueue);

    /// <summary>The queue's ready jobs now, by AMQP only (<see cref="RabbitMqQueueReader.ReadyNowAsync"/>); null when unknown.</summary>
    public async Task<int?> ReadyNowAsync(CancellationToken cancellationToken) =>
        await messaging.GetConnectionStringAsync(cancellationToken) is { } amqp
            ? await _reader.ReadyNowAsync(new Uri(amqp), cancellationToken)
            : null;

    /// <summary>The reading, or null when the broker could not be read (the scaler then holds the pool).</summary>
    public async Task<WorkQueueReading?> ReadAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        try
        {
            var server = messaging as IResourceWithEndpoints
                ?? model.Resources.OfType<IResourceWithEndpoints>().Single(r => r.Name == messaging.Name);
            var management = new Uri(new EndpointReference(server, "management").Url);
            var amqp = new Uri(await messaging.GetConnectionStringAsync(cancellationToken)
                ?? throw new InvalidOperationException("RabbitMQ has no connection string yet."));
            return await _reader.ReadAsync(management, amqp, now, cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or InvalidOperationException
                                  && !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Could not read the work queue from RabbitMQ ({Error}); the pool holds", e.Message);
            return null;
        }
    }
}
