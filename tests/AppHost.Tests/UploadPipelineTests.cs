using Reference.Tests.Storefront;
using System.Net;
using Reference.Tests.Support;
using SixLabors.ImageSharp;

namespace Reference.AppHost.Tests;

/// <summary>The image pipeline end to end, through the gateway, on the running storefront.</summary>
[Collection(StorefrontCollection.Name)]
public sealed class UploadPipelineTests(StorefrontFixture storefront)
{
    private StorefrontClient Client() => new(storefront.CreateGatewayClient(), StorefrontFixture.AdminKey);

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
