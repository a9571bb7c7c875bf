using System.Diagnostics;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Playwright;
using Reference.Bench.Report;
using Reference.Tests.Storefront;

namespace Reference.Bench.Pages;

/// <summary>
/// Page weight as a shopper's Chromium downloads it: the grid (scrolled to its end, so every lazy image loads) and
/// one product page, each in a fresh browser context (empty cache), once accepting WebP (Chromium's own Accept) and
/// once with <c>image/webp</c> taken out of its image requests' Accept. The first grid page's products get a corpus
/// photo each; the WebP copies are waited for before measuring.
/// </summary>
public static partial class PagesBench
{
    public const string AdminKey = "bench-admin-key-0123456789abcdef";
    private const string JpegOnlyAccept = "image/avif,image/apng,image/svg+xml,image/*,*/*;q=0.8";

    public sealed record PageWeight(string Page, int Images, long WebpBytes, long JpegBytes, double Saving);

    /// <param name="CopiesAfterReadyP50Ms">From Ready until all three WebP copies were served, median over the uploads.</param>
    public sealed record Result(string Engine, int Uploads, double ReadyP50Ms, double CopiesAfterReadyP50Ms, IReadOnlyList<PageWeight> Pages,
        IReadOnlyList<WebpCost.EngineCost> Cost, double LoadBefore, double LoadAfter);

    public static async Task<Result> RunAsync(string engine, IReadOnlyList<string> images, int runs, Action<string> log)
    {
        var loadBefore = Machine.LoadAverage();
        var cost = WebpCost.Measure(images, runs, log);
        var data = Directory.CreateTempSubdirectory("bench-pages-").FullName;
        log($"pages: starting the AppHost (engine {engine})");
        var app = await StorefrontHost.StartAsync(data, AdminKey, builder => Configure(builder, engine));
        try
        {
            var names = app.Services.GetRequiredService<DistributedApplicationModel>().Resources
                .Where(r => r is ProjectResource or IResourceWithConnectionString)
                .Select(r => r.Name).Where(n => !StorefrontHost.IsOneShot(n) && !n.EndsWith("-rebuilder", StringComparison.Ordinal)).ToList();
            await StorefrontHost.WaitUntilHealthyAsync(app, names, TimeSpan.FromMinutes(5));
            var gateway = app.GetEndpoint("gateway", "http");
            using var http = new HttpClient { BaseAddress = gateway, Timeout = TimeSpan.FromSeconds(60) };
            var client = new StorefrontClient(http, AdminKey);

            var grid = await http.GetFromJsonAsync<GridPage>("/api/inventory/products?page=1&pageSize=24", StorefrontClient.Json);
            var products = grid!.Items;
            var ready = new List<double>();
            var copies = new List<double>();
            for (var i = 0; i < products.Count; i++)
            {
                var photo = images[i % images.Count];
                var started = Stopwatch.GetTimestamp();
                var accepted = await client.UploadAcceptedAsync(photo, products[i].Id);
                var upload = await client.WaitUntilFinishedAsync(accepted.Id);
                ready.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                var readyAt = Stopwatch.GetTimestamp();
                await WaitForWebpCopiesAsync(http, upload.Variants ?? []);
                copies.Add(Stopwatch.GetElapsedTime(readyAt).TotalMilliseconds);
                await client.WaitUntilProductListsAsync(products[i].Id, accepted.Id);
            }

            log($"pages: {products.Count} uploads, Ready p50 {Stats.Percentile(ready, 50):0} ms, WebP copies p50 {Stats.Percentile(copies, 50):0} ms after Ready");
            var baseUrl = gateway.ToString().TrimEnd('/');
            await using var browser = await Browser.LaunchAsync();
            var pages = new List<PageWeight>
            {
                await WeighAsync(browser, "grid", baseUrl + "/", scroll: true, log),
                await WeighAsync(browser, "product page", $"{baseUrl}/product.html?id={products[0].Id}", scroll: false, log),
            };
            return new Result(engine, products.Count, Math.Round(Stats.Percentile(ready, 50)), Math.Round(Stats.Percentile(copies, 50)), pages, cost,
                loadBefore, Machine.LoadAverage());
        }
        finally
        {
            await app.DisposeAsync();
            Directory.Delete(data, recursive: true);
        }
    }

    private static async Task<PageWeight> WeighAsync(Browser browser, string name, string url, bool scroll, Action<string> log)
    {
        var (webpImages, webp) = await ImageBytesAsync(browser, url, scroll, acceptWebp: true);
        var (jpegImages, jpeg) = await ImageBytesAsync(browser, url, scroll, acceptWebp: false);
        var weight = new PageWeight(name, Math.Max(webpImages, jpegImages), webp, jpeg, Math.Round(1 - (double)webp / jpeg, 3));
        log($"pages: {name}: {webpImages} images {webp:N0} bytes with WebP, {jpegImages} images {jpeg:N0} bytes JPEG only ({-weight.Saving:P0})");
        return weight;
    }

    /// <summary>The body bytes of every /images/ response the page loads, in a new context (no cache).</summary>
    private static async Task<(int Count, long Bytes)> ImageBytesAsync(Browser browser, string url, bool scroll, bool acceptWebp)
    {
        var page = await browser.NewPageAsync();
        try
        {
            if (!acceptWebp)
            {
                await page.RouteAsync("**/images/**", route => route.ContinueAsync(new RouteContinueOptions
                {
                    Headers = new Dictionary<string, string>(route.Request.Headers) { ["accept"] = JpegOnlyAccept },
                }));
            }

            var bodies = new List<Task<byte[]>>();
            page.Response += (_, response) =>
            {
                if (response.Url.Contains("/images/", StringComparison.Ordinal) && response.Status == 200)
                {
                    lock (bodies)
                    {
                        bodies.Add(response.BodyAsync());
                    }
                }
            };
            await page.GotoAsync(url, new PageGotoOptions { WaitUntil = WaitUntilState.NetworkIdle });
            if (scroll)
            {
                // Lazy images load as they come into view: scroll the whole grid past, a screen at a time.
                for (var i = 0; i < 40 && await page.EvaluateAsync<bool>("() => window.scrollY + window.innerHeight < document.body.scrollHeight"); i++)
                {
                    await page.Mouse.WheelAsync(0, 800);
                    await page.WaitForTimeoutAsync(150);
                }

                await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
            }

            Task<byte[]>[] all;
            lock (bodies)
            {
                all = [.. bodies];
            }

            var loaded = await Task.WhenAll(all);
            return (loaded.Length, loaded.Sum(b => (long)b.Length));
        }
        finally
        {
            await page.Context.CloseAsync();
        }
    }

    /// <summary>Polls each variant's URL as a WebP browser until it answers with the copy.</summary>
    private static async Task WaitForWebpCopiesAsync(HttpClient http, IReadOnlyList<VariantDto> variants)
    {
        var deadline = Stopwatch.StartNew();
        foreach (var variant in variants)
        {
            while (true)
            {
                using var request = new HttpRequestMessage(HttpMethod.Head, variant.Url);
                request.Headers.TryAddWithoutValidation("Accept", "image/webp,*/*");
                using var response = await http.SendAsync(request);
                if (response.Content.Headers.ContentType?.MediaType == "image/webp")
                {
                    break;
                }

                if (deadline.Elapsed > TimeSpan.FromMinutes(2))
                {
                    throw new TimeoutException($"No WebP copy of {variant.Url} within 2 minutes.");
                }

                await Task.Delay(20);
            }
        }
    }

    private static void Configure(IDistributedApplicationTestingBuilder builder, string engine)
    {
        builder.Services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Error)
            .AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None)
            .AddFilter("Aspire.Hosting", LogLevel.Critical));
        foreach (var worker in builder.Resources.OfType<ProjectResource>().Where(r => r.Name.StartsWith("imageworker", StringComparison.Ordinal)))
        {
            builder.CreateResourceBuilder(worker).WithEnvironment("Images__Engine", engine);
        }
    }

    private sealed record GridPage(IReadOnlyList<ProductDto> Items);
}
