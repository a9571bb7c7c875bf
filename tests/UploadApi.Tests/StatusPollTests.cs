using System.Diagnostics;
using System.Net.Http.Json;
using MySqlConnector;
using Reference.UploadApi.Apis;
using Reference.UploadApi.StatusFeed;
using Reference.UploadApi.Tests.Infrastructure;

namespace Reference.UploadApi.Tests;

[Collection(UploadApiCollection.Name)]
public sealed class StatusPollTests(UploadApiFixture fixture)
{
    [Fact]
    public async Task Polling_an_upload_reads_mysql_once_per_change_not_once_per_poll()
    {
        var id = await fixture.UploadGoodJpegAsync();
        using var client = fixture.AdminClient(fixture.A);
        const int polls = 200;

        var selectsBefore = await SelectsSoFarAsync();
        for (var i = 0; i < polls; i++)
        {
            Assert.Equal("Pending", (await client.GetFromJsonAsync<UploadResponse>($"/api/uploads/{id}"))!.Status);
        }

        var selects = await SelectsSoFarAsync() - selectsBefore;
        Console.WriteLine($"status polls: {polls} polls of one upload, {selects} SELECTs on the server (the sweepers' included)");
        // Before the cache, each poll was one SELECT. The margin is the two replicas' sweepers and the expiry of the answer.
        Assert.True(selects < polls / 10, $"{polls} polls made {selects} SELECTs");
    }

    [Fact]
    public async Task A_poll_on_one_replica_sees_a_change_made_on_the_other_at_once_not_when_its_answer_expires()
    {
        var id = await fixture.UploadGoodJpegAsync();
        using var clientOnA = fixture.AdminClient(fixture.A);
        Assert.Equal("Pending", (await clientOnA.GetFromJsonAsync<UploadResponse>($"/api/uploads/{id}"))!.Status);

        await fixture.WithTransitionsAsync(fixture.B, t => t.MarkProcessingAsync(id, TimeSpan.FromMinutes(1), default));
        var clock = Stopwatch.StartNew();
        string status;
        do
        {
            status = (await clientOnA.GetFromJsonAsync<UploadResponse>($"/api/uploads/{id}"))!.Status;
        }
        while (status != "Processing" && clock.Elapsed < UploadStatusCache.Lifetime * 2);

        Console.WriteLine($"status polls: a change on replica B seen by a poll on A after {clock.Elapsed.TotalMilliseconds:0} ms");
        Assert.Equal("Processing", status);
        Assert.True(clock.Elapsed < UploadStatusCache.Lifetime / 2, $"seen after {clock.Elapsed}, as if by expiry, not by the feed");
    }

    private async Task<long> SelectsSoFarAsync()
    {
        await using var connection = new MySqlConnection(fixture.Servers.MySqlConnectionString("uploaddb"));
        await connection.OpenAsync();
        await using var command = new MySqlCommand("SHOW GLOBAL STATUS LIKE 'Com_select'", connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return long.Parse(reader.GetString(1), System.Globalization.CultureInfo.InvariantCulture);
    }
}
