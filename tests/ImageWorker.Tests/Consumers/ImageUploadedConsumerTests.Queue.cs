using MassTransit;
using RabbitMQ.Client;
using Reference.Contracts;
using Reference.Tests.Support;

namespace Reference.ImageWorker.Tests.Consumers;

public sealed partial class ImageUploadedConsumerTests
{
    [Fact]
    public async Task A_job_published_while_no_worker_runs_waits_in_the_queue_the_worker_declared()
    {
        await DeleteQueueTopologyAsync();
        await using (var firstRun = new WorkerFactory(_servers, _storage.Root).Start())
        {
            // Start-up declares the durable queue and its bindings; nothing else is needed.
        }

        var job = Job(Corpus.Path("cups-2560x1600-exif.jpg"));
        await _events.Bus.Publish(job);
        await using var worker = new WorkerFactory(_servers, _storage.Root).Start();

        await _events.WaitForAsync<ImageProcessed>(e => e.UploadId == job.UploadId);
    }

    [Fact]
    public async Task The_worker_takes_over_the_queue_as_uploadapi_declares_it_before_any_worker_ran()
    {
        await DeleteQueueTopologyAsync();
        await DeclareQueueAsUploadApiDoesAsync();
        var job = Job(Corpus.Path("autumn-2560x1600-progressive.jpg"));
        await _events.Bus.Publish(job);

        await using var worker = new WorkerFactory(_servers, _storage.Root).Start();

        await _events.WaitForAsync<ImageProcessed>(e => e.UploadId == job.UploadId);
    }

    [Fact]
    public async Task The_worker_takes_over_the_queue_as_uploadapis_bus_deploys_it_before_any_worker_ran()
    {
        await DeleteQueueTopologyAsync();
        // UploadApi's recipe: its bus declares the worker's queue, with MassTransit's defaults, when it starts.
        var uploadApiBus = MassTransit.Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            rabbit.Host(new Uri(_servers.RabbitMqConnectionString));
            rabbit.DeployPublishTopology = true;
            rabbit.Publish<ImageUploaded>(p => p.BindQueue(MessageEndpoints.ImageUploadedExchange, MessageEndpoints.ImageUploadedQueue));
        });
        await uploadApiBus.StartAsync();
        try
        {
            var job = Job(Corpus.Path("mouse-3840x2400.jpg"));
            await uploadApiBus.Publish(job);

            await using (var worker = new WorkerFactory(_servers, _storage.Root).Start())
            {
                await _events.WaitForAsync<ImageProcessed>(e => e.UploadId == job.UploadId);
            }

            // Both bindings now exist (UploadApi's direct one and the worker's through its exchange): still one copy.
            var next = Job(Corpus.Path("flow-720x1440-portrait.jpg"));
            await uploadApiBus.Publish(next);
            await WithChannelAsync(async channel => Assert.Equal(1u, (await channel.QueueDeclarePassiveAsync(MessageEndpoints.ImageUploadedQueue)).MessageCount));
            await using (var worker = new WorkerFactory(_servers, _storage.Root).Start())
            {
                await _events.WaitForAsync<ImageProcessed>(e => e.UploadId == next.UploadId);
            }
        }
        finally
        {
            await uploadApiBus.StopAsync();
        }
    }

    private async Task WithChannelAsync(Func<IChannel, Task> action)
    {
        await using var connection = await new ConnectionFactory { Uri = new Uri(_servers.RabbitMqConnectionString) }.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await action(channel);
    }

    /// <summary>A fresh broker, as far as this queue goes.</summary>
    private async Task DeleteQueueTopologyAsync()
    {
        await WithChannelAsync(async channel =>
        {
            await channel.QueueDeleteAsync(MessageEndpoints.ImageUploadedQueue);
            await channel.ExchangeDeleteAsync(MessageEndpoints.ImageUploadedQueue);
            await channel.ExchangeDeleteAsync(MessageEndpoints.ImageUploadedExchange);
        });
    }

    /// <summary>The declaration agreed with UploadApi: MassTransit's own topology for the consumer, declared by hand.</summary>
    private async Task DeclareQueueAsUploadApiDoesAsync()
    {
        await WithChannelAsync(async channel =>
        {
            await channel.ExchangeDeclareAsync(MessageEndpoints.ImageUploadedExchange, ExchangeType.Fanout, durable: true, autoDelete: false);
            await channel.ExchangeDeclareAsync(MessageEndpoints.ImageUploadedQueue, ExchangeType.Fanout, durable: true, autoDelete: false);
            await channel.QueueDeclareAsync(MessageEndpoints.ImageUploadedQueue, durable: true, exclusive: false, autoDelete: false, arguments: null);
            await channel.QueueBindAsync(MessageEndpoints.ImageUploadedQueue, MessageEndpoints.ImageUploadedQueue, routingKey: "");
            await channel.ExchangeBindAsync(destination: MessageEndpoints.ImageUploadedQueue, source: MessageEndpoints.ImageUploadedExchange, routingKey: "");
        });
    }
}
