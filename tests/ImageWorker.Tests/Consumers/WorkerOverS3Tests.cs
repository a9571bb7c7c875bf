using Microsoft.Extensions.Hosting;
using Reference.Contracts;
using Reference.Storage;
using Reference.Tests.Support;
using SixLabors.ImageSharp;

namespace Reference.ImageWorker.Tests.Consumers;

/// <summary>The worker with <c>Storage:Kind=S3</c>, on a real S3 server (s3rver): originals read from the bucket, variants put there.</summary>
[Collection(MessagingCollection.Name)]
public sealed class WorkerOverS3Tests(MessagingServers messaging, S3Server s3) : IAsyncLifetime, IClassFixture<S3Server>
{
    private readonly BackingServers _servers = messaging.Servers;
    private readonly PublishedEvents _events = new();
    private readonly IImageStore _bucket = ImageStores.Create(new ImageStoreSettings
    {
        Kind = "S3",
        S3 = { ServiceUrl = s3.ServiceUrl, Bucket = S3Server.Bucket, AccessKey = S3Server.AccessKey, SecretKey = S3Server.SecretKey },
    });

    // No folder: a worker that touched the disk for images would fail on this root.
    private WorkerFactory StartWorker() => new WorkerFactory(_servers, "/nonexistent-image-folder", s3.StorageSettings).Start();

    public Task InitializeAsync() => _events.StartAsync(_servers.RabbitMqConnectionString);

    [Fact]
    public async Task An_original_in_the_bucket_becomes_variants_in_the_bucket_and_a_redelivery_finds_them()
    {
        await using var worker = StartWorker();
        var job = await JobAsync(Corpus.Path("kite-2560x1600.jpg"));

        await _events.Bus.Publish(job);

        var processed = await _events.WaitForAsync<ImageProcessed>(e => e.UploadId == job.UploadId);
        Assert.Equal([("thumb", 200, 125), ("card", 600, 375), ("detail", 1600, 1000)], processed.Variants.Select(v => (v.Name, v.Width, v.Height)));
        foreach (var variant in processed.Variants)
        {
            await using var stored = await _bucket.GetAsync($"{ImageStorage.VariantsFolder}/{variant.Key}");
            var bytes = await stored!.ReadAllBytesAsync();
            Assert.Equal(variant.Bytes, bytes.Length);
            Assert.Equal((variant.Width, variant.Height), (Image.Identify(bytes).Width, Image.Identify(bytes).Height));
        }

        await _events.Bus.Publish(job with { Attempt = 2 });

        var second = await _events.WaitForAsync<ImageProcessed>(e => e.UploadId == job.UploadId, count: 2);
        Assert.Equal(processed.Variants, second.Variants);
        Assert.Single(_events.Of<ImageProcessingStarted>(e => e.UploadId == job.UploadId));
    }

    [Fact]
    public async Task An_original_missing_from_the_bucket_fails_the_upload_for_good()
    {
        await using var worker = StartWorker();
        var uploadId = Guid.NewGuid();
        var job = new ImageUploaded(uploadId, Guid.NewGuid(), ImageStorage.OriginalKey(uploadId, "jpg"), "image/jpeg", 1);

        await _events.Bus.Publish(job);

        var failed = await _events.WaitForAsync<ImageProcessingFailed>(e => e.UploadId == uploadId);
        Assert.Contains("missing", failed.Reason);
        Assert.Empty(await _bucket.ListAsync(ImageStorage.VariantFolderKey(uploadId)).ToListAsync());
    }

    [Fact]
    public async Task An_unreachable_bucket_is_transient_the_job_is_retried_then_faulted_never_failed()
    {
        var settings = new Dictionary<string, string?>(s3.StorageSettings) { ["Storage:S3:ServiceUrl"] = $"http://127.0.0.1:{Loopback.FreePort()}" };
        await using var worker = new WorkerFactory(_servers, "/nonexistent-image-folder", settings).Start();
        var uploadId = Guid.NewGuid();
        var job = new ImageUploaded(uploadId, Guid.NewGuid(), ImageStorage.OriginalKey(uploadId, "jpg"), "image/jpeg", 1);

        await _events.Bus.Publish(job);

        var fault = await _events.WaitForAsync<MassTransit.Fault<ImageUploaded>>(f => f.Message.UploadId == uploadId);
        Assert.Contains(fault.Exceptions, e => e.ExceptionType.EndsWith("StorageUnavailableException", StringComparison.Ordinal));
        Assert.Empty(_events.Of<ImageProcessingFailed>(e => e.UploadId == uploadId));
    }

    public Task DisposeAsync() => _events.DisposeAsync().AsTask();

    private async Task<ImageUploaded> JobAsync(string corpusImage)
    {
        var uploadId = Guid.NewGuid();
        var key = ImageStorage.OriginalKey(uploadId, "jpg");
        await using (var file = File.OpenRead(corpusImage))
        {
            await _bucket.PutAsync(key, file);
        }

        return new ImageUploaded(uploadId, Guid.NewGuid(), key, "image/jpeg", 1);
    }
}
