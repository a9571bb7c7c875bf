using Microsoft.Playwright;
using Reference.Tests.Storefront;
using Reference.Tests.Support;

namespace Reference.AppHost.Tests;

/// <summary>
/// The demo admin page in a real browser. Its own file: a shop made with
/// <c>dotnet new reference-shop --admin-page false</c> leaves it out with the page.
/// </summary>
[Collection(StorefrontCollection.Name)]
public sealed class AdminPageTests(StorefrontFixture storefront) : IAsyncLifetime
{
    private Browser _browser = null!;

    public async Task InitializeAsync() => _browser = await Browser.LaunchAsync();

    public async Task DisposeAsync() => await _browser.DisposeAsync();

    private string GatewayUrl => storefront.CreateGatewayClient().BaseAddress!.ToString().TrimEnd('/');

    [Fact]
    public async Task On_the_admin_page_an_uploaded_photo_shows_progress_then_appears_on_the_product()
    {
        var page = await _browser.NewPageAsync();
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
        await Browser.WaitUntilLoadedAsync(page, thumbnail);
        await Browser.ScreenshotAsync(page, "admin-ready");

        await page.GotoAsync($"{GatewayUrl}/product.html?id={productId}");
        var image = page.GetByTestId("product-image").First;
        await Assertions.Expect(image).ToBeVisibleAsync();
        var img = image.Locator("xpath=descendant-or-self::img").First;
        await Browser.WaitUntilLoadedAsync(page, img);
        await Assertions.Expect(page.GetByTestId("product-name")).ToHaveTextAsync("Browser test lamp");
        await Browser.ScreenshotAsync(page, "product");
    }
}
