using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Reference.Tests.Storefront;

namespace Reference.AppHost.Tests;

/// <summary>Buying something, in a real browser through the gateway, as a shopper does.</summary>
[Collection(StorefrontCollection.Name)]
public sealed class CheckoutPageTests(StorefrontFixture storefront) : IAsyncLifetime
{
    private Browser _browser = null!;

    public async Task InitializeAsync() => _browser = await Browser.LaunchAsync();

    public async Task DisposeAsync() => await _browser.DisposeAsync();

    private string GatewayUrl => storefront.CreateGatewayClient().BaseAddress!.ToString().TrimEnd('/');

    [Fact]
    public async Task A_shopper_adds_two_products_checks_out_and_their_stock_drops_by_exactly_what_was_bought()
    {
        var api = storefront.CreateClient();
        var category = "Shop-" + Guid.NewGuid().ToString("N")[..8];
        var bought = new[] { (Product: await api.CreateProductAsync(category, stock: 7), Quantity: 2), (Product: await api.CreateProductAsync(category, stock: 9), Quantity: 3) };

        var page = await _browser.NewPageAsync();
        await page.GotoAsync($"{GatewayUrl}/?category={category}");
        await Assertions.Expect(page.GetByTestId("product-card")).ToHaveCountAsync(2);
        var inCart = 0;
        foreach (var (product, quantity) in bought)
        {
            await page.Locator($"[data-testid=product-card][data-product-id='{product.Id}'] [data-testid=product-card-link]").ClickAsync();
            await Assertions.Expect(page.GetByTestId("product-name")).ToHaveTextAsync(product.Name);
            await Assertions.Expect(page.GetByTestId("product-stock")).ToHaveAttributeAsync("data-available", product.Stock.Available.ToString());
            await page.GetByTestId("quantity-input").FillAsync(quantity.ToString());
            await page.GetByTestId("add-to-cart").ClickAsync();
            inCart += quantity;
            await Assertions.Expect(page.GetByTestId("cart-count")).ToHaveTextAsync(inCart.ToString());
            await page.GoBackAsync();
        }

        await page.ReloadAsync();
        await Assertions.Expect(page.GetByTestId("cart-count")).ToHaveTextAsync("5");
        await page.GetByTestId("cart-link").ClickAsync();
        await Assertions.Expect(page.GetByTestId("cart-line")).ToHaveCountAsync(2);
        await Assertions.Expect(page.GetByTestId("cart-total")).ToContainTextAsync("62.50");
        await Browser.ScreenshotAsync(page, "cart");

        await page.GetByTestId("checkout-link").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=hold-status][data-state=held]")).ToBeVisibleAsync();
        Assert.Equal(2, (await api.GetProductAsync(bought[0].Product.Id)).Stock.Reserved);
        await page.GetByTestId("checkout-name").FillAsync("Grace Hopper");
        await page.GetByTestId("checkout-email").FillAsync("grace-at-example");
        await page.GetByTestId("place-order").ClickAsync();
        await Assertions.Expect(page.GetByTestId("email-error")).ToContainTextAsync("email address");
        await page.GetByTestId("checkout-email").FillAsync("grace@example.com");
        await Browser.ScreenshotAsync(page, "checkout");
        // A double click: the page sends one order, and the server would make one of two anyway.
        await page.GetByTestId("place-order").DblClickAsync();

        await Assertions.Expect(page.GetByTestId("order-confirmation")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("order-number")).ToHaveTextAsync(new Regex("^R-[0-9A-F]{10}$"));
        await Assertions.Expect(page.GetByTestId("order-line")).ToHaveCountAsync(2);
        await Assertions.Expect(page.GetByTestId("my-order")).ToHaveCountAsync(1);
        await Assertions.Expect(page.GetByTestId("cart-count")).ToHaveTextAsync("0");
        await Browser.ScreenshotAsync(page, "order-confirmed");

        foreach (var (product, quantity) in bought)
        {
            await page.GotoAsync($"{GatewayUrl}/product.html?id={product.Id}");
            await Assertions.Expect(page.GetByTestId("product-stock"))
                .ToHaveAttributeAsync("data-available", (product.Stock.Available - quantity).ToString());
            Assert.Equal(new StockDto(product.Stock.OnHand - quantity, 0, product.Stock.Available - quantity),
                (await api.GetProductAsync(product.Id)).Stock);
        }
    }
}
