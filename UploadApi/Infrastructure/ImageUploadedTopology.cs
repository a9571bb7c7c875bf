using RabbitMQ.Client;

namespace Reference.UploadApi.Infrastructure;

/// <summary>
/// Declares, at start-up, where <c>ImageUploaded</c> goes: RabbitMQ drops a message published
/// to an exchange with no queue bound, so without this the uploads made before the first
/// worker ever started would be lost on a fresh broker. The declarations are exactly those of
/// the worker's MassTransit receive endpoint (message-type exchange → exchange
/// <c>image-uploaded</c> → durable queue <c>image-uploaded</c>, fanout, no arguments), so the
/// worker binds later without a conflict. MassTransit's own <c>BindQueue</c> publish topology
/// binds a queue to a new exchange but not that exchange to the message's, so it is not used.
/// </summary>
public sealed class ImageUploadedTopology(IConfiguration configuration, ILogger<ImageUploadedTopology> logger) : IHostedService
{
    /// <summary>MassTransit's default exchange name for <c>Reference.Contracts.ImageUploaded</c>.</summary>
    public const string MessageExchange = "Reference.Contracts:ImageUploaded";

    /// <summary>The worker's queue: MassTransit's kebab-case endpoint name for its ImageUploaded consumer.</summary>
    public const string WorkerQueue = "image-uploaded";

    // Not disposed: it has no timer, and a host may call StopAsync after disposing services.
    private readonly CancellationTokenSource _stopping = new();
    private Task? _declaring;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _declaring = DeclareUntilDoneAsync(_stopping.Token);
        // Normally done before the first request; with the broker down, start anyway and keep
        // trying in the background (uploads are still recorded and the sweeper publishes them).
        await Task.WhenAny(_declaring, Task.Delay(TimeSpan.FromSeconds(5), cancellationToken));
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_declaring is not null)
        {
            await Task.WhenAny(_declaring, Task.Delay(Timeout.Infinite, cancellationToken));
        }
    }

    private async Task DeclareUntilDoneAsync(CancellationToken cancellationToken)
    {
        var uri = new Uri(configuration.GetConnectionString("messaging")
            ?? throw new InvalidOperationException("ConnectionStrings:messaging is not set."));
        for (var attempt = 1; !cancellationToken.IsCancellationRequested; attempt++)
        {
            try
            {
                await DeclareAsync(uri, cancellationToken);
                logger.LogInformation("Declared queue {Queue} bound to {Exchange}", WorkerQueue, MessageExchange);
                return;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "Declaring the ImageUploaded topology failed (attempt {Attempt}); retrying", attempt);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(Math.Min(30, attempt * 2)), cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static async Task DeclareAsync(Uri uri, CancellationToken cancellationToken)
    {
        var factory = new ConnectionFactory { Uri = uri, ClientProvidedName = "uploadapi-topology" };
        await using var connection = await factory.CreateConnectionAsync(cancellationToken);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        await channel.ExchangeDeclareAsync(MessageExchange, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken);
        await channel.ExchangeDeclareAsync(WorkerQueue, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken);
        await channel.QueueDeclareAsync(WorkerQueue, durable: true, exclusive: false, autoDelete: false, arguments: null, cancellationToken: cancellationToken);
        await channel.QueueBindAsync(WorkerQueue, WorkerQueue, routingKey: "", cancellationToken: cancellationToken);
        await channel.ExchangeBindAsync(destination: WorkerQueue, source: MessageExchange, routingKey: "", cancellationToken: cancellationToken);
    }
}
