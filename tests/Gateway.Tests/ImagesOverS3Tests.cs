using System.Net;
using Microsoft.Extensions.Hosting;
using Reference.Gateway.Tests.Support;
using Reference.Storage;
using Reference.Tests.Support;

namespace Reference.Gateway.Tests;

/// <summary>
/// <c>/images</c> with <c>Storage:Kind=S3</c> on a real S3 server (s3rver): the same answers as from the
/// folder (<see cref="ImageTests"/>), and a redirect when <c>Storage:PublicBaseUrl</c> is set.
/// </summary>
public sealed class ImagesOverS3Tests : IClassFixture<BackendFixture>, IClassFixture<S3Server>, IAsyncLifetime
{
    private const string Secret = "GPS-EXIF-SECRET";
    private static readonly byte[] Webp = [.. "RIFF\0\0\0\0WEBPVP8 "u8, .. new byte[512]];

    private readonly BackendFixture _backends;
    private readonly S3Server _s3;
    private readonly IImageStore _bucket;
    private readonly string _uploadId = Guid.NewGuid().ToString();

    public ImagesOverS3Tests(BackendFixture backends, S3Server s3)
    {
        _backends = backends;
        _s3 = s3;
        _bucket = ImageStores.Create(new ImageStoreSettings
        {
            Kind = "S3",
            S3 = { ServiceUrl = s3.ServiceUrl, Bucket = S3Server.Bucket, AccessKey = S3Server.AccessKey, SecretKey = S3Server.SecretKey },
        });
    }

    public async Task InitializeAsync()
    {
        await _bucket.PutAsync($"variants/{_uploadId}/thumb.webp", new MemoryStream(Webp));
        await _bucket.PutAsync($"variants/{_uploadId}/card.jpg", new MemoryStream("jpeg bytes"u8.ToArray()));
        await _bucket.PutAsync($"variants/{_uploadId}/page.html", new MemoryStream("<script>alert(1)</script>"u8.ToArray()));
        await _bucket.PutAsync($"originals/{_uploadId}.jpg", new MemoryStream(System.Text.Encoding.UTF8.GetBytes(Secret)));
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private GatewayHost Gateway(string? publicBaseUrl = null)
    {
        var settings = new Dictionary<string, string?>(_s3.StorageSettings) { ["Storage:Root"] = "" };
        if (publicBaseUrl is not null)
        {
            settings["Storage:PublicBaseUrl"] = publicBaseUrl;
        }

        return new GatewayHost([_backends.Inventory], [_backends.Uploads], settings);
    }

    [Fact]
    public async Task A_variant_is_served_from_the_bucket_with_its_content_type_an_etag_and_immutable_caching_and_304_when_unchanged()
    {
        using var gateway = Gateway();
        using var client = gateway.CreateRealClient();

        using var webp = await client.GetAsync($"/images/{_uploadId}/thumb.webp");
        using var jpeg = await client.GetAsync($"/images/{_uploadId}/card.jpg");

        Assert.Equal(HttpStatusCode.OK, webp.StatusCode);
        Assert.Equal(Webp, await webp.Content.ReadAsByteArrayAsync());
        Assert.Equal(Webp.Length, webp.Content.Headers.ContentLength);
        Assert.Equal("image/webp", webp.Content.Headers.ContentType!.MediaType);
        Assert.Equal("image/jpeg", jpeg.Content.Headers.ContentType!.MediaType);
        Assert.Equal("public, max-age=31536000, immutable", webp.Headers.CacheControl!.ToString());
        Assert.Equal("nosniff", webp.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.NotNull(webp.Content.Headers.LastModified);

        using var again = new HttpRequestMessage(HttpMethod.Get, $"/images/{_uploadId}/thumb.webp");
        again.Headers.IfNoneMatch.Add(webp.Headers.ETag!);
        using var notModified = await client.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("/images/{id}/missing.jpg")]
    [InlineData("/images/{id}/page.html")]
    [InlineData("/images/../originals/{id}.jpg")]
    [InlineData("/images/..%2Foriginals%2F{id}.jpg")]
    [InlineData("/images/%2E%2E%2Foriginals%2F{id}.jpg")]
    [InlineData("/images/{id}/..%2F..%2Foriginals%2F{id}.jpg")]
    [InlineData("/images/..\\originals\\{id}.jpg")]
    [InlineData("/images/{id}/")]
    [InlineData("/images/{id}")]
    [InlineData("/images/")]
    [InlineData("/originals/{id}.jpg")]
    public async Task Anything_but_a_stored_variant_is_refused_and_originals_cannot_be_named(string rawPath)
    {
        using var gateway = Gateway();

        var (status, response) = await RawHttp.GetAsync(gateway.BaseAddress, rawPath.Replace("{id}", _uploadId));

        Assert.Contains(status, new[] { 400, 404 });
        Assert.DoesNotContain(Secret, response);
        Assert.DoesNotContain("alert", response);
    }

    [Fact]
    public async Task With_a_public_base_url_a_variant_is_a_redirect_there_and_the_url_serves_its_bytes()
    {
        // s3rver serves objects to anonymous GETs, as a public bucket (or a CDN in front of one) does.
        var publicBase = $"{_s3.ServiceUrl}/{S3Server.Bucket}/variants";
        using var gateway = Gateway(publicBase);
        using var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = gateway.BaseAddress };

        using var response = await client.GetAsync($"/images/{_uploadId}/thumb.webp");
        using var refused = await client.GetAsync($"/images/{_uploadId}/..%2F..%2Foriginals%2F{_uploadId}.jpg");

        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        Assert.Equal($"{publicBase}/{_uploadId}/thumb.webp", response.Headers.Location!.ToString());
        Assert.Equal(Webp, await new HttpClient().GetByteArrayAsync(response.Headers.Location));
        Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
    }

    [Fact]
    public async Task A_browser_that_accepts_webp_gets_the_copy_from_the_bucket_at_the_variants_url_and_the_jpeg_until_it_exists()
    {
        await _bucket.PutAsync($"variants/{_uploadId}/detail.jpg", new MemoryStream("detail jpeg"u8.ToArray()));
        using var gateway = Gateway();
        using var client = gateway.CreateRealClient();

        using var before = await GetAcceptingWebpAsync(client, $"/images/{_uploadId}/detail.jpg");
        await _bucket.PutAsync($"variants/{_uploadId}/detail.webp", new MemoryStream(Webp));
        using var after = await GetAcceptingWebpAsync(client, $"/images/{_uploadId}/detail.jpg");
        using var jpegOnly = await client.GetAsync($"/images/{_uploadId}/detail.jpg");

        Assert.Equal(("image/jpeg", "public, max-age=60"), (before.Content.Headers.ContentType!.MediaType, before.Headers.CacheControl!.ToString()));
        Assert.Equal(Webp, await after.Content.ReadAsByteArrayAsync());
        Assert.Equal(("image/webp", "public, max-age=31536000, immutable"), (after.Content.Headers.ContentType!.MediaType, after.Headers.CacheControl!.ToString()));
        Assert.Equal("detail jpeg", await jpegOnly.Content.ReadAsStringAsync());
        Assert.All(new[] { before, after, jpegOnly }, r => Assert.Equal(["Accept"], r.Headers.Vary));
    }

    [Fact]
    public async Task A_variant_whose_read_from_the_bucket_breaks_off_is_a_503_never_a_200_cut_short()
    {
        var photo = new byte[256 * 1024];
        Random.Shared.NextBytes(photo);
        await _bucket.PutAsync($"variants/{_uploadId}/detail.jpg", new MemoryStream(photo));
        // The gateway's S3 connections go through a relay that closes each one after 64 KB of the server's answer.
        await using var breaking = new BreakingRelay(new Uri(_s3.ServiceUrl), breakAfterBytes: 64 * 1024);
        var settings = new Dictionary<string, string?>(_s3.StorageSettings) { ["Storage:Root"] = "", ["Storage:S3:ServiceUrl"] = breaking.Url };
        using var gateway = new GatewayHost([_backends.Inventory], [_backends.Uploads], settings);
        using var client = gateway.CreateRealClient();

        using var broken = await client.GetAsync($"/images/{_uploadId}/detail.jpg");
        using var whole = await Gateway().CreateRealClient().GetAsync($"/images/{_uploadId}/detail.jpg");

        Assert.True(breaking.Breaks > 0, "the relay never broke a connection: the object was not read through it");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, broken.StatusCode);
        Assert.Equal("application/problem+json", broken.Content.Headers.ContentType!.MediaType);
        Assert.NotNull(broken.Headers.RetryAfter);
        Assert.Null(broken.Headers.CacheControl);
        Assert.Equal(photo, await whole.Content.ReadAsByteArrayAsync());
    }

    private static Task<HttpResponseMessage> GetAcceptingWebpAsync(HttpClient client, string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("Accept", "image/avif,image/webp,*/*;q=0.8");
        return client.SendAsync(request);
    }
}
