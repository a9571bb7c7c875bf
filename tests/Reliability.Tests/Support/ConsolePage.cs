using Microsoft.Playwright;
using Reference.Tests.Storefront;

namespace Reference.Reliability.Tests.Support;

public static class ConsolePage
{
    /// <summary>The jobs console with the admin key entered, live.</summary>
    public static async Task<IPage> OpenConsoleAsync(this Browser browser, Uri gateway, string adminKey)
    {
        var page = await browser.NewPageAsync(1400, 1000);
        await page.GotoAsync(new Uri(gateway, "/admin/jobs.html").ToString());
        await page.GetByTestId("admin-key-input").FillAsync(adminKey);
        await page.GetByTestId("admin-key-save").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=live-status][data-state=live]")).ToBeVisibleAsync();
        return page;
    }
}
