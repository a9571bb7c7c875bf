using System.Net;
using System.Net.Http.Json;
using Reference.UploadApi.Apis;
using Reference.UploadApi.Model;
using Reference.UploadApi.Tests.Infrastructure;

namespace Reference.UploadApi.Tests;

[Collection(UploadApiCollection.Name)]
public sealed class StatusEventsTests(UploadApiFixture fixture)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_client_on_one_replica_sees_every_change_made_on_the_other_and_the_stream_ends_at_ready()
    {
        var id = await fixture.UploadGoodJpegAsync();
        using var clientOnA = fixture.AdminClient(fixture.A);
        using var response = await clientOnA.GetAsync($"/api/uploads/{id}/events", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var events = new EventStreamReader(await response.Content.ReadAsStreamAsync());

        var first = await events.NextAsync(Wait);
        Assert.Equal("status", first?.Event);
        Assert.Equal("Pending", first?.Upload?.Status);

        // Replica B applies the worker's events. A's keep-alive re-read is five minutes away
        // (fixture setting), so A can only learn of them through Redis.
        await fixture.WithTransitionsAsync(fixture.B, t => t.MarkProcessingAsync(id, TimeSpan.FromMinutes(1), default));
        var processing = await events.NextAsync(Wait);
        Assert.Equal("Processing", processing?.Upload?.Status);

        List<UploadVariant> variants = [new("thumb", 200, 125, "jpeg", 9000, $"{id}/thumb.jpg")];
        await fixture.WithTransitionsAsync(fixture.B, t => t.MarkReadyAsync(id, variants, default));
        var ready = await events.NextAsync(Wait);
        Assert.Equal("Ready", ready?.Upload?.Status);
        var variant = Assert.Single(ready!.Upload!.Variants);
        Assert.Equal($"/images/{id}/thumb.jpg", variant.Url);

        Assert.Null(await events.NextAsync(Wait));
    }

    [Fact]
    public async Task A_finished_upload_streams_its_state_once_and_ends()
    {
        var id = await fixture.UploadGoodJpegAsync();
        await fixture.WithTransitionsAsync(fixture.A, t => t.MarkFailedAsync(id, "Not an image after all.", default));
        using var client = fixture.AdminClient(fixture.B);

        using var response = await client.GetAsync($"/api/uploads/{id}/events", HttpCompletionOption.ResponseHeadersRead);
        using var events = new EventStreamReader(await response.Content.ReadAsStreamAsync());

        var only = await events.NextAsync(Wait);
        Assert.Equal("Failed", only?.Upload?.Status);
        Assert.Equal("Not an image after all.", only?.Upload?.Reason);
        Assert.Null(await events.NextAsync(Wait));
    }

    [Fact]
    public async Task A_quiet_stream_sends_keep_alive_comments()
    {
        var id = await fixture.UploadGoodJpegAsync();
        await using var quickKeepAlive = fixture.A.WithWebHostBuilder(b => b.UseSetting("Uploads:EventsKeepAlive", "00:00:00.200"));
        using var client = quickKeepAlive.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", UploadApiFixture.AdminKey);

        using var response = await client.GetAsync($"/api/uploads/{id}/events", HttpCompletionOption.ResponseHeadersRead);
        using var events = new EventStreamReader(await response.Content.ReadAsStreamAsync());

        Assert.Equal("Pending", (await events.NextAsync(Wait))?.Upload?.Status);
        Assert.Equal("keep-alive", (await events.NextAsync(Wait))?.Comment);
    }

    [Fact]
    public async Task A_stream_ends_at_its_maximum_lifetime_even_while_the_upload_is_still_pending()
    {
        var id = await fixture.UploadGoodJpegAsync();
        await using var shortLived = fixture.A.WithWebHostBuilder(b => b
            .UseSetting("Uploads:EventsKeepAlive", "00:00:00.200")
            .UseSetting("Uploads:EventsMaxLifetime", "00:00:01"));
        using var client = shortLived.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", UploadApiFixture.AdminKey);
        var started = DateTime.UtcNow;

        using var response = await client.GetAsync($"/api/uploads/{id}/events", HttpCompletionOption.ResponseHeadersRead);
        using var events = new EventStreamReader(await response.Content.ReadAsStreamAsync());
        var received = 0;
        while (DateTime.UtcNow - started < TimeSpan.FromSeconds(10) && await events.NextAsync(TimeSpan.FromSeconds(2)) is not null)
        {
            received++;
        }

        var open = DateTime.UtcNow - started;
        Assert.True(received >= 1, "not even the first event arrived");
        Assert.InRange(open, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(6));
    }

    [Theory]
    [InlineData("Cannot read '/var/lib/storefront/images/originals/0b7c.jpg': Input/output error.")]
    [InlineData("Could not find file /tmp/uploadapi-storage-x/originals/0b7c.tmp")]
    [InlineData(@"Access to C:\srv\images\originals\0b7c.jpg is denied.")]
    public async Task A_failure_reason_never_shows_a_server_path(string reason)
    {
        var id = await fixture.UploadGoodJpegAsync();

        await fixture.WithTransitionsAsync(fixture.A, t => t.MarkFailedAsync(id, reason, default));
        using var admin = fixture.AdminClient();
        var upload = await admin.GetFromJsonAsync<UploadResponse>($"/api/uploads/{id}");

        Assert.Equal("Failed", upload!.Status);
        Assert.DoesNotContain("originals", upload.Reason);
        Assert.Contains("[path]", upload.Reason);
    }

    [Fact]
    public async Task Events_of_an_unknown_upload_are_404()
    {
        using var client = fixture.AdminClient(fixture.A);

        var response = await client.GetAsync($"/api/uploads/{Guid.NewGuid()}/events");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
