using RabbitMQ.Client;
using Reference.Contracts;

namespace Reference.UploadApi.Infrastructure;

/// <summary>
/// Declares the workers' queue at start-up: RabbitMQ drops a message published to an exchange
/// with no queue bound, so uploads made before the first worker ever started would be lost. The
/// declarations are exactly the worker's MassTransit receive endpoint's, so it binds later without
/// a conflict (MassTransit's <c>BindQueue</c> does not bind the message exchange, so it is not used);
/// the one extra binding is the queue's straight to the message exchange (see <see cref="DeclareAsync"/>).
/// </summary>
public sealed class ImageUploadedTopology(IConfiguration configuration, ILogger<ImageUploadedTopology> logger) : IHostedService
{
    private static readonly string MessageExchange = MessageEndpoints.ImageUploadedExchange;
    private const string WorkerQueue = MessageEndpoints.ImageUploadedQueue;

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
        await channel.ExchangeBindAsync(destination: WorkerQueue, source: MessageExchange, routingKey: "", cancellationToken: cancellationToken);
        // Bound straight to the message exchange too: binding it to its own exchange would take read rights on the
        // workers' queue (a RabbitMQ permission names exchanges and queues alike). A message reaches a queue once,
        // however many routes lead there, so the worker's binding later adds nothing twice.
        await channel.QueueBindAsync(WorkerQueue, MessageExchange, routingKey: "", cancellationToken: cancellationToken);
    }
}
