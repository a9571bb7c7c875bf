using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Reference.UploadApi.Apis;
using Reference.UploadApi.Model;
using Reference.UploadApi.Tests.Infrastructure;

namespace Reference.UploadApi.Tests;

[Collection(UploadApiCollection.Name)]
public sealed class UploadTests(UploadApiFixture fixture)
{
    [Fact]
    public async Task A_good_upload_is_accepted_recorded_as_pending_stored_and_queued_for_the_worker()
    {
        var productId = Guid.NewGuid();
        using var client = fixture.AdminClient();

        var response = await client.PostAsync("/api/uploads", UploadApiFixture.FormFromFile(TestImages.GoodJpeg, productId.ToString()));

        await response.AssertStatusAsync(HttpStatusCode.Accepted);
        var accepted = await response.Content.ReadFromJsonAsync<UploadAccepted>();
        Assert.NotNull(accepted);
        Assert.Equal("Pending", accepted.Status);
        Assert.Equal($"/api/uploads/{accepted.Id}", accepted.StatusUrl);
        Assert.Equal($"/api/uploads/{accepted.Id}", response.Headers.Location?.OriginalString);

        var row = await fixture.WithDbAsync(db => db.Uploads.AsNoTracking().SingleAsync(u => u.Id == accepted.Id));
        Assert.Equal(UploadStatus.Pending, row.Status);
        Assert.Equal(productId, row.ProductId);
        Assert.Equal(1, row.Attempts);
        Assert.Equal("image/jpeg", row.ContentType);
        Assert.Equal($"originals/{accepted.Id}.jpg", row.OriginalKey);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(TestImages.GoodJpeg))), row.Sha256);
        Assert.True(row.Width > 0 && row.Height > 0);
        Assert.Equal(File.ReadAllBytes(TestImages.GoodJpeg), File.ReadAllBytes(Path.Combine(fixture.StorageRoot, row.OriginalKey)));
        Assert.Empty(Directory.GetFiles(fixture.OriginalsDirectory, "*.tmp"));

        var job = Assert.Single(await fixture.Queue.WaitForAsync(accepted.Id));
        Assert.Equal(productId, job.ProductId);
        Assert.Equal(row.OriginalKey, job.OriginalKey);
        Assert.Equal("image/jpeg", job.ContentType);
        Assert.Equal(1, job.Attempt);
    }

    [Fact]
    public async Task When_the_image_storage_cannot_be_written_the_upload_is_503_and_nothing_is_recorded()
    {
        using var client = fixture.AdminClient();
        var rowsBefore = await fixture.WithDbAsync(db => db.Uploads.CountAsync());
        // A file where the originals folder should be: every write fails, as a full or lost disk would.
        var away = fixture.OriginalsDirectory + ".away";
        Directory.CreateDirectory(fixture.OriginalsDirectory);
        Directory.Move(fixture.OriginalsDirectory, away);
        HttpResponseMessage refused;
        try
        {
            await File.WriteAllTextAsync(fixture.OriginalsDirectory, "in the way");
            refused = await client.PostAsync("/api/uploads", UploadApiFixture.FormFromFile(TestImages.GoodJpeg));
        }
        finally
        {
            File.Delete(fixture.OriginalsDirectory);
            Directory.Move(away, fixture.OriginalsDirectory);
        }

        await refused.AssertStatusAsync(HttpStatusCode.ServiceUnavailable);
        var problem = await refused.Content.ReadAsStringAsync();
        Assert.DoesNotContain(fixture.StorageRoot, problem, StringComparison.Ordinal);
        Assert.NotNull(refused.Headers.RetryAfter);
        Assert.Equal(rowsBefore, await fixture.WithDbAsync(db => db.Uploads.CountAsync()));
        var next = await client.PostAsync("/api/uploads", UploadApiFixture.FormFromFile(TestImages.GoodJpeg));
        await next.AssertStatusAsync(HttpStatusCode.Accepted);
    }

    [Theory]
    [InlineData("png", "image/png")]
    [InlineData("webp", "image/webp")]
    public async Task Png_and_webp_are_accepted_and_named_by_their_content(string extension, string contentType)
    {
        using var client = fixture.AdminClient();
        var path = extension == "png" ? TestImages.GoodPng : TestImages.GoodWebp;
        // A misleading client name and type: neither is used.
        var form = UploadApiFixture.Form(File.ReadAllBytes(path), fileName: "../../evil.jpg", contentType: "image/jpeg");

        var response = await client.PostAsync("/api/uploads", form);

        await response.AssertStatusAsync(HttpStatusCode.Accepted);
        var accepted = (await response.Content.ReadFromJsonAsync<UploadAccepted>())!;
        var row = await fixture.WithDbAsync(db => db.Uploads.AsNoTracking().SingleAsync(u => u.Id == accepted.Id));
        Assert.Equal(contentType, row.ContentType);
        Assert.Equal($"originals/{accepted.Id}.{extension}", row.OriginalKey);
        Assert.True(File.Exists(Path.Combine(fixture.StorageRoot, row.OriginalKey)));
        Assert.False(File.Exists(Path.Combine(fixture.StorageRoot, "..", "evil.jpg")));
    }

    [Fact]
    public async Task An_upload_reads_back_by_id_by_product_and_as_a_stream_with_the_admin_key_only()
    {
        var productId = Guid.NewGuid();
        using var client = fixture.AdminClient();
        var accepted = (await (await client.PostAsync("/api/uploads",
            UploadApiFixture.FormFromFile(TestImages.GoodJpeg, productId.ToString()))).Content.ReadFromJsonAsync<UploadAccepted>())!;
        using var admin = fixture.AdminClient(fixture.B);
        using var anonymous = fixture.B.CreateClient();

        var upload = await admin.GetFromJsonAsync<UploadResponse>($"/api/uploads/{accepted.Id}");
        var byProduct = await admin.GetFromJsonAsync<List<UploadResponse>>($"/api/uploads?productId={productId}");
        using var anonymousRead = await anonymous.GetAsync($"/api/uploads/{accepted.Id}");
        using var anonymousList = await anonymous.GetAsync($"/api/uploads?productId={productId}");
        using var anonymousStream = await anonymous.GetAsync($"/api/uploads/{accepted.Id}/events", HttpCompletionOption.ResponseHeadersRead);

        Assert.NotNull(upload);
        Assert.Equal(accepted.Id, upload.Id);
        Assert.Equal(productId, upload.ProductId);
        Assert.Equal("Pending", upload.Status);
        Assert.Empty(upload.Variants);
        Assert.Equal(accepted.Id, Assert.Single(byProduct!).Id);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/api/uploads/{Guid.NewGuid()}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.GetAsync("/api/uploads?productId=nope")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymousRead.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymousList.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymousStream.StatusCode);
    }

    [Fact]
    public async Task A_retry_with_the_same_idempotency_key_and_content_returns_the_same_upload_and_queues_no_second_job()
    {
        using var client = fixture.AdminClient();
        var key = Guid.NewGuid().ToString();
        var productId = Guid.NewGuid().ToString();

        var first = await PostWithKeyAsync(client, key, UploadApiFixture.FormFromFile(TestImages.GoodJpeg, productId));
        var retry = await PostWithKeyAsync(client, key, UploadApiFixture.FormFromFile(TestImages.GoodJpeg, productId));

        await first.AssertStatusAsync(HttpStatusCode.Accepted);
        await retry.AssertStatusAsync(HttpStatusCode.Accepted);
        var firstId = (await first.Content.ReadFromJsonAsync<UploadAccepted>())!.Id;
        var retryId = (await retry.Content.ReadFromJsonAsync<UploadAccepted>())!.Id;
        Assert.Equal(firstId, retryId);
        Assert.Equal($"/api/uploads/{firstId}", retry.Headers.Location?.OriginalString);
        Assert.Equal(1, await fixture.WithDbAsync(db => db.Uploads.CountAsync(u => u.IdempotencyKey == key)));
        Assert.Single(Directory.GetFiles(fixture.OriginalsDirectory, $"*{firstId}*"));
        Assert.Single(await fixture.Queue.WaitForAsync(firstId));
    }

    [Fact]
    public async Task The_same_idempotency_key_with_a_different_file_or_product_is_refused()
    {
        using var client = fixture.AdminClient();
        var key = Guid.NewGuid().ToString();
        var productId = Guid.NewGuid().ToString();
        var first = await PostWithKeyAsync(client, key, UploadApiFixture.FormFromFile(TestImages.GoodJpeg, productId));
        await first.AssertStatusAsync(HttpStatusCode.Accepted);

        var otherFile = await PostWithKeyAsync(client, key, UploadApiFixture.FormFromFile(TestImages.GoodWebp, productId));
        var otherProduct = await PostWithKeyAsync(client, key, UploadApiFixture.FormFromFile(TestImages.GoodJpeg, Guid.NewGuid().ToString()));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, otherFile.StatusCode);
        Assert.Equal("application/problem+json", otherFile.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, otherProduct.StatusCode);
        Assert.Equal(1, await fixture.WithDbAsync(db => db.Uploads.CountAsync(u => u.IdempotencyKey == key)));
        Assert.Empty(Directory.GetFiles(fixture.OriginalsDirectory, "*.tmp"));
    }

    [Fact]
    public async Task Concurrent_retries_with_one_idempotency_key_make_one_upload()
    {
        using var client = fixture.AdminClient();
        var key = Guid.NewGuid().ToString();

        var responses = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ =>
            PostWithKeyAsync(client, key, UploadApiFixture.FormFromFile(TestImages.GoodJpeg))));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
        var ids = await Task.WhenAll(responses.Select(async r => (await r.Content.ReadFromJsonAsync<UploadAccepted>())!.Id));
        Assert.Single(ids.Distinct());
        Assert.Single(Directory.GetFiles(fixture.OriginalsDirectory, $"*{ids[0]}*"));
    }

    private static Task<HttpResponseMessage> PostWithKeyAsync(HttpClient client, string key, HttpContent content)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/uploads") { Content = content };
        request.Headers.Add("Idempotency-Key", key);
        return client.SendAsync(request);
    }
}
