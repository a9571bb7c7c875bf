using Reference.Tests.Storefront;
using System.Net.Http.Json;
using Microsoft.Playwright;
using Reference.Tests.Support;

namespace Reference.AppHost.Tests;

/// <summary>The shop as a visitor sees it, in a real browser against the running AppHost.</summary>
[Collection(StorefrontCollection.Name)]
public sealed class ShopPageTests(StorefrontFixture storefront) : IAsyncLifetime
{
    private Browser _browser = null!;

    public async Task InitializeAsync() => _browser = await Browser.LaunchAsync();

    public async Task DisposeAsync() => await _browser.DisposeAsync();

    private string GatewayUrl => storefront.CreateGatewayClient().BaseAddress!.ToString().TrimEnd('/');

    private StorefrontClient Api() => storefront.CreateClient();

    [Fact]
    public async Task The_grid_shows_the_seeded_catalogue_with_images_that_load_and_search_narrows_it()
    {
        // The demo catalogue has no photos of its own: give two seeded products one each.
        var api = Api();
        var page1 = await api.Http.GetFromJsonAsync<ProductPage>("/api/inventory/products?page=1&pageSize=24", StorefrontClient.Json);
        Assert.True(page1!.Total >= 20, $"the demo catalogue should be seeded, found {page1.Total} products");
        var pictured = page1.Items.Take(2).ToList();
        var uploads = new List<Guid>();
        foreach (var (product, photo) in pictured.Zip(["kite-2560x1600.jpg", "cups-2560x1600-exif.jpg"]))
        {
            var accepted = await api.UploadAcceptedAsync(Corpus.Path(photo), product.Id);
            Assert.Equal("Ready", (await api.WaitUntilFinishedAsync(accepted.Id)).Status);
            var listed = await api.WaitUntilProductListsAsync(product.Id, accepted.Id);
            Assert.StartsWith("data:image/webp;base64,", listed.Images.Single().Placeholder, StringComparison.Ordinal);
            await WaitForWebpCopiesAsync(api.Http, listed.Images.Single().Variants);
            uploads.Add(accepted.Id);
        }

        var page = await _browser.NewPageAsync();
        var imageTypes = new System.Collections.Concurrent.ConcurrentBag<string>();
        page.Response += (_, response) =>
        {
            // Only these two photos': other tests' images on the grid may not have their copies yet.
            if (uploads.Any(id => response.Url.Contains($"/images/{id}/", StringComparison.Ordinal)))
            {
                imageTypes.Add(response.Headers.GetValueOrDefault("content-type", ""));
            }
        };
        // The first photo is held back until its placeholder has been seen in its place.
        var held = new TaskCompletionSource();
        await page.RouteAsync($"**/images/{uploads[0]}/**", async route =>
        {
            await held.Task;
            await route.ContinueAsync();
        });
        await page.GotoAsync(GatewayUrl + "/");
        var cards = page.GetByTestId("product-card");
        await Assertions.Expect(cards.First).ToBeVisibleAsync();
        Assert.True(await cards.CountAsync() >= 12, "the first page of the grid shows the seeded products");

        var first = page.Locator($"[data-testid=product-card][data-product-id='{pictured[0].Id}'] img");
        await first.ScrollIntoViewIfNeededAsync();
        await Assertions.Expect(first).ToHaveAttributeAsync("data-placeholder", "shown");
        Assert.StartsWith("url(\"data:image/webp;base64,", await first.EvaluateAsync<string>("img => getComputedStyle(img).backgroundImage"), StringComparison.Ordinal);
        held.SetResult();

        foreach (var product in pictured)
        {
            var image = page.Locator($"[data-testid=product-card][data-product-id='{product.Id}'] img");
            await image.ScrollIntoViewIfNeededAsync();
            await Assertions.Expect(image).ToHaveAttributeAsync("src", new System.Text.RegularExpressions.Regex("^/images/"));
            await Browser.WaitUntilLoadedAsync(page, image);
            Assert.Contains("/images/", await image.GetAttributeAsync("srcset") ?? "");
            // Loaded: the placeholder is gone, so a transparent photo does not show it through.
            await Assertions.Expect(image).ToHaveAttributeAsync("data-placeholder", "replaced");
            Assert.Equal("none", await image.EvaluateAsync<string>("img => getComputedStyle(img).backgroundImage"));
        }

        // Chromium accepts WebP, and both photos' copies existed: every image it was sent is the copy.
        Assert.True(imageTypes.Count >= 2, $"{imageTypes.Count} responses for the two photos");
        Assert.All(imageTypes, type => Assert.Equal("image/webp", type));

        await Browser.ScreenshotAsync(page, "grid");

        var target = page1.Items[5];
        await page.GetByTestId("search-input").FillAsync(target.Sku);
        await Assertions.Expect(cards).ToHaveCountAsync(1);
        await Assertions.Expect(cards.First).ToHaveAttributeAsync("data-product-id", target.Id.ToString());
        await Browser.ScreenshotAsync(page, "search", fullPage: false);
    }

    /// <summary>Each variant's URL answers a WebP browser with the copy once the worker's background pass made it.</summary>
    private static async Task WaitForWebpCopiesAsync(HttpClient http, IReadOnlyList<VariantDto> variants)
    {
        foreach (var variant in variants)
        {
            var type = await Poll.UntilAsync(async () =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Head, variant.Url);
                request.Headers.TryAddWithoutValidation("Accept", "image/webp,*/*");
                using var response = await http.SendAsync(request);
                return response.Content.Headers.ContentType?.MediaType;
            }, type => type == "image/webp", TimeSpan.FromSeconds(60));
            Assert.Equal("image/webp", type);
        }
    }

    private sealed record ProductPage(IReadOnlyList<ProductDto> Items, int Total);
}
