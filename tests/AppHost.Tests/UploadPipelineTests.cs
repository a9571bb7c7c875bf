using Reference.Tests.Storefront;
using System.Net;
using System.Net.Http.Json;
using Reference.Tests.Support;
using SixLabors.ImageSharp;

namespace Reference.AppHost.Tests;

/// <summary>The image pipeline end to end, through the gateway, on the running storefront.</summary>
[Collection(StorefrontCollection.Name)]
public sealed class UploadPipelineTests(StorefrontFixture storefront)
{
    private StorefrontClient Client() => storefront.CreateClient();

    [Fact]
    public async Task An_upload_for_a_product_becomes_ready_its_variants_are_served_and_the_product_lists_it()
    {
        var client = Client();
        var product = await client.CreateProductAsync();

        var accepted = await client.UploadAcceptedAsync(Corpus.Path("kite-orient6-gps.jpg"), product.Id);
        var upload = await client.WaitUntilFinishedAsync(accepted.Id);

        Assert.Equal("Ready", upload.Status);
        Assert.Equal(["card", "detail", "thumb"], upload.Variants!.Select(v => v.Name).Distinct().Order());
        foreach (var variant in upload.Variants!)
        {
            Assert.StartsWith("/images/", variant.Url);
            var file = Path.Combine(storefront.ImageStorage, "variants", variant.Url["/images/".Length..]);
            Assert.True(File.Exists(file), $"{file} is missing");

            using var served = await client.Http.GetAsync(variant.Url);
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
            var bytes = await served.Content.ReadAsByteArrayAsync();
            Assert.Equal(variant.Bytes, bytes.Length);
            var info = Image.Identify(bytes);
            Assert.Equal((variant.Width, variant.Height), (info.Width, info.Height));
            Assert.True(info.Width > info.Height, "the EXIF orientation 6 photo must come out landscape");
        }

        var listed = (await client.WaitUntilProductListsAsync(product.Id, accepted.Id)).Images;
        Assert.Equal(accepted.Id, Assert.Single(listed).UploadId);
        Assert.Equal(upload.Variants!.Select(v => v.Url).Order(), listed[0].Variants.Select(v => v.Url).Order());
    }

    [Fact]
    public async Task A_deleted_image_leaves_the_product_page_and_the_listing_and_its_urls_answer_404_from_the_gateway()
    {
        var client = Client();
        var product = await client.CreateProductAsync(category: "Takedown");
        var accepted = await client.UploadAcceptedAsync(Corpus.Path("kite-orient6-gps.jpg"), product.Id);
        var upload = await client.WaitUntilFinishedAsync(accepted.Id);
        Assert.Equal("Ready", upload.Status);
        await client.WaitUntilProductListsAsync(product.Id, accepted.Id);
        // Cached on both read paths first, so the delete has something to invalidate.
        Assert.Contains(await ListedUploadsAsync(client, "Takedown", product.Id), u => u == accepted.Id);

        using var deleted = await client.DeleteAsAdminAsync($"/api/inventory/products/{product.Id}/images/{accepted.Id}");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);

        Assert.Empty((await client.GetProductAsync(product.Id)).Images);
        Assert.DoesNotContain(await ListedUploadsAsync(client, "Takedown", product.Id), u => u == accepted.Id);
        foreach (var variant in upload.Variants!)
        {
            var status = await Poll.UntilAsync(async () => (await client.Http.GetAsync(variant.Url)).StatusCode,
                s => s == HttpStatusCode.NotFound, TimeSpan.FromSeconds(20));
            Console.WriteLine($"GET {variant.Url} after the delete: {(int)status}");
            Assert.Equal(HttpStatusCode.NotFound, status);
        }

        Assert.Empty(Directory.GetFiles(Path.Combine(storefront.ImageStorage, "originals"), $"{accepted.Id}*"));
        Assert.Equal("Deleted", (await client.GetUploadAsync(accepted.Id)).Status);
    }

    [Fact]
    public async Task A_replaced_image_gets_new_urls_and_the_old_ones_answer_404()
    {
        var client = Client();
        var product = await client.CreateProductAsync();
        var first = await client.UploadAcceptedAsync(Corpus.Path("kite-orient6-gps.jpg"), product.Id);
        var firstUrls = (await client.WaitUntilFinishedAsync(first.Id)).Variants!.Select(v => v.Url).ToList();
        await client.WaitUntilProductListsAsync(product.Id, first.Id);

        // Replacing is uploading the new image, then deleting the old one.
        var second = await client.UploadAcceptedAsync(Corpus.Path("kite-orient6-gps.jpg"), product.Id);
        Assert.Equal("Ready", (await client.WaitUntilFinishedAsync(second.Id)).Status);
        await client.WaitUntilProductListsAsync(product.Id, second.Id);
        using var deleted = await client.DeleteAsAdminAsync($"/api/inventory/products/{product.Id}/images/{first.Id}");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);

        var image = Assert.Single((await client.GetProductAsync(product.Id)).Images);
        Assert.Equal(second.Id, image.UploadId);
        var newUrls = image.Variants.Select(v => v.Url).ToList();
        Assert.Empty(newUrls.Intersect(firstUrls));
        foreach (var url in newUrls)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.Http.GetAsync(url)).StatusCode);
        }

        foreach (var url in firstUrls)
        {
            Assert.Equal(HttpStatusCode.NotFound, await Poll.UntilAsync(async () => (await client.Http.GetAsync(url)).StatusCode,
                s => s == HttpStatusCode.NotFound, TimeSpan.FromSeconds(20)));
        }
    }

    private static async Task<List<Guid>> ListedUploadsAsync(StorefrontClient client, string category, Guid productId)
    {
        var page = await client.Http.GetFromJsonAsync<System.Text.Json.JsonElement>($"/api/inventory/products?category={category}&pageSize=100");
        return page.GetProperty("items").EnumerateArray()
            .Where(p => p.GetProperty("id").GetGuid() == productId)
            .SelectMany(p => p.GetProperty("images").EnumerateArray().Select(i => i.GetProperty("uploadId").GetGuid()))
            .ToList();
    }

    [Fact]
    public async Task Originals_are_never_served()
    {
        var client = Client();
        var accepted = await client.UploadAcceptedAsync(Corpus.Path("leaf-2560x1600.jpg"));
        await client.WaitUntilFinishedAsync(accepted.Id);
        var originals = Directory.GetFiles(Path.Combine(storefront.ImageStorage, "originals"), $"{accepted.Id}*");
        Assert.NotEmpty(originals);

        foreach (var name in originals.Select(Path.GetFileName))
        {
            // Raw bytes on the socket: HttpClient would resolve the dot segments before sending.
            foreach (var target in new[]
            {
                $"/images/../originals/{name}", $"/images/{accepted.Id}/../../originals/{name}",
                $"/images/..\\originals\\{name}", $"/images/%2e%2e/originals/{name}", $"/images/originals/{name}",
            })
            {
                var status = await RawGetStatusAsync(client.Http.BaseAddress!, target);
                Assert.True(status is 400 or 404, $"GET {target} answered {status}.");
            }
        }
    }

    private static async Task<int> RawGetStatusAsync(Uri gateway, string target)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(gateway.Host, gateway.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(System.Text.Encoding.Latin1.GetBytes($"GET {target} HTTP/1.1\r\nHost: {gateway.Authority}\r\nConnection: close\r\n\r\n"));
        using var reader = new StreamReader(stream, System.Text.Encoding.Latin1);
        var statusLine = await reader.ReadLineAsync() ?? "";
        return int.Parse(statusLine.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
    }

    public static TheoryData<string, byte[], HttpStatusCode> BadFiles() => new()
    {
        { "empty.jpg", [], HttpStatusCode.BadRequest },
        { "text.jpg", "just some text, not a photo"u8.ToArray(), HttpStatusCode.UnsupportedMediaType },
        { "page.jpg", "<!DOCTYPE html><html><body>hi</body></html>"u8.ToArray(), HttpStatusCode.UnsupportedMediaType },
        { "image.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"/>"u8.ToArray(), HttpStatusCode.UnsupportedMediaType },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public async Task Bad_files_get_a_clear_4xx_and_a_good_upload_right_after_still_succeeds(string name, byte[] content, HttpStatusCode expected)
    {
        var client = Client();
        using var bad = await client.UploadAsync(content, name);
        Assert.Equal(expected, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);

        var good = await client.UploadAcceptedAsync(Corpus.Path("flow-720x1440-portrait.jpg"));
        Assert.Equal("Ready", (await client.WaitUntilFinishedAsync(good.Id)).Status);
    }

    [Theory]
    [InlineData(null, HttpStatusCode.Unauthorized)]
    [InlineData("wrong-key", HttpStatusCode.Forbidden)]
    public async Task Uploads_need_the_admin_key(string? key, HttpStatusCode expected)
    {
        using var http = storefront.CreateGatewayClient();
        var client = new StorefrontClient(http, key ?? "");
        using var response = await client.UploadAsync(await File.ReadAllBytesAsync(Corpus.Path("leaf-2560x1600.jpg")), "leaf.jpg");
        Assert.Equal(expected, response.StatusCode);
    }
}
