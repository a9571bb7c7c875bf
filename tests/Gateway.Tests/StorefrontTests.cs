using System.Net;
using System.Text.RegularExpressions;
using Reference.Gateway.Tests.Support;

namespace Reference.Gateway.Tests;

public sealed partial class StorefrontTests(BackendFixture backends) : IClassFixture<BackendFixture>, IDisposable
{
    private readonly GatewayHost _gateway = new([backends.Inventory], [backends.Uploads]);

    public void Dispose() => _gateway.Dispose();

    [Theory]
    [InlineData("/", "data-testid=\"product-grid\"")]
    [InlineData("/product.html", "data-testid=\"product-detail\"")]
    [InlineData("/cart.html", "data-testid=\"cart-lines\"")]
    [InlineData("/checkout.html", "data-testid=\"place-order\"")]
    [InlineData("/orders.html", "data-testid=\"my-orders\"")]
    [InlineData("/admin.html", "data-testid=\"file-input\"")]
    public async Task Pages_are_served_revalidated_and_compressed(string path, string marker)
    {
        using var client = _gateway.CreateRealClient(decompress: true);
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Accept-Encoding", "gzip");

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains(marker, await response.Content.ReadAsStringAsync());
        Assert.Equal("no-cache", response.Headers.CacheControl!.ToString());
        Assert.NotNull(response.Headers.ETag);
    }

    [Fact]
    public async Task Pages_need_nothing_that_the_content_security_policy_blocks()
    {
        // CSP allows only same-origin files: no inline script or style, no other origin.
        using var client = _gateway.CreateRealClient();
        foreach (var path in new[] { "/", "/product.html", "/cart.html", "/checkout.html", "/orders.html", "/admin.html" })
        {
            var html = await client.GetStringAsync(path);

            Assert.DoesNotMatch(InlineScript(), html);
            Assert.DoesNotContain(" style=", html);
            Assert.DoesNotContain("<style", html);
            Assert.DoesNotMatch(OtherOrigin(), html);
            foreach (Match asset in LocalAsset().Matches(html))
            {
                using var response = await client.GetAsync(asset.Groups[1].Value);
                Assert.True(response.IsSuccessStatusCode, $"{path} references missing {asset.Groups[1].Value}");
            }
        }
    }

    [GeneratedRegex("<script(?![^>]*\\bsrc=)[^>]*>")]
    private static partial Regex InlineScript();

    [GeneratedRegex("(src|href)=\"(https?:)?//")]
    private static partial Regex OtherOrigin();

    [GeneratedRegex("(?:src|href)=\"(/(?:css|js|img)/[^\"]+)\"")]
    private static partial Regex LocalAsset();
}
