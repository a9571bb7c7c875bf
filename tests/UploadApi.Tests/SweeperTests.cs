using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Reference.Tests.Support;
using Reference.UploadApi.Apis;
using Reference.UploadApi.Model;
using Reference.UploadApi.Tests.Infrastructure;
using Reference.UploadApi.Uploads;

namespace Reference.UploadApi.Tests;

/// <summary>
/// Both replicas sweep every 200 ms (fixture settings); stuck rows are made by back-dating
/// their next attempt.
/// </summary>
[Collection(UploadApiCollection.Name)]
public sealed class SweeperTests(UploadApiFixture fixture)
{
    [Fact]
    public async Task A_stale_pending_upload_is_published_again_exactly_once_across_two_replicas()
    {
        var stuck = await InsertStuckAsync(UploadStatus.Pending, attempts: 1);

        await fixture.Queue.WaitForAsync(stuck.Id);
        // Ten more sweeps of each replica, run here rather than waited for: none may publish it again
        // before its new timeout.
        await SweepAsync(times: 10);
        var jobs = await fixture.Queue.AllForAsync(stuck.Id);

        var job = Assert.Single(jobs);
        Assert.Equal(2, job.Attempt);
        Assert.Equal(stuck.OriginalKey, job.OriginalKey);
        var row = await ReadRowAsync(stuck.Id);
        Assert.Equal(2, row.Attempts);
        Assert.Equal(UploadStatus.Pending, row.Status);
        Assert.True(row.NextAttemptAt > DateTime.UtcNow);
    }

    [Fact]
    public async Task A_pending_upload_no_worker_took_is_published_again_after_a_doubled_wait()
    {
        // Three publishes no worker started: the next wait is 8 × PendingTimeout (1 min in the fixture).
        var stuck = await InsertStuckAsync(UploadStatus.Pending, attempts: 4, starts: 0);

        Assert.Equal(5, Assert.Single(await fixture.Queue.WaitForAsync(stuck.Id)).Attempt);
        var row = await ReadRowAsync(stuck.Id);
        Assert.InRange(row.NextAttemptAt - DateTime.UtcNow, TimeSpan.FromMinutes(7.5), TimeSpan.FromMinutes(8.5));
    }

    [Fact]
    public async Task A_stale_processing_upload_is_published_again()
    {
        var stuck = await InsertStuckAsync(UploadStatus.Processing, attempts: 2);

        var job = Assert.Single(await fixture.Queue.WaitForAsync(stuck.Id));

        Assert.Equal(3, job.Attempt);
        Assert.Equal(UploadStatus.Processing, (await ReadRowAsync(stuck.Id)).Status);
    }

    [Fact]
    public async Task Concurrent_claims_of_one_stuck_upload_let_exactly_one_replica_publish()
    {
        var stuck = await InsertStuckAsync(UploadStatus.Pending, attempts: 1);

        // Ten claims from the two replicas at once, racing the replicas' own sweepers too.
        var claims = await Task.WhenAll(Enumerable.Range(0, 10).Select(i =>
            fixture.WithTransitionsAsync(i % 2 == 0 ? fixture.A : fixture.B,
                t => t.ClaimRepublishAsync(stuck, TimeSpan.FromMinutes(1), default))));
        await SweepAsync(times: 5);
        var publishedBySweepers = (await fixture.Queue.AllForAsync(stuck.Id)).Count;

        Assert.Equal(1, claims.Count(c => c is not null) + publishedBySweepers);
        Assert.Equal(2, (await ReadRowAsync(stuck.Id)).Attempts);
    }

    [Fact]
    public async Task An_upload_still_stuck_after_the_attempts_cap_fails_with_a_reason_and_is_not_published()
    {
        var stuck = await InsertStuckAsync(UploadStatus.Processing, attempts: 5);

        var deadline = DateTime.UtcNow.AddSeconds(20);
        Upload row;
        while ((row = await ReadRowAsync(stuck.Id)).Status != UploadStatus.Failed && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.Equal(UploadStatus.Failed, row.Status);
        Assert.Contains("5 starts", row.Reason);
        Assert.Empty(await fixture.Queue.AllForAsync(stuck.Id));
    }

    [Fact]
    public async Task An_upload_no_worker_ever_started_is_published_again_past_the_cap_and_never_failed()
    {
        var stuck = await InsertStuckAsync(UploadStatus.Pending, attempts: 9, starts: 0);

        var job = Assert.Single(await fixture.Queue.WaitForAsync(stuck.Id));

        Assert.Equal(10, job.Attempt);
        var row = await ReadRowAsync(stuck.Id);
        Assert.Equal(UploadStatus.Pending, row.Status);
        Assert.Null(row.Reason);
    }

    [Fact]
    public async Task With_the_broker_down_an_upload_is_still_accepted_and_published_once_the_broker_is_back()
    {
        await fixture.Servers.StopAsync(BackingServer.RabbitMq);
        Guid id;
        try
        {
            using var admin = fixture.AdminClient();
            var response = await admin.PostAsync("/api/uploads", UploadApiFixture.FormFromFile(TestImages.GoodJpeg));
            await response.AssertStatusAsync(HttpStatusCode.Accepted);
            id = (await response.Content.ReadFromJsonAsync<UploadAccepted>())!.Id;

            var row = await ReadRowAsync(id);
            Assert.Equal(UploadStatus.Pending, row.Status);
            // The failed first publish does not count; a sweeper pass racing this read may have claimed it once.
            Assert.InRange(row.Attempts, 0, 1);

            // Degraded, not unhealthy: the gateway keeps sending uploads to a replica that can still accept them.
            var health = await Poll.UntilAsync(async () => await (await admin.GetAsync("/health")).Content.ReadAsStringAsync(),
                body => body == "Degraded");
            Assert.Equal("Degraded", health);
        }
        finally
        {
            await fixture.Servers.StartAsync(BackingServer.RabbitMq);
        }

        var job = Assert.Single(await fixture.Queue.WaitForAsync(id, timeout: TimeSpan.FromSeconds(90)));
        Assert.Equal(1, job.Attempt);
        Assert.Equal(1, (await ReadRowAsync(id)).Attempts);
    }

    private async Task<Upload> InsertStuckAsync(UploadStatus status, int attempts, int? starts = null)
    {
        var now = DateTime.UtcNow;
        var id = Guid.CreateVersion7();
        var upload = new Upload
        {
            Id = id,
            Status = status,
            Attempts = attempts,
            Starts = starts ?? attempts,
            Sha256 = new string('0', 64),
            OriginalKey = $"originals/{id}.jpg",
            ContentType = "image/jpeg",
            Width = 640,
            Height = 480,
            CreatedAt = now.AddMinutes(-10),
            UpdatedAt = now.AddMinutes(-10),
            NextAttemptAt = now.AddSeconds(-1),
        };
        await fixture.WithDbAsync(async db =>
        {
            db.Uploads.Add(upload);
            return await db.SaveChangesAsync();
        });
        return upload;
    }

    private Task<Upload> ReadRowAsync(Guid id) =>
        fixture.WithDbAsync(db => db.Uploads.AsNoTracking().SingleAsync(u => u.Id == id));

    /// <summary>Sweeps on both replicas, each to its end, beside the replicas' own timed sweeps.</summary>
    private async Task SweepAsync(int times)
    {
        foreach (var replica in new[] { fixture.A, fixture.B })
        {
            var sweeper = replica.Services.GetServices<IHostedService>().OfType<UploadSweeper>().Single();
            for (var i = 0; i < times; i++)
            {
                await sweeper.SweepAsync(CancellationToken.None);
            }
        }
    }
}
