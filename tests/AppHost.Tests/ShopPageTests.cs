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

    private StorefrontClient Api() => new(storefront.CreateGatewayClient(), StorefrontFixture.AdminKey);

    [Fact]
    public async Task The_grid_shows_the_seeded_catalogue_with_images_that_load_and_search_narrows_it()
    {
        // The demo catalogue has no photos of its own: give two seeded products one each.
        var api = Api();
        var page1 = await api.Http.GetFromJsonAsync<ProductPage>("/api/inventory/products?page=1&pageSize=24", StorefrontClient.Json);
        Assert.True(page1!.Total >= 20, $"the demo catalogue should be seeded, found {page1.Total} products");
        var pictured = page1.Items.Take(2).ToList();
        foreach (var (product, photo) in pictured.Zip(["kite-2560x1600.jpg", "cups-2560x1600-exif.jpg"]))
        {
            var accepted = await api.UploadAcceptedAsync(Corpus.Path(photo), product.Id);
            Assert.Equal("Ready", (await api.WaitUntilFinishedAsync(accepted.Id)).Status);
            await api.WaitUntilProductListsAsync(product.Id, accepted.Id);
        }

        var page = await _browser.NewPageAsync();
        await page.GotoAsync(GatewayUrl + "/");
        var cards = page.GetByTestId("product-card");
        await Assertions.Expect(cards.First).ToBeVisibleAsync();
        Assert.True(await cards.CountAsync() >= 12, "the first page of the grid shows the seeded products");

        foreach (var product in pictured)
        {
            var image = page.Locator($"[data-testid=product-card][data-product-id='{product.Id}'] img");
            await image.ScrollIntoViewIfNeededAsync();
            await Assertions.Expect(image).ToHaveAttributeAsync("src", new System.Text.RegularExpressions.Regex("^/images/"));
            await Browser.WaitUntilLoadedAsync(page, image);
            Assert.Contains("/images/", await image.GetAttributeAsync("srcset") ?? "");
        }

        await Browser.ScreenshotAsync(page, "grid");

        var target = page1.Items[5];
        await page.GetByTestId("search-input").FillAsync(target.Sku);
        await Assertions.Expect(cards).ToHaveCountAsync(1);
        await Assertions.Expect(cards.First).ToHaveAttributeAsync("data-product-id", target.Id.ToString());
        await Browser.ScreenshotAsync(page, "search", fullPage: false);
    }

    private sealed record ProductPage(IReadOnlyList<ProductDto> Items, int Total);
}
