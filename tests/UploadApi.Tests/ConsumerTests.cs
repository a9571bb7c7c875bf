using System.Net.Http.Json;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Reference.Contracts;
using Reference.UploadApi.Apis;
using Reference.UploadApi.Model;
using Reference.UploadApi.Tests.Infrastructure;

namespace Reference.UploadApi.Tests;

/// <summary>The worker's events, through the real broker, move the upload; repeats and late events do not.</summary>
[Collection(UploadApiCollection.Name)]
public sealed class ConsumerTests(UploadApiFixture fixture)
{
    [Fact]
    public async Task Image_processed_on_the_broker_makes_the_upload_ready_with_its_variants()
    {
        var id = await fixture.UploadGoodJpegAsync();
        var bus = fixture.A.Services.GetRequiredService<IBus>();

        await bus.Publish(new ImageProcessingStarted(id));
        await WaitForStatusAsync(id, "Processing");
        await bus.Publish(new ImageProcessed(id, null, [
            new ImageVariant("thumb", 200, 125, "jpeg", 8000, $"{id}/thumb.jpg"),
            new ImageVariant("card", 600, 375, "jpeg", 40000, $"{id}/card.jpg"),
        ]));
        var ready = await WaitForStatusAsync(id, "Ready");

        Assert.Equal(["thumb", "card"], ready.Variants.Select(v => v.Name));
        Assert.Equal($"/images/{id}/card.jpg", ready.Variants[1].Url);
        Assert.Equal(600, ready.Variants[1].Width);
        Assert.Null(ready.Reason);
    }

    [Fact]
    public async Task Image_processing_failed_on_the_broker_fails_the_upload_with_the_workers_reason()
    {
        var id = await fixture.UploadGoodJpegAsync();

        await fixture.B.Services.GetRequiredService<IBus>().Publish(new ImageProcessingFailed(id, null, "The JPEG data ends early."));
        var failed = await WaitForStatusAsync(id, "Failed");

        Assert.Equal("The JPEG data ends early.", failed.Reason);
    }

    [Fact]
    public async Task A_worker_that_binds_the_queue_later_receives_the_jobs_and_its_fault_fails_the_upload()
    {
        var id = await fixture.UploadGoodJpegAsync();
        // A MassTransit receive endpoint with the worker's default queue settings: it must
        // bind to the topology UploadApi declared without a conflict, find the job waiting,
        // and its fault (after no retries) must reach UploadApi.
        var worker = Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            rabbit.Host(new Uri(fixture.Servers.RabbitMqConnectionString));
            rabbit.ReceiveEndpoint(WorkerQueue.Name, endpoint => endpoint.Consumer(() => new FailingWorker(id)));
        });
        var handle = await worker.StartAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
        try
        {
            await handle.Ready.WaitAsync(TimeSpan.FromSeconds(30));
            var failed = await WaitForStatusAsync(id, "Failed");
            Assert.Contains("disk on fire", failed.Reason);
        }
        finally
        {
            await handle.StopAsync(TimeSpan.FromSeconds(10));
        }
    }

    [Fact]
    public async Task Ready_applied_twice_is_harmless_and_failed_after_ready_is_ignored()
    {
        var id = await fixture.UploadGoodJpegAsync();
        List<UploadVariant> variants = [new("detail", 1600, 1000, "jpeg", 200000, $"{id}/detail.jpg")];

        var first = await fixture.WithTransitionsAsync(fixture.A, t => t.MarkReadyAsync(id, variants, default));
        var afterFirst = await ReadRowAsync(id);
        var second = await fixture.WithTransitionsAsync(fixture.B, t => t.MarkReadyAsync(id, [], default));
        var late = await fixture.WithTransitionsAsync(fixture.B, t => t.MarkFailedAsync(id, "late failure", default));
        var started = await fixture.WithTransitionsAsync(fixture.A, t => t.MarkProcessingAsync(id, TimeSpan.FromMinutes(1), default));
        var final = await ReadRowAsync(id);

        Assert.True(first);
        Assert.False(second);
        Assert.False(late);
        Assert.False(started);
        Assert.Equal(UploadStatus.Ready, final.Status);
        Assert.Null(final.Reason);
        Assert.Equal(variants, final.Variants);
        Assert.Equal(afterFirst.UpdatedAt, final.UpdatedAt);
    }

    [Fact]
    public async Task A_late_result_after_failed_makes_the_upload_ready_as_the_inventory_shows_it()
    {
        var id = await fixture.UploadGoodJpegAsync();
        List<UploadVariant> variants = [new("detail", 1600, 1000, "jpeg", 200000, $"{id}/detail.jpg")];

        Assert.True(await fixture.WithTransitionsAsync(fixture.A, t => t.MarkFailedAsync(id, "No worker finished the image", default)));
        Assert.True(await fixture.WithTransitionsAsync(fixture.B, t => t.MarkReadyAsync(id, variants, default)));
        Assert.False(await fixture.WithTransitionsAsync(fixture.A, t => t.MarkFailedAsync(id, "later still", default)));

        var row = await ReadRowAsync(id);
        Assert.Equal(UploadStatus.Ready, row.Status);
        Assert.Null(row.Reason);
        Assert.Equal(variants, row.Variants);
    }

    [Fact]
    public async Task Each_start_by_a_worker_counts_once()
    {
        var id = await fixture.UploadGoodJpegAsync();

        await fixture.WithTransitionsAsync(fixture.A, t => t.MarkProcessingAsync(id, TimeSpan.FromMinutes(1), default));
        await fixture.WithTransitionsAsync(fixture.B, t => t.MarkProcessingAsync(id, TimeSpan.FromMinutes(1), default));

        Assert.Equal(2, (await ReadRowAsync(id)).Starts);
    }

    private Task<Upload> ReadRowAsync(Guid id) =>
        fixture.WithDbAsync(db => db.Uploads.AsNoTracking().SingleAsync(u => u.Id == id));


    private async Task<UploadResponse> WaitForStatusAsync(Guid id, string status)
    {
        using var client = fixture.AdminClient(fixture.A);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var upload = (await client.GetFromJsonAsync<UploadResponse>($"/api/uploads/{id}"))!;
            if (upload.Status == status || DateTime.UtcNow > deadline)
            {
                Assert.Equal(status, upload.Status);
                return upload;
            }

            await Task.Delay(100);
        }
    }

    private sealed class FailingWorker(Guid failFor) : IConsumer<ImageUploaded>
    {
        public Task Consume(ConsumeContext<ImageUploaded> context) =>
            context.Message.UploadId == failFor ? throw new IOException("disk on fire") : Task.CompletedTask;
    }
}
