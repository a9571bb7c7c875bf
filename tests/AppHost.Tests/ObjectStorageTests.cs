using System.Net;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Reference.Tests.Support;
using SixLabors.ImageSharp;
using Xunit.Abstractions;

namespace Reference.AppHost.Tests;

/// <summary>
/// The storefront with <c>Storage:Kind=S3</c>: the AppHost starts its own S3 server (s3rver) and every service
/// keeps images there; the pipeline runs as with the folder, and the folder stays empty.
/// </summary>
public sealed partial class ObjectStorageTests(ObjectStorageStorefront storefront, ITestOutputHelper output) : IClassFixture<ObjectStorageStorefront>
{
    [Fact]
    public async Task An_upload_is_processed_through_the_bucket_served_by_the_gateway_and_deleted_from_the_bucket()
    {
        var client = storefront.CreateClient();
        using var bucket = new HttpClient { BaseAddress = new Uri(storefront.App.GetEndpoint("storage", "http"), "/images/") };
        var product = await client.CreateProductAsync();

        var accepted = await client.UploadAcceptedAsync(Corpus.Path("kite-orient6-gps.jpg"), product.Id);
        var upload = await client.WaitUntilFinishedAsync(accepted.Id);

        Assert.Equal("Ready", upload.Status);
        foreach (var variant in upload.Variants!)
        {
            var key = "variants/" + variant.Url["/images/".Length..];
            Assert.Equal(HttpStatusCode.OK, (await bucket.GetAsync(key)).StatusCode);

            using var served = await client.Http.GetAsync(variant.Url);
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
            Assert.Equal("public, max-age=31536000, immutable", served.Headers.CacheControl!.ToString());
            var bytes = await served.Content.ReadAsByteArrayAsync();
            Assert.Equal(variant.Bytes, bytes.Length);
            var info = Image.Identify(bytes);
            Assert.Equal((variant.Width, variant.Height), (info.Width, info.Height));
        }

        // Nothing went to the folder.
        var folder = Path.Combine(storefront.DataDirectory, "images");
        Assert.Empty(Directory.Exists(folder) ? Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories) : []);

        using var deleted = await client.DeleteAsAdminAsync($"/api/inventory/products/{product.Id}/images/{accepted.Id}");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        foreach (var variant in upload.Variants!)
        {
            var status = await Poll.UntilAsync(async () => (await client.Http.GetAsync(variant.Url)).StatusCode,
                s => s == HttpStatusCode.NotFound, TimeSpan.FromSeconds(20));
            Assert.Equal(HttpStatusCode.NotFound, status);
        }

        var original = await Poll.UntilAsync(async () => (await bucket.GetAsync($"originals/{accepted.Id}.jpg")).StatusCode,
            s => s == HttpStatusCode.NotFound, TimeSpan.FromSeconds(20));
        Assert.Equal(HttpStatusCode.NotFound, original);
    }
}
