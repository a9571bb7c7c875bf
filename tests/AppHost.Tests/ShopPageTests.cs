using Reference.Tests.Storefront;
using System.Net.Http.Json;
using Microsoft.Playwright;
using Reference.Tests.Support;

namespace Reference.AppHost.Tests;

/// <summary>
/// The storefront as a person uses it: Debian's Chromium driven by Playwright against the
/// running AppHost. Screenshots go to artifacts/screenshots.
/// </summary>
[Collection(StorefrontCollection.Name)]
public sealed class BrowserTests(StorefrontFixture storefront) : IAsyncLifetime
{
    private static readonly string Screenshots = Path.Combine(RepoPaths.Root, "artifacts", "screenshots");
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Screenshots);
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            // No sandbox as root; no background traffic to hosts this machine cannot reach.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"],
        });
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }

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
        }

        var page = await NewPageAsync();
        await page.GotoAsync(GatewayUrl + "/");
        var cards = page.GetByTestId("product-card");
        await Assertions.Expect(cards.First).ToBeVisibleAsync();
        Assert.True(await cards.CountAsync() >= 12, "the first page of the grid shows the seeded products");

        foreach (var product in pictured)
        {
            var image = page.Locator($"[data-testid=product-card][data-product-id='{product.Id}'] img");
            await image.ScrollIntoViewIfNeededAsync();
            await Assertions.Expect(image).ToHaveAttributeAsync("src", new System.Text.RegularExpressions.Regex("^/images/"));
            await page.WaitForFunctionAsync("img => img.complete && img.naturalWidth > 0", await image.ElementHandleAsync());
            Assert.Contains("/images/", await image.GetAttributeAsync("srcset") ?? "");
        }

        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, "grid.png"), FullPage = true });

        var target = page1.Items[5];
        await page.GetByTestId("search-input").FillAsync(target.Sku);
        await Assertions.Expect(cards).ToHaveCountAsync(1);
        await Assertions.Expect(cards.First).ToHaveAttributeAsync("data-product-id", target.Id.ToString());
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, "search.png") });
    }

    [Fact]
    public async Task On_the_admin_page_an_uploaded_photo_shows_progress_then_appears_on_the_product()
    {
        var page = await NewPageAsync();
        await page.GotoAsync(GatewayUrl + "/admin.html");
        await page.GetByTestId("admin-key-input").FillAsync(StorefrontFixture.AdminKey);
        await page.GetByTestId("admin-key-save").ClickAsync();

        var sku = "UI-" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        await page.GetByTestId("create-sku").FillAsync(sku);
        await page.GetByTestId("create-name").FillAsync("Browser test lamp");
        await page.GetByTestId("create-description").FillAsync("Created by the browser test.");
        await page.GetByTestId("create-category").FillAsync("Lighting");
        await page.GetByTestId("create-price").FillAsync("49.90");
        await page.GetByTestId("create-currency").FillAsync("EUR");
        await page.GetByTestId("create-stock").FillAsync("7");
        await page.GetByTestId("create-submit").ClickAsync();
        var created = page.Locator("[data-testid=create-status][data-state=created]");
        await Assertions.Expect(created).ToBeVisibleAsync();
        var productId = await created.GetAttributeAsync("data-product-id");

        // A large photo so the progress bar has something to show.
        await page.GetByTestId("file-input").SetInputFilesAsync(Corpus.Path("landing-5120x2880.jpg"));
        await page.GetByTestId("upload-submit").ClickAsync();
        var progress = page.GetByTestId("upload-progress");
        await Assertions.Expect(progress).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-testid=upload-status][data-state=Ready]"))
            .ToBeVisibleAsync(new LocatorAssertionsToBeVisibleOptions { Timeout = 60_000 });
        Assert.Equal(100, await progress.EvaluateAsync<double>("p => p.value"));
        var thumbnail = page.GetByTestId("upload-thumbnail").First;
        await page.WaitForFunctionAsync("img => img.complete && img.naturalWidth > 0", await thumbnail.ElementHandleAsync());
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, "admin-ready.png"), FullPage = true });

        await page.GotoAsync($"{GatewayUrl}/product.html?id={productId}");
        var image = page.GetByTestId("product-image").First;
        await Assertions.Expect(image).ToBeVisibleAsync();
        var img = image.Locator("xpath=descendant-or-self::img").First;
        await page.WaitForFunctionAsync("img => img.complete && img.naturalWidth > 0", await img.ElementHandleAsync());
        await Assertions.Expect(page.GetByTestId("product-name")).ToHaveTextAsync("Browser test lamp");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, "product.png"), FullPage = true });
    }

    private async Task<IPage> NewPageAsync()
    {
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        return await context.NewPageAsync();
    }

    private sealed record ProductPage(IReadOnlyList<ProductDto> Items, int Total);
}
