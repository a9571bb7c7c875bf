using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Reference.AppHost.Tests;

/// <summary>RabbitMQ: each service's user, and operator, within their exchanges and queues.</summary>
public sealed partial class LeastPrivilegeTests
{
    [Fact]
    public async Task Each_services_broker_user_is_limited_to_its_own_exchanges_and_queues()
    {
        // Another service's queue, as its own service would have declared it.
        await WithChannelAsync(servers.RabbitMqConnectionString, channel =>
            channel.QueueDeclareAsync("upload-api-image-processed", durable: true, exclusive: false, autoDelete: false));

        var worker = servers.RabbitMqConnectionStringFor("imageworker");
        await BrokerAllowed("imageworker declares its own queue", worker, c =>
            c.QueueDeclareAsync("image-uploaded", durable: true, exclusive: false, autoDelete: false));
        await BrokerRefused("imageworker purges uploadapi's queue", worker, c => c.QueuePurgeAsync("upload-api-image-processed"));
        await BrokerRefused("imageworker deletes uploadapi's queue", worker, c => c.QueueDeleteAsync("upload-api-image-processed"));
        await BrokerRefused("imageworker declares inventoryapi's queue", worker, c =>
            c.QueueDeclareAsync("inventory-image-processed", durable: true, exclusive: false, autoDelete: false));
        await BrokerRefused("imageworker consumes uploadapi's queue", worker, c =>
            c.BasicGetAsync("upload-api-image-processed", autoAck: false));
        await BrokerRefused("imageworker publishes an order event", worker, c =>
            c.ExchangeDeclareAsync("Reference.Contracts:OrderPlaced", ExchangeType.Fanout, durable: true));
        await BrokerRefused("uploadapi takes a job from the workers' queue", servers.RabbitMqConnectionStringFor("uploadapi"), c =>
            c.BasicGetAsync("image-uploaded", autoAck: false));
        await BrokerRefused("inventoryapi purges the workers' queue", servers.RabbitMqConnectionStringFor("inventoryapi"), c =>
            c.QueuePurgeAsync("image-uploaded"));
        await BrokerRefused("monitor takes a job from the workers' queue", servers.RabbitMqConnectionStringFor("monitor"), c =>
            c.BasicGetAsync("image-uploaded", autoAck: false));
        await BrokerRefused("monitor declares a queue", servers.RabbitMqConnectionStringFor("monitor"), c =>
            c.QueueDeclareAsync("monitor-queue", durable: false, exclusive: false, autoDelete: true));
    }

    [Fact]
    public async Task The_operator_broker_user_moves_and_drops_error_queue_messages_and_nothing_else()
    {
        // Another service's failed message, parked as MassTransit parks it, and the workers' queue.
        await WithChannelAsync(servers.RabbitMqConnectionString, async channel =>
        {
            await channel.QueueDeclareAsync("inventory-image-processed", durable: true, exclusive: false, autoDelete: false);
            await channel.QueueDeclareAsync("inventory-image-processed_error", durable: true, exclusive: false, autoDelete: false);
            await channel.QueueDeclareAsync("image-uploaded", durable: true, exclusive: false, autoDelete: false);
            await channel.ExchangeDeclareAsync("Reference.Contracts:ImageProcessed", ExchangeType.Fanout, durable: true);
            await channel.QueuePurgeAsync("inventory-image-processed");
            await channel.QueuePurgeAsync("inventory-image-processed_error");
            await channel.BasicPublishAsync("", "inventory-image-processed_error", "failed-once"u8.ToArray());
            await channel.BasicPublishAsync("", "inventory-image-processed_error", "failed-twice"u8.ToArray());
        });

        // What the console's re-drive does (UploadApi/Operations/RabbitMqQueues.cs): take, put back through the default exchange, purge.
        var @operator = servers.RabbitMqConnectionStringFor("operator");
        await BrokerAllowed("operator looks the source queue up (passive declare)", @operator, c =>
            c.QueueDeclarePassiveAsync("inventory-image-processed"));
        await BrokerAllowed("operator moves an error queue's message back to its source queue", @operator, async c =>
        {
            var message = await c.BasicGetAsync("inventory-image-processed_error", autoAck: false);
            Assert.NotNull(message);
            await c.BasicPublishAsync("", "inventory-image-processed", mandatory: true, new BasicProperties(message.BasicProperties), message.Body);
            await c.BasicAckAsync(message.DeliveryTag, multiple: false);
        });
        await BrokerAllowed("operator purges an error queue", @operator, async c =>
            Assert.Equal(1u, await c.QueuePurgeAsync("inventory-image-processed_error")));
        await WithChannelAsync(servers.RabbitMqConnectionString, async channel =>
            Assert.Equal("failed-once", System.Text.Encoding.UTF8.GetString((await channel.BasicGetAsync("inventory-image-processed", autoAck: true))!.Body.Span)));

        await BrokerRefused("operator takes a job from the workers' queue", @operator, c => c.BasicGetAsync("image-uploaded", autoAck: false));
        await BrokerRefused("operator purges the workers' queue", @operator, c => c.QueuePurgeAsync("image-uploaded"));
        await BrokerRefused("operator deletes an error queue", @operator, c => c.QueueDeleteAsync("inventory-image-processed_error"));
        await BrokerRefused("operator declares a queue", @operator, c =>
            c.QueueDeclareAsync("operator-queue", durable: false, exclusive: false, autoDelete: true));
        await BrokerRefused("operator publishes an event", @operator, c =>
            c.BasicPublishAsync("Reference.Contracts:ImageProcessed", "", mandatory: false, new BasicProperties(), "forged"u8.ToArray()).AsTask());

        // UploadApi's own user no longer touches the error queues: only the operator does.
        var upload = servers.RabbitMqConnectionStringFor("uploadapi");
        await BrokerRefused("uploadapi takes from inventoryapi's error queue", upload, c =>
            c.BasicGetAsync("inventory-image-processed_error", autoAck: false));
        await BrokerRefused("uploadapi purges inventoryapi's error queue", upload, c => c.QueuePurgeAsync("inventory-image-processed_error"));
        await BrokerRefused("uploadapi publishes through the default exchange", upload, c =>
            c.BasicPublishAsync("", "inventory-image-processed", mandatory: false, new BasicProperties(), "forged"u8.ToArray()).AsTask());
    }

    private async Task BrokerAllowed(string attempt, string connectionString, Func<IChannel, Task> action)
    {
        await WithChannelAsync(connectionString, action);
        output.WriteLine($"allowed: {attempt}");
    }

    private async Task BrokerRefused(string attempt, string connectionString, Func<IChannel, Task> action)
    {
        // A refused publish surfaces as AlreadyClosedException (a subclass): the channel was closed while the publish awaited its confirm.
        var refused = await Assert.ThrowsAnyAsync<OperationInterruptedException>(() => WithChannelAsync(connectionString, action));
        Assert.Equal(403, (int?)refused.ShutdownReason?.ReplyCode);
        output.WriteLine($"refused: {attempt}: {refused.ShutdownReason?.ReplyText}");
    }

    private static async Task WithChannelAsync(string connectionString, Func<IChannel, Task> action)
    {
        await using var connection = await new ConnectionFactory { Uri = new Uri(connectionString) }.CreateConnectionAsync();
        // Publisher confirms: a publish returns once the broker took it, and a refused one throws instead of closing the channel later.
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        await action(channel);
    }
}
