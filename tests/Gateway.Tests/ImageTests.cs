using System.Net;
using Reference.Gateway.Tests.Support;

namespace Reference.Gateway.Tests;

public sealed class ImageTests : IClassFixture<BackendFixture>, IDisposable
{
    private const string UploadId = "3f2a9c1e-0000-4000-8000-00000000abcd";
    private const string Secret = "GPS-EXIF-SECRET";
    private readonly GatewayHost _gateway;

    public ImageTests(BackendFixture backends)
    {
        _gateway = new GatewayHost([backends.Inventory], [backends.Uploads]);
        var variant = Directory.CreateDirectory(Path.Combine(_gateway.StorageRoot, "variants", UploadId)).FullName;
        File.WriteAllBytes(Path.Combine(variant, "thumb.webp"), [.. "RIFF\0\0\0\0WEBPVP8 "u8, .. new byte[512]]);
        File.WriteAllText(Path.Combine(variant, "card.jpg"), "jpeg bytes");
        Directory.CreateDirectory(Path.Combine(_gateway.StorageRoot, "originals"));
        File.WriteAllText(Path.Combine(_gateway.StorageRoot, "originals", $"{UploadId}.jpg"), Secret);
        File.WriteAllText(Path.Combine(_gateway.StorageRoot, "secret.txt"), Secret);
    }

    public void Dispose() => _gateway.Dispose();

    [Fact]
    public async Task A_variant_is_served_with_its_content_type_an_etag_and_immutable_caching()
    {
        using var client = _gateway.CreateRealClient();

        using var webp = await client.GetAsync($"/images/{UploadId}/thumb.webp");
        using var jpeg = await client.GetAsync($"/images/{UploadId}/card.jpg");

        Assert.Equal(HttpStatusCode.OK, webp.StatusCode);
        Assert.Equal("image/webp", webp.Content.Headers.ContentType!.MediaType);
        Assert.Equal("image/jpeg", jpeg.Content.Headers.ContentType!.MediaType);
        Assert.NotNull(webp.Headers.ETag);
        Assert.Equal("public, max-age=31536000, immutable", webp.Headers.CacheControl!.ToString());
        Assert.Equal("nosniff", webp.Headers.GetValues("X-Content-Type-Options").Single());
    }

    [Theory]
    [InlineData("page.html")]
    [InlineData("drawing.svg")]
    [InlineData("notes.txt")]
    [InlineData("data.json")]
    [InlineData("script.js")]
    [InlineData("card.jpg.html")]
    public async Task Any_file_under_variants_that_is_not_a_variant_format_is_404(string name)
    {
        File.WriteAllText(Path.Combine(_gateway.StorageRoot, "variants", UploadId, name), "<script>alert(1)</script>");
        using var client = _gateway.CreateRealClient();

        using var response = await client.GetAsync($"/images/{UploadId}/{name}");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.DoesNotContain("alert", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_variant_the_browser_already_has_answers_304()
    {
        using var client = _gateway.CreateRealClient();
        using var first = await client.GetAsync($"/images/{UploadId}/thumb.webp");
        using var again = new HttpRequestMessage(HttpMethod.Get, $"/images/{UploadId}/thumb.webp");
        again.Headers.IfNoneMatch.Add(first.Headers.ETag!);

        using var response = await client.SendAsync(again);

        Assert.Equal(HttpStatusCode.NotModified, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("/images/../originals/" + UploadId + ".jpg")]
    [InlineData("/images/%2e%2e/originals/" + UploadId + ".jpg")]
    [InlineData("/images/%2E%2E%2Foriginals%2F" + UploadId + ".jpg")]
    [InlineData("/images/..%2Foriginals%2F" + UploadId + ".jpg")]
    [InlineData("/images/..%2F..%2Fsecret.txt")]
    [InlineData("/images/" + UploadId + "/../../secret.txt")]
    [InlineData("/images/..\\originals\\" + UploadId + ".jpg")]
    [InlineData("/images/%5C..%5C..%5Csecret.txt")]
    [InlineData("/images//etc/passwd")]
    [InlineData("/images/%2Fetc%2Fpasswd")]
    [InlineData("/images/{root}/secret.txt")]
    [InlineData("/images/%2F{root}%2Fsecret.txt")]
    [InlineData("/originals/" + UploadId + ".jpg")]
    [InlineData("/images/" + UploadId + "/")]
    [InlineData("/images/" + UploadId)]
    [InlineData("/images/")]
    public async Task Paths_outside_the_variants_folder_or_naming_a_directory_are_refused(string rawPath)
    {
        var path = rawPath.Replace("{root}", _gateway.StorageRoot.TrimStart('/'));

        var (status, response) = await RawHttp.GetAsync(_gateway.BaseAddress, path);

        Assert.Contains(status, new[] { 400, 404 });
        Assert.DoesNotContain(Secret, response);
        Assert.DoesNotContain("root:", response);
        Assert.DoesNotContain("thumb.webp", response); // no directory listing
    }

    [Fact]
    public async Task The_raw_request_helper_does_reach_real_files()
    {
        // Guards the theory above: a refusal there must not come from a broken raw client.
        var (status, _) = await RawHttp.GetAsync(_gateway.BaseAddress, $"/images/{UploadId}/card.jpg");

        Assert.Equal(200, status);
    }

    private const string ChromiumAccept = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";

    [Fact]
    public async Task A_browser_that_accepts_webp_gets_the_variants_webp_copy_at_its_url_others_the_jpeg_and_caches_are_told_by_vary_accept()
    {
        byte[] copy = [.. "RIFF\0\0\0\0WEBPVP8 "u8, .. new byte[100]];
        File.WriteAllBytes(Path.Combine(_gateway.StorageRoot, "variants", UploadId, "card.webp"), copy);
        using var client = _gateway.CreateRealClient();

        using var webp = await GetAsync(client, $"/images/{UploadId}/card.jpg", ChromiumAccept);
        using var refused = await GetAsync(client, $"/images/{UploadId}/card.jpg", "image/webp;q=0, image/*");
        using var anything = await GetAsync(client, $"/images/{UploadId}/card.jpg", "*/*");

        Assert.Equal("image/webp", webp.Content.Headers.ContentType!.MediaType);
        Assert.Equal(copy, await webp.Content.ReadAsByteArrayAsync());
        Assert.Equal("jpeg bytes", await refused.Content.ReadAsStringAsync());
        Assert.Equal("image/jpeg", anything.Content.Headers.ContentType!.MediaType);
        Assert.All(new[] { webp, refused, anything }, r => Assert.Equal(["Accept"], r.Headers.Vary));
        Assert.All(new[] { webp, refused, anything }, r => Assert.Equal("public, max-age=31536000, immutable", r.Headers.CacheControl!.ToString()));
        Assert.NotEqual(anything.Headers.ETag, webp.Headers.ETag);
        using var again = new HttpRequestMessage(HttpMethod.Get, $"/images/{UploadId}/card.jpg");
        again.Headers.TryAddWithoutValidation("Accept", ChromiumAccept);
        again.Headers.IfNoneMatch.Add(webp.Headers.ETag!);
        Assert.Equal(HttpStatusCode.NotModified, (await client.SendAsync(again)).StatusCode);
    }

    [Fact]
    public async Task Until_the_webp_copy_is_made_a_webp_browser_gets_the_jpeg_cached_for_a_minute_only()
    {
        File.WriteAllText(Path.Combine(_gateway.StorageRoot, "variants", UploadId, "detail.jpg"), "detail jpeg");
        using var client = _gateway.CreateRealClient();

        using var response = await GetAsync(client, $"/images/{UploadId}/detail.jpg", ChromiumAccept);

        Assert.Equal("detail jpeg", await response.Content.ReadAsStringAsync());
        Assert.Equal("public, max-age=60", response.Headers.CacheControl!.ToString());
        Assert.Equal(["Accept"], response.Headers.Vary);
    }

    private static async Task<HttpResponseMessage> GetAsync(HttpClient client, string path, string accept)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("Accept", accept);
        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response;
    }
}
