using MassTransit;
using Reference.Contracts;
using Reference.Tests.Support;
using StackExchange.Redis;

namespace Reference.ImageWorker.Tests.Consumers;

[Collection(MessagingCollection.Name)]
public sealed partial class ImageUploadedConsumerTests(MessagingServers messaging) : IAsyncLifetime
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
        Assert.Contains(fault.Exceptions, e => e.ExceptionType.EndsWith("StorageUnavailableException", StringComparison.Ordinal)
            && e.InnerException!.ExceptionType.Contains("IOException", StringComparison.Ordinal));
        // The first try and three retries of the same delivery, each of which ended: none counts
        // towards the poison limit, so a later copy of the job (the sweeper's) is processed normally.
        Assert.Equal(4, _events.Of<ImageProcessingStarted>(e => e.UploadId == job.UploadId).Count);
        Assert.Equal(0, await UnfinishedStartsAsync(job.UploadId));
        Assert.Empty(_events.Of<ImageProcessingFailed>(e => e.UploadId == job.UploadId));
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
}
