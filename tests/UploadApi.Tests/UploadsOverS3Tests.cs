using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Reference.Contracts;
using Reference.Storage;
using Reference.Tests.Support;
using Reference.UploadApi.Apis;
using Reference.UploadApi.Storage;
using Reference.UploadApi.Tests.Infrastructure;

namespace Reference.UploadApi.Tests;

/// <summary>A replica with <c>Storage:Kind=S3</c> on a real S3 server (s3rver), beside the fixture's folder replicas on the same database and broker.</summary>
[Collection(UploadApiCollection.Name)]
public sealed class UploadsOverS3Tests : IClassFixture<S3Server>, IAsyncLifetime
{
    private readonly UploadApiFixture _fixture;
    private readonly UploadApiFactory _replica;
    private readonly string _staging = Directory.CreateTempSubdirectory("uploadapi-staging-").FullName;
    private readonly IImageStore _bucket;

    public UploadsOverS3Tests(UploadApiFixture fixture, S3Server s3)
    {
        _fixture = fixture;
        var settings = new Dictionary<string, string?>(fixture.Settings);
        foreach (var (key, value) in s3.StorageSettings)
        {
            settings[key] = value;
        }

        // No folder: a replica that wrote images to the disk would fail on this root.
        settings["Storage:Root"] = "/nonexistent-image-folder";
        settings["Storage:StagingFolder"] = _staging;
        _replica = new UploadApiFactory(settings);
        _bucket = ImageStores.Create(new ImageStoreSettings
        {
            Kind = "S3",
            S3 = { ServiceUrl = s3.ServiceUrl, Bucket = S3Server.Bucket, AccessKey = S3Server.AccessKey, SecretKey = S3Server.SecretKey },
        });
    }

    public Task InitializeAsync() => Task.CompletedTask;

    [Fact]
    public async Task An_upload_is_kept_in_the_bucket_before_its_job_is_queued_and_leaves_nothing_staged()
    {
        var accepted = await UploadAsync();

        var row = await _fixture.WithDbAsync(db => db.Uploads.AsNoTracking().SingleAsync(u => u.Id == accepted.Id));
        await using (var original = await _bucket.GetAsync(row.OriginalKey))
        {
            Assert.NotNull(original);
            Assert.Equal(await File.ReadAllBytesAsync(TestImages.GoodJpeg), await original.ReadAllBytesAsync());
        }

        Assert.Empty(Directory.GetFiles(_staging));
        var job = Assert.Single(await _fixture.Queue.WaitForAsync(accepted.Id));
        Assert.Equal(row.OriginalKey, job.OriginalKey);

        using var health = await _replica.CreateClient().GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task The_sweeper_removes_a_deleted_uploads_original_and_variants_from_the_bucket()
    {
        var accepted = await UploadAsync();
        _ = await _fixture.Queue.WaitForAsync(accepted.Id);
        var variantKey = $"{ImageStorage.VariantFolderKey(accepted.Id)}/thumb.jpg";
        await _bucket.PutAsync(variantKey, new MemoryStream([1, 2, 3]));
        var other = await UploadAsync();
        _ = await _fixture.Queue.WaitForAsync(other.Id);

        await _fixture.WithTransitionsAsync(_replica, t => t.MarkDeletedAsync(accepted.Id, CancellationToken.None));
        await _replica.Services.GetRequiredService<StorageSweeper>().SweepAsync(CancellationToken.None);

        Assert.False(await _bucket.ExistsAsync(ImageStorage.OriginalKey(accepted.Id, "jpg")));
        Assert.False(await _bucket.ExistsAsync(variantKey));
        // A Pending upload's original stays.
        Assert.True(await _bucket.ExistsAsync(ImageStorage.OriginalKey(other.Id, "jpg")));
    }

    [Fact]
    public async Task When_the_bucket_cannot_be_reached_the_upload_is_503_nothing_is_recorded_and_nothing_stays_staged()
    {
        var settings = new Dictionary<string, string?>(_fixture.Settings)
        {
            ["Storage:Kind"] = "S3",
            ["Storage:S3:ServiceUrl"] = $"http://127.0.0.1:{Loopback.FreePort()}",
            ["Storage:S3:Bucket"] = S3Server.Bucket,
            ["Storage:StagingFolder"] = _staging,
        };
        await using var cutOff = new UploadApiFactory(settings);
        using var client = _fixture.AdminClient(cutOff);
        var rowsBefore = await _fixture.WithDbAsync(db => db.Uploads.CountAsync());

        var refused = await client.PostAsync("/api/uploads", UploadApiFixture.FormFromFile(TestImages.GoodJpeg));

        await refused.AssertStatusAsync(HttpStatusCode.ServiceUnavailable);
        Assert.NotNull(refused.Headers.RetryAfter);
        Assert.Equal(rowsBefore, await _fixture.WithDbAsync(db => db.Uploads.CountAsync()));
        Assert.Empty(Directory.GetFiles(_staging));
    }

    public async Task DisposeAsync()
    {
        await _replica.DisposeAsync();
        Directory.Delete(_staging, recursive: true);
    }

    private async Task<UploadAccepted> UploadAsync()
    {
        using var client = _fixture.AdminClient(_replica);
        var response = await client.PostAsync("/api/uploads", UploadApiFixture.FormFromFile(TestImages.GoodJpeg, Guid.NewGuid().ToString()));
        await response.AssertStatusAsync(HttpStatusCode.Accepted);
        return (await response.Content.ReadFromJsonAsync<UploadAccepted>())!;
    }
}
