using Microsoft.Playwright;
using Reference.Tests.Support;

namespace Reference.Reliability.Tests.Support;

/// <summary>Debian's Chromium driven by Playwright (no browser download), as in AppHost.Tests; screenshots go to artifacts/screenshots.</summary>
public sealed class ConsoleBrowser : IAsyncDisposable
{
    private static readonly string Screenshots = Path.Combine(RepoPaths.Root, "artifacts", "screenshots");
    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;

    private ConsoleBrowser(IPlaywright playwright, IBrowser browser) => (_playwright, _browser) = (playwright, browser);

    public static async Task<ConsoleBrowser> LaunchAsync()
    {
        Directory.CreateDirectory(Screenshots);
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"],
        });
        return new ConsoleBrowser(playwright, browser);
    }

    /// <summary>The jobs console with the admin key entered, live.</summary>
    public async Task<IPage> OpenConsoleAsync(Uri gateway, string adminKey)
    {
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 1000 } });
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(gateway, "/admin/jobs.html").ToString());
        await page.GetByTestId("admin-key-input").FillAsync(adminKey);
        await page.GetByTestId("admin-key-save").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=live-status][data-state=live]")).ToBeVisibleAsync();
        return page;
    }

    public static Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, name + ".png"), FullPage = true });

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }
}
