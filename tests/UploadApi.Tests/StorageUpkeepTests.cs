using System.Net;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Reference.Contracts;
using Reference.Tests.Support;
using Reference.UploadApi.Model;
using Reference.UploadApi.Storage;
using Reference.UploadApi.Tests.Infrastructure;

namespace Reference.UploadApi.Tests;

/// <summary>
/// Deleted images, retention of originals, orphans and free space, on the fixture's real storage folder.
/// Sweeps are run here (the replicas' own come every five minutes); ages are made by back-dating rows and files.
/// </summary>
[Collection(UploadApiCollection.Name)]
public sealed class StorageUpkeepTests(UploadApiFixture fixture)
{
    private static readonly TimeSpan Retention = TimeSpan.FromHours(1);

    [Fact]
    public async Task An_image_deleted_on_its_product_loses_its_original_and_variants_and_the_upload_becomes_deleted()
    {
        var productId = Guid.NewGuid();
        var upload = await InsertAsync(UploadStatus.Ready, TimeSpan.Zero, productId);
        var variants = WriteVariants(upload.Id);

        await fixture.A.Services.GetRequiredService<IBus>().Publish(new ImageDeleted(upload.Id, productId));

        var row = await Poll.UntilAsync(() => ReadRowAsync(upload.Id), r => r.Status == UploadStatus.Deleted);
        Assert.Empty(row.Variants);
        Assert.True(await Poll.UntilAsync(() => !Directory.Exists(variants) && !File.Exists(OriginalPath(upload)), TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task A_delete_naming_another_product_removes_nothing()
    {
        var upload = await InsertAsync(UploadStatus.Ready, TimeSpan.Zero, Guid.NewGuid());
        var variants = WriteVariants(upload.Id);

        await fixture.A.Services.GetRequiredService<IBus>().Publish(new ImageDeleted(upload.Id, Guid.NewGuid()));
        // A marker deleted after it, through the same queue, shows the first message was handled.
        var marker = await InsertAsync(UploadStatus.Ready, TimeSpan.Zero, Guid.NewGuid());
        await fixture.A.Services.GetRequiredService<IBus>().Publish(new ImageDeleted(marker.Id, marker.ProductId));
        await Poll.UntilAsync(() => ReadRowAsync(marker.Id), r => r.Status == UploadStatus.Deleted);

        Assert.Equal(UploadStatus.Ready, (await ReadRowAsync(upload.Id)).Status);
        Assert.True(Directory.Exists(variants));
        Assert.True(File.Exists(OriginalPath(upload)));
    }

    [Fact]
    public async Task Retention_removes_an_original_past_ready_plus_grace_but_not_a_failed_one_inside_the_retry_window()
    {
        var readyLongAgo = await InsertAsync(UploadStatus.Ready, Retention + TimeSpan.FromMinutes(5));
        var readyJustNow = await InsertAsync(UploadStatus.Ready, TimeSpan.FromMinutes(5));
        var failedLongAgo = await InsertAsync(UploadStatus.Failed, Retention + TimeSpan.FromMinutes(5));
        var failedPastWindow = await InsertAsync(UploadStatus.Failed, TimeSpan.FromDays(8));
        var processing = await InsertAsync(UploadStatus.Processing, TimeSpan.FromDays(8));

        var removed = await SweepAsync();

        Console.WriteLine($"One sweep removed {removed} files.");
        Assert.False(File.Exists(OriginalPath(readyLongAgo)), "a Ready original past KeepOriginals is still there");
        Assert.True(File.Exists(OriginalPath(readyJustNow)), "a Ready original inside the grace was removed");
        Assert.True(File.Exists(OriginalPath(failedLongAgo)), "a Failed original inside KeepFailedOriginals was removed");
        Assert.False(File.Exists(OriginalPath(failedPastWindow)), "a Failed original past KeepFailedOriginals is still there");
        Assert.True(File.Exists(OriginalPath(processing)), "an upload still in the pipeline lost its original");
    }

    [Fact]
    public async Task The_sweeper_removes_orphan_temporary_files_older_than_the_threshold_and_leaves_fresh_ones()
    {
        Directory.CreateDirectory(fixture.OriginalsDirectory);
        var oldTemporary = WriteFile(Path.Combine(fixture.OriginalsDirectory, $"{Guid.NewGuid()}.tmp"), age: TimeSpan.FromHours(2));
        var freshTemporary = WriteFile(Path.Combine(fixture.OriginalsDirectory, $"{Guid.NewGuid()}.tmp"), age: TimeSpan.FromMinutes(1));
        var oldUnrecorded = WriteFile(Path.Combine(fixture.OriginalsDirectory, $"{Guid.NewGuid()}.jpg"), age: TimeSpan.FromHours(2));
        var freshUnrecorded = WriteFile(Path.Combine(fixture.OriginalsDirectory, $"{Guid.NewGuid()}.jpg"), age: TimeSpan.FromMinutes(1));

        try
        {
            await SweepAsync();

            Assert.False(File.Exists(oldTemporary), "a temporary file of a killed request is still there");
            Assert.False(File.Exists(oldUnrecorded), "an original no upload names is still there");
            Assert.True(File.Exists(freshTemporary), "a temporary file of a request in progress was removed");
            Assert.True(File.Exists(freshUnrecorded), "an original whose row may still be coming was removed");
        }
        finally
        {
            // Other tests count the temporary files in this folder.
            File.Delete(freshTemporary);
            File.Delete(freshUnrecorded);
        }
    }

    [Fact]
    public async Task Variants_a_worker_wrote_after_the_delete_are_swept()
    {
        var deleted = await InsertAsync(UploadStatus.Deleted, TimeSpan.Zero);
        var live = await InsertAsync(UploadStatus.Ready, TimeSpan.Zero);
        var deletedVariants = WriteVariants(deleted.Id);
        var liveVariants = WriteVariants(live.Id);

        await SweepAsync();

        Assert.False(Directory.Exists(deletedVariants));
        Assert.True(Directory.Exists(liveVariants));
    }

    [Theory]
    [InlineData("DegradedBelowMegabytes", HealthStatus.Degraded, HttpStatusCode.OK)]
    [InlineData("UnhealthyBelowMegabytes", HealthStatus.Unhealthy, HttpStatusCode.ServiceUnavailable)]
    public async Task Free_space_below_a_threshold_turns_the_health_check(string setting, HealthStatus status, HttpStatusCode code)
    {
        Assert.Equal(HealthStatus.Healthy, await StorageSpaceAsync(fixture.A));

        // A threshold far above any disk's free space stands in for a disk that is nearly full.
        var settings = new Dictionary<string, string?>(fixture.Settings) { [$"Storage:{setting}"] = "100000000000" };
        await using var replica = new UploadApiFactory(settings);
        using var response = await replica.CreateClient().GetAsync("/health");

        Assert.Equal(status, await StorageSpaceAsync(replica));
        Assert.Equal(code, response.StatusCode);
    }

    /// <summary>The storage-space check alone: the others (broker, Redis) may be recovering from another test.</summary>
    private static async Task<HealthStatus> StorageSpaceAsync(UploadApiFactory replica)
    {
        var report = await replica.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(c => c.Name == "storage-space");
        var entry = Assert.Single(report.Entries).Value;
        Console.WriteLine($"storage-space: {entry.Status} ({entry.Description})");
        return entry.Status;
    }

    private async Task<int> SweepAsync() =>
        await fixture.A.Services.GetRequiredService<StorageSweeper>().SweepAsync(CancellationToken.None);

    private async Task<Upload> InsertAsync(UploadStatus status, TimeSpan age, Guid? productId = null)
    {
        var now = DateTime.UtcNow;
        var id = Guid.CreateVersion7();
        var upload = new Upload
        {
            Id = id,
            ProductId = productId,
            Status = status,
            Sha256 = new string('0', 64),
            OriginalKey = ImageStorage.OriginalKey(id, "jpg"),
            ContentType = "image/jpeg",
            Variants = status == UploadStatus.Ready ? [new UploadVariant("thumb", 1, 1, "jpeg", 1, $"{id}/thumb.jpg")] : [],
            CreatedAt = now - age,
            UpdatedAt = now - age,
            // Never due for the upload sweeper while the test looks.
            NextAttemptAt = now.AddHours(1),
        };
        await fixture.WithDbAsync(async db =>
        {
            db.Uploads.Add(upload);
            return await db.SaveChangesAsync();
        });
        WriteFile(OriginalPath(upload), age);
        return upload;
    }

    private string OriginalPath(Upload upload) => Path.Combine(fixture.StorageRoot, upload.OriginalKey);

    private string WriteVariants(Guid uploadId)
    {
        var folder = Path.Combine(fixture.StorageRoot, ImageStorage.VariantFolderKey(uploadId));
        WriteFile(Path.Combine(folder, "thumb.jpg"), TimeSpan.Zero);
        // Its WebP copy (the worker's pass after Ready) is in the same folder and goes with it.
        WriteFile(Path.Combine(folder, ImageStorage.WebpCopyKey("thumb.jpg")), TimeSpan.Zero);
        return folder;
    }

    private static string WriteFile(string path, TimeSpan age)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, [0xFF, 0xD8, 0xFF]);
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow - age);
        return path;
    }

    private Task<Upload> ReadRowAsync(Guid id) =>
        fixture.WithDbAsync(db => db.Uploads.AsNoTracking().SingleAsync(u => u.Id == id));
}
