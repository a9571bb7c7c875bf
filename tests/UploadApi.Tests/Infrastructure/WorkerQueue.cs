using System.Text.Json;
using RabbitMQ.Client;
using Reference.Contracts;

namespace Reference.UploadApi.Tests.Infrastructure;

/// <summary>
/// Reads the worker's queue (<c>image-uploaded</c>) on the real broker, as the worker would:
/// proof that the publish went out and that the queue and its binding exist. Everything
/// drained is kept, so each test can ask about its own upload.
/// </summary>
public sealed class WorkerQueue(string amqpUri)
{
    public const string Name = MessageEndpoints.ImageUploadedQueue;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly List<ImageUploaded> _received = [];

    /// <summary>Waits until <paramref name="count"/> jobs for the upload have arrived; returns all that arrived.</summary>
    public async Task<IReadOnlyList<ImageUploaded>> WaitForAsync(Guid uploadId, int count = 1, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            await DrainAsync();
            var found = For(uploadId);
            if (found.Count >= count || DateTime.UtcNow > deadline)
            {
                return found;
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Every job for the upload that has arrived by now.</summary>
    public async Task<IReadOnlyList<ImageUploaded>> AllForAsync(Guid uploadId)
    {
        await DrainAsync();
        return For(uploadId);
    }

    private List<ImageUploaded> For(Guid uploadId)
    {
        lock (_received)
        {
            return _received.Where(m => m.UploadId == uploadId).ToList();
        }
    }

    private async Task DrainAsync()
    {
        try
        {
            var factory = new ConnectionFactory { Uri = new Uri(amqpUri) };
            await using var connection = await factory.CreateConnectionAsync();
            await using var channel = await connection.CreateChannelAsync();
            while (await channel.BasicGetAsync(Name, autoAck: true) is { } delivery)
            {
                using var envelope = JsonDocument.Parse(delivery.Body);
                var message = envelope.RootElement.GetProperty("message").Deserialize<ImageUploaded>(Json)!;
                lock (_received)
                {
                    _received.Add(message);
                }
            }
        }
        catch (Exception e) when (e is RabbitMQ.Client.Exceptions.BrokerUnreachableException)
        {
            // The broker is down in a fault test; the caller waits and asks again.
        }
    }
}
