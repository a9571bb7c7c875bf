using MassTransit;
using RabbitMQ.Client;
using Reference.Contracts;
using Reference.ImageWorker.Consumers;
using Reference.Tests.Support;
using StackExchange.Redis;

namespace Reference.ImageWorker.Tests.Consumers;

[Collection(MessagingCollection.Name)]
public sealed class ImageUploadedConsumerTests(MessagingServers messaging) : IAsyncLifetime
{
    private readonly BackingServers _servers = messaging.Servers;
    private readonly TestStorage _storage = new();
    private readonly PublishedEvents _events = new();
    private ConnectionMultiplexer? _redis;

    public Task InitializeAsync() => _events.StartAsync(_servers.RabbitMqConnectionString);

    [Fact]
    public async Task An_uploaded_image_is_processed_into_variants_on_disk_and_announced()
    {
        await using var worker = new WorkerFactory(_servers, _storage.Root).Start();
        var job = Job(Corpus.Path("kite-2560x1600.jpg"));

        await _events.Bus.Publish(job);

        var processed = await _events.WaitForAsync<ImageProcessed>(e => e.UploadId == job.UploadId);
        Assert.Equal(job.ProductId, processed.ProductId);
        Assert.Equal([("thumb", 200, 125), ("card", 600, 375), ("detail", 1600, 1000)],
            processed.Variants.Select(v => (v.Name, v.Width, v.Height)));
        Assert.All(processed.Variants, v => Assert.Equal(v.Bytes, new FileInfo(_storage.VariantPath(v.Key)).Length));
        Assert.Single(_events.Of<ImageProcessingStarted>(e => e.UploadId == job.UploadId));
        Assert.Equal(0, await UnfinishedStartsAsync(job.UploadId));
    }

    [Fact]
    public async Task A_redelivered_job_whose_variants_exist_is_announced_again_without_rewriting_them()
    {
        await using var worker = new WorkerFactory(_servers, _storage.Root).Start();
        var job = Job(Corpus.Path("leaf-2560x1600.jpg"));
        await _events.Bus.Publish(job);
        var first = await _events.WaitForAsync<ImageProcessed>(e => e.UploadId == job.UploadId);
        var writtenAt = first.Variants.Select(v => File.GetLastWriteTimeUtc(_storage.VariantPath(v.Key))).ToList();

        await _events.Bus.Publish(job with { Attempt = 2 });

        var second = await _events.WaitForAsync<ImageProcessed>(e => e.UploadId == job.UploadId, count: 2);
        Assert.Equal(first.Variants, second.Variants);
        Assert.Equal(writtenAt, first.Variants.Select(v => File.GetLastWriteTimeUtc(_storage.VariantPath(v.Key))));
        Assert.Single(_events.Of<ImageProcessingStarted>(e => e.UploadId == job.UploadId));
    }

    [Fact]
    public async Task A_corrupt_image_fails_with_a_reason_and_is_neither_retried_nor_faulted()
    {
        await using var worker = new WorkerFactory(_servers, _storage.Root).Start();
        var uploadId = Guid.NewGuid();
        var truncated = File.ReadAllBytes(Corpus.Path("kite-2560x1600.jpg"))[..200_000];
        var job = new ImageUploaded(uploadId, null, _storage.AddOriginal(uploadId, truncated, "jpg"), "image/jpeg", 1);

        await _events.Bus.Publish(job);

        var failed = await _events.WaitForAsync<ImageProcessingFailed>(e => e.UploadId == uploadId);
        Assert.Contains("truncated", failed.Reason, StringComparison.Ordinal);
        // A later job on the same queue is done after it, so a fault for this one would have arrived by then.
        var next = Job(Corpus.Path("flow-720x1440-portrait.jpg"));
        await _events.Bus.Publish(next);
        await _events.WaitForAsync<ImageProcessed>(e => e.UploadId == next.UploadId);
        Assert.Empty(_events.Of<Fault<ImageUploaded>>(f => f.Message.UploadId == uploadId));
        Assert.Single(_events.Of<ImageProcessingStarted>(e => e.UploadId == uploadId));
    }

    [Fact]
    public async Task A_job_that_kills_the_worker_process_each_time_is_run_alone_then_failed_instead_of_looping()
    {
        await using (new WorkerFactory(_servers, _storage.Root).Start())
        {
            // Declares the queue, so the job waits for the worker processes below.
        }

        // A job that hangs once started: each kill below lands mid-job, however fast the machine.
        var hanging = Guid.NewGuid();
        var job = Job(Corpus.Path("kite-2560x1600.jpg"), hanging);
        await _events.Bus.Publish(job);
        // Two deaths with the job in hand reach the limit; the third start is alone in its worker, and dies too.
        for (var start = 1; start <= 3; start++)
        {
            using var crashing = StartWorkerProcess(maxProcessingAttempts: 2, hangOnProductId: hanging);
            try
            {
                await _events.WaitForAsync<ImageProcessingStarted>(e => e.UploadId == job.UploadId, count: start);
            }
            finally
            {
                crashing.Kill(); // SIGKILL mid-job: the broker redelivers the unacknowledged job
                await crashing.WaitForExitAsync();
            }
        }

        using var worker = StartWorkerProcess(maxProcessingAttempts: 2, hangOnProductId: hanging);
        try
        {
            var failed = await _events.WaitForAsync<ImageProcessingFailed>(e => e.UploadId == job.UploadId);
            Assert.Contains("started 3 times without finishing, the last time with nothing else running", failed.Reason, StringComparison.Ordinal);
            Assert.Empty(_events.Of<ImageProcessed>(e => e.UploadId == job.UploadId));
            Assert.Equal(3, _events.Of<ImageProcessingStarted>(e => e.UploadId == job.UploadId).Count);
            Assert.False(Directory.Exists(Path.Combine(_storage.Root, "variants", job.UploadId.ToString())));
        }
        finally
        {
            worker.Kill();
            await worker.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task A_job_that_only_shared_its_worker_with_crashes_runs_alone_and_is_processed()
    {
        await using var worker = new WorkerFactory(_servers, _storage.Root).Start();
        var job = Job(Corpus.Path("kite-2560x1600.jpg"));
        // As if three worker processes had died while this job was one of the jobs in their hands.
        await Redis().StringSetAsync(ProcessingAttempts.Key(job.UploadId), 3);

        await _events.Bus.Publish(job);

        var processed = await _events.WaitForAsync<ImageProcessed>(e => e.UploadId == job.UploadId);
        Assert.Equal(3, processed.Variants.Count);
        Assert.Empty(_events.Of<ImageProcessingFailed>(e => e.UploadId == job.UploadId));
        Assert.Equal(3, await UnfinishedStartsAsync(job.UploadId));
        Assert.Equal(0, (long)await Redis().StringGetAsync(ProcessingAttempts.AloneKey(job.UploadId)));
    }

    [Fact]
    public async Task Images_are_still_processed_while_redis_is_down()
    {
        await using var worker = new WorkerFactory(_servers, _storage.Root).Start();
        var job = Job(Corpus.Path("flow-720x1440-portrait.jpg"));
        await _servers.StopAsync(BackingServer.Redis);
        try
        {
            await _events.Bus.Publish(job);

            var processed = await _events.WaitForAsync<ImageProcessed>(e => e.UploadId == job.UploadId);
            Assert.Equal(3, processed.Variants.Count);
        }
        finally
        {
            await _servers.StartAsync(BackingServer.Redis);
        }
    }

    [Fact]
    public async Task A_transient_failure_is_retried_briefly_then_faulted_for_uploadapi()
    {
        await using var worker = new WorkerFactory(_servers, _storage.Root).Start();
        var job = Job(Corpus.Path("kite-2560x1600.jpg"));
        // A file where the variant folder should be: an I/O error on every try, as a broken share would give.
        Directory.CreateDirectory(Path.Combine(_storage.Root, "variants"));
        await File.WriteAllTextAsync(Path.Combine(_storage.Root, "variants", job.UploadId.ToString()), "in the way");

        await _events.Bus.Publish(job);

        var fault = await _events.WaitForAsync<Fault<ImageUploaded>>(f => f.Message.UploadId == job.UploadId);
        Assert.Contains(fault.Exceptions, e => e.ExceptionType.Contains("IOException", StringComparison.Ordinal));
        // The first try and three retries of the same delivery, each of which ended: none counts
        // towards the poison limit, so a later copy of the job (the sweeper's) is processed normally.
        Assert.Equal(4, _events.Of<ImageProcessingStarted>(e => e.UploadId == job.UploadId).Count);
        Assert.Equal(0, await UnfinishedStartsAsync(job.UploadId));
        Assert.Empty(_events.Of<ImageProcessingFailed>(e => e.UploadId == job.UploadId));
    }

    [Fact]
    public async Task Only_starts_that_never_ended_count_towards_the_poison_limit()
    {
        var attempts = new ProcessingAttempts(RedisConnection(), Microsoft.Extensions.Logging.Abstractions.NullLogger<ProcessingAttempts>.Instance);
        var uploadId = Guid.NewGuid();

        // Three deliveries that ended (done, failed, or cut off by a broker restart), one at a time.
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(new ProcessingAttempts.Starts(1, 0), await attempts.StartAsync(uploadId, alone: false));
            await attempts.FinishAsync(uploadId, alone: false);
        }

        // Two starts whose process died: nothing took them back.
        Assert.Equal(new ProcessingAttempts.Starts(1, 0), await attempts.StartAsync(uploadId, alone: false));
        Assert.Equal(new ProcessingAttempts.Starts(2, 0), await attempts.StartAsync(uploadId, alone: false));
        Assert.Equal(new ProcessingAttempts.Starts(3, 0), await attempts.StartAsync(uploadId, alone: false));
        // Past the limit it runs alone: one start that ended, then one that died.
        Assert.Equal(new ProcessingAttempts.Starts(4, 1), await attempts.StartAsync(uploadId, alone: true));
        await attempts.FinishAsync(uploadId, alone: true);
        Assert.Equal(new ProcessingAttempts.Starts(4, 1), await attempts.StartAsync(uploadId, alone: true));
        Assert.Equal(new ProcessingAttempts.Starts(5, 2), await attempts.StartAsync(uploadId, alone: true));
        Assert.True(await Redis().KeyTimeToLiveAsync(ProcessingAttempts.Key(uploadId)) > TimeSpan.FromDays(1));
    }

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

    [Fact]
    public async Task The_worker_answers_its_health_and_liveness_probes()
    {
        await using var worker = new WorkerFactory(_servers, _storage.Root).Start();
        using var client = worker.CreateClient();

        Assert.Equal(System.Net.HttpStatusCode.OK, (await client.GetAsync("/alive")).StatusCode);
        var health = await client.GetAsync("/health");
        Assert.Equal(System.Net.HttpStatusCode.OK, health.StatusCode);
    }

    public async Task DisposeAsync()
    {
        await _events.DisposeAsync();
        _redis?.Dispose();
        _storage.Dispose();
    }

    private ImageUploaded Job(string corpusImage, Guid? productId = null)
    {
        var uploadId = Guid.NewGuid();
        return new ImageUploaded(uploadId, productId ?? Guid.NewGuid(), _storage.AddOriginal(uploadId, corpusImage), "image/jpeg", 1);
    }

    /// <summary>A real ImageWorker process (the build beside the tests), to be killed like a crash would.</summary>
    private System.Diagnostics.Process StartWorkerProcess(int maxProcessingAttempts, Guid? hangOnProductId = null)
    {
        var start = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Reference.ImageWorker.dll"));
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        start.Environment["ConnectionStrings__messaging"] = _servers.RabbitMqConnectionStringFor("imageworker");
        start.Environment["ConnectionStrings__cache"] = _servers.RedisConnectionStringFor("imageworker");
        start.Environment["Storage__Root"] = _storage.Root;
        start.Environment["Images__MaxProcessingAttempts"] = maxProcessingAttempts.ToString();
        if (hangOnProductId is { } product)
        {
            start.Environment["ImageWorker__FaultInjection__HangOnProductId"] = product.ToString();
        }

        var process = System.Diagnostics.Process.Start(start) ?? throw new InvalidOperationException("ImageWorker did not start.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private IDatabase Redis() => RedisConnection().GetDatabase();

    private ConnectionMultiplexer RedisConnection() => _redis ??= ConnectionMultiplexer.Connect(_servers.RedisConnectionString);

    private async Task<long> UnfinishedStartsAsync(Guid uploadId) =>
        (long)await Redis().StringGetAsync(ProcessingAttempts.Key(uploadId));

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
