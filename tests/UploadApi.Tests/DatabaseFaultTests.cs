using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Reference.UploadApi.Apis;
using Reference.UploadApi.Model;
using Reference.UploadApi.Tests.Infrastructure;

namespace Reference.UploadApi.Tests;

/// <summary>
/// An insert whose outcome the service cannot see: the original must never be deleted while a
/// row may name it. (A CI fault run lost two originals this way when MySQL restarted.)
/// </summary>
[Collection(UploadApiCollection.Name)]
public sealed class DatabaseFaultTests(UploadApiFixture fixture) : IDisposable
{
    public void Dispose() => fixture.Faults.Clear();

    [Fact]
    public async Task An_insert_that_committed_but_lost_its_answer_is_accepted_with_its_original_kept_and_queued()
    {
        using var client = fixture.AdminClient();
        var key = Guid.NewGuid().ToString();
        fixture.Faults.LoseInsertAnswers(1);

        var response = await PostWithKeyAsync(client, key);

        await response.AssertStatusAsync(HttpStatusCode.Accepted);
        var id = (await response.Content.ReadFromJsonAsync<UploadAccepted>())!.Id;
        var row = await ReadRowAsync(id);
        Assert.Equal(key, row.IdempotencyKey);
        AssertOriginalStored(row);
        Assert.Single(await fixture.Queue.WaitForAsync(id));
    }

    [Fact]
    public async Task When_it_cannot_tell_whether_the_insert_committed_it_answers_503_keeps_the_original_and_the_retry_gets_the_upload()
    {
        using var client = fixture.AdminClient();
        var key = Guid.NewGuid().ToString();
        fixture.Faults.LoseInsertAnswers(1);
        // Every try of the retrying strategy.
        fixture.Faults.FailExistenceChecks(10);

        var failed = await PostWithKeyAsync(client, key);

        await failed.AssertStatusAsync(HttpStatusCode.ServiceUnavailable);
        Assert.Equal("application/problem+json", failed.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(failed.Headers.RetryAfter);
        fixture.Faults.Clear();

        var retry = await PostWithKeyAsync(client, key);

        await retry.AssertStatusAsync(HttpStatusCode.Accepted);
        var row = await ReadRowAsync((await retry.Content.ReadFromJsonAsync<UploadAccepted>())!.Id);
        AssertOriginalStored(row);
        Assert.Equal(1, await fixture.WithDbAsync(db => db.Uploads.CountAsync(u => u.IdempotencyKey == key)));
    }

    [Fact]
    public async Task An_insert_that_never_reached_the_database_answers_503_and_leaves_no_file()
    {
        using var client = fixture.AdminClient();
        var key = Guid.NewGuid().ToString();
        var before = Directory.CreateDirectory(fixture.OriginalsDirectory).GetFiles().Select(f => f.FullName).ToHashSet();
        // More than the retrying strategy's tries.
        fixture.Faults.RefuseInserts(10);

        var failed = await PostWithKeyAsync(client, key);

        await failed.AssertStatusAsync(HttpStatusCode.ServiceUnavailable);
        Assert.Equal(0, await fixture.WithDbAsync(db => db.Uploads.CountAsync(u => u.IdempotencyKey == key)));
        // The collection's tests run one at a time: any new file would be this upload's.
        Assert.Equal(before, Directory.GetFiles(fixture.OriginalsDirectory).ToHashSet());
    }

    private void AssertOriginalStored(Upload row) =>
        Assert.Equal(File.ReadAllBytes(TestImages.GoodJpeg), File.ReadAllBytes(Path.Combine(fixture.StorageRoot, row.OriginalKey)));

    private Task<Upload> ReadRowAsync(Guid id) =>
        fixture.WithDbAsync(db => db.Uploads.AsNoTracking().SingleAsync(u => u.Id == id), fixture.B);

    private static Task<HttpResponseMessage> PostWithKeyAsync(HttpClient client, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/uploads") { Content = UploadApiFixture.FormFromFile(TestImages.GoodJpeg) };
        request.Headers.Add(UploadsApi.IdempotencyKeyHeader, key);
        return client.SendAsync(request);
    }
}
