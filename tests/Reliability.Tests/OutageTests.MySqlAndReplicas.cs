using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Reference.Reliability.Tests.Support;
using Reference.Tests.Storefront;
using Reference.Tests.Support;

namespace Reference.Reliability.Tests;

public sealed partial class OutageTests
{
    [Fact]
    public async Task With_mysql_down_cached_reads_answer_writes_get_503_and_everything_recovers_without_restarts()
    {
        var client = storefront.CreateClient();
        var product = await client.CreateProductAsync(category: "Outage");
        // Every replica healthy (Redis reachable again after another test's Redis fault), then read
        // until Redis holds the product and the category page: the point here is what the cache serves.
        await Faults.WaitUntilRunningAndHealthyAsync(storefront.App, storefront.Services("inventoryapi"), Settle);
        await Poll.UntilAsync(async () =>
        {
            await client.GetProductAsync(product.Id);
            using (var page = await client.Http.GetAsync("/api/inventory/products?category=Outage"))
            {
                Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            }

            var cachedProduct = await Faults.RedisCommandAsync(storefront.App, "--scan", "--pattern", $"inventory:v1:product:{product.Id:N}:*");
            var cachedPage = await Faults.RedisCommandAsync(storefront.App, "--scan", "--pattern", "inventory:v1:list:*utage*");
            return cachedProduct.Trim().Length > 0 && cachedPage.Trim().Length > 0;
        }, cached => cached, TimeSpan.FromSeconds(60));

        var services = storefront.Services("inventoryapi").Concat(storefront.Services("uploadapi")).ToList();
        var pids = services.ToDictionary(s => s, s => Faults.TryFindPid(storefront.App, s));

        await Faults.StopAsync(storefront.App, "mysql");
        var startedAt = Stopwatch.StartNew();
        try
        {
            for (var i = 0; i < 10; i++)
            {
                using var read = await client.Http.GetAsync($"/api/inventory/products/{product.Id}");
                Assert.Equal(HttpStatusCode.OK, read.StatusCode);
                // A list page is served from the cache only until any product write elsewhere (an image still
                // attaching from an earlier test) retires the list generation; then it needs MySQL: a clear 503.
                using var page = await client.Http.GetAsync("/api/inventory/products?category=Outage");
                Assert.True(page.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"The page answered {page.StatusCode}.");
            }

            using (var create = await client.SendAdminAsync(HttpMethod.Post, "/api/inventory/products", NewProduct()))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, create.StatusCode);
                Assert.Equal("application/problem+json", create.Content.Headers.ContentType?.MediaType);
            }

            using (var stock = await client.SendAdminAsync(HttpMethod.Post, $"/api/inventory/products/{product.Id}/stock", new { delta = 1 }))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, stock.StatusCode);
            }
        }
        finally
        {
            await Faults.StartAsync(storefront.App, "mysql");
        }

        // Writes come back by themselves: the same processes reconnect.
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        HttpStatusCode last;
        do
        {
            await Task.Delay(500, timeout.Token);
            using var create = await client.SendAdminAsync(HttpMethod.Post, "/api/inventory/products", NewProduct());
            last = create.StatusCode;
            Assert.True(last is HttpStatusCode.Created or HttpStatusCode.ServiceUnavailable, $"a write while MySQL comes back got {last}");
        }
        while (last != HttpStatusCode.Created);

        // Uploads come back too, once the gateway's next check (every 5 s) sees UploadApi healthy again: until then a clear 503.
        Guid? uploadId = null;
        var photo = await File.ReadAllBytesAsync(Corpus.Path("leaf-2560x1600.jpg"), timeout.Token);
        while (uploadId is null)
        {
            using var response = await client.UploadAsync(photo, "leaf-2560x1600.jpg", product.Id);
            Assert.True(response.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.ServiceUnavailable, $"an upload while MySQL comes back got {response.StatusCode}");
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                uploadId = (await response.Content.ReadFromJsonAsync<AcceptedUpload>(StorefrontClient.Json, timeout.Token))!.Id;
            }
            else
            {
                await Task.Delay(500, timeout.Token);
            }
        }

        Assert.Equal("Ready", (await client.WaitUntilFinishedAsync(uploadId.Value, Settle)).Status);
        Assert.Equal(pids, services.ToDictionary(s => s, s => Faults.TryFindPid(storefront.App, s)));
        Log($"mysql-down: reads answered from the cache, writes 503, writes back {startedAt.Elapsed.TotalSeconds:0} s after the stop, no service restarted");
    }

    [Fact]
    public async Task After_a_replica_is_killed_clients_see_no_errors_once_the_health_checks_have_noticed()
    {
        // The gateway checks each replica every 5 s and drops it after 2 failures (2 s timeout each).
        // Until then a request can reach the dead replica; its connection is refused, so the gateway
        // sends it to the other one (any method: nothing was sent). Only a request in flight at the
        // moment of the kill can fail, and only inside the window; after it, all must succeed.
        var window = TimeSpan.FromSeconds(15);
        var client = storefront.CreateClient();
        var product = await client.CreateProductAsync(category: "Replicas");
        var upload = await client.UploadAcceptedAsync(Corpus.Path("leaf-2560x1600.jpg"));

        var killed = new[] { "inventoryapi-1", "uploadapi-2" }.Select(r => (Resource: r, Pid: Faults.Kill(storefront.App, r))).ToList();
        var clock = Stopwatch.StartNew();
        var errors = new List<(TimeSpan At, string What)>();
        var requests = 0;
        while (clock.Elapsed < window + TimeSpan.FromSeconds(15))
        {
            foreach (var (name, send) in new (string, Func<Task<HttpResponseMessage>>)[]
                     {
                         ("GET product", () => client.Http.GetAsync($"/api/inventory/products/{product.Id}")),
                         ("GET upload", () => client.GetAsAdminAsync($"/api/uploads/{upload.Id}")),
                         ("POST product", () => client.SendAdminAsync(HttpMethod.Post, "/api/inventory/products", NewProduct())),
                     })
            {
                requests++;
                var sentAt = clock.Elapsed; // a request sent inside the window may end after it
                try
                {
                    using var response = await send();
                    if ((int)response.StatusCode >= 500)
                    {
                        errors.Add((sentAt, $"{name}: {(int)response.StatusCode} after {(clock.Elapsed - sentAt).TotalSeconds:0.0} s"));
                    }
                }
                catch (HttpRequestException e)
                {
                    errors.Add((sentAt, $"{name}: {e.Message}"));
                }
            }
        }

        var late = errors.Where(e => e.At > window).ToList();
        Log($"replica-killed: {requests} requests in {clock.Elapsed.TotalSeconds:0} s after killing {string.Join(", ", killed.Select(k => k.Resource))}; " +
            $"errors {errors.Count} (sent within the {window.TotalSeconds:0} s window {errors.Count - late.Count}, sent after it {late.Count})");
        foreach (var error in errors.Take(10))
        {
            Log($"replica-killed: sent at {error.At.TotalSeconds:0.0} s, {error.What}");
        }

        Assert.Empty(late);
        await Faults.WaitUntilRunningAndHealthyAsync(storefront.App, killed.Select(k => k.Resource), Settle);
        Assert.All(killed, k => Assert.NotEqual(k.Pid, Faults.TryFindPid(storefront.App, k.Resource)));
    }

    /// <summary>
    /// New settings need a new process. Aspire's restart command can time out on a busy replica,
    /// so each is killed in turn and brought back by the AppHost's supervision, as after a crash.
    /// </summary>
    private async Task RestartByCrashAsync(IEnumerable<string> replicas)
    {
        foreach (var replica in replicas)
        {
            var pid = Faults.Kill(storefront.App, replica);
            using var wait = new CancellationTokenSource(Settle);
            while (!(Faults.IsRunningAndHealthy(storefront.App, replica) && Faults.TryFindPid(storefront.App, replica) is { } now && now != pid))
            {
                await Task.Delay(250, wait.Token);
            }
        }
    }
}
