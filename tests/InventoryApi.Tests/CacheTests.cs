using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Reference.InventoryApi.Apis;
using Reference.Tests.Support;

namespace Reference.InventoryApi.Tests;

[Collection(InventoryCollection.Name)]
public sealed class CacheTests(InventoryFixture fixture)
{
    [Fact]
    public async Task A_write_through_one_replica_is_read_through_the_other_immediately()
    {
        var product = await fixture.ReplicaA.CreateProductAsync(stock: 5);
        var category = product.Category;
        using var a = fixture.ReplicaA.Admin();
        using var b = fixture.ReplicaB.Anonymous();
        await b.GetAsync($"/api/inventory/products/{product.Id}");
        await b.GetAsync($"/api/inventory/products?category={category}");

        (await a.PostAsJsonAsync($"/api/inventory/products/{product.Id}/stock", new { delta = 7 })).EnsureSuccessStatusCode();
        var afterStock = await fixture.ReplicaB.GetProductAsync(product.Id);

        var rename = new HttpRequestMessage(HttpMethod.Put, $"/api/inventory/products/{product.Id}")
        {
            Content = JsonContent.Create(new { sku = product.Sku, name = "Renamed on A", description = "", category, price = 1m, currency = "EUR" }),
        };
        rename.Headers.IfMatch.Add(new($"\"{afterStock.Version}\""));
        (await a.SendAsync(rename)).EnsureSuccessStatusCode();
        var afterRename = await fixture.ReplicaB.GetProductAsync(product.Id);
        var list = await b.GetFromJsonAsync<ProductPage>($"/api/inventory/products?category={category}", InventoryApp.Json);

        Assert.Equal(12, afterStock.Stock.OnHand);
        Assert.Equal("Renamed on A", afterRename.Name);
        Assert.Equal("Renamed on A", Assert.Single(list!.Items).Name);
    }

    [Fact]
    public async Task With_redis_down_reads_come_from_mysql_health_is_degraded_and_both_recover()
    {
        var product = await fixture.ReplicaA.CreateProductAsync(stock: 5);
        await fixture.ReplicaB.GetProductAsync(product.Id); // in Redis before the outage
        using var a = fixture.ReplicaA.Admin();
        using var b = fixture.ReplicaB.Anonymous();

        await fixture.Servers.StopAsync(BackingServer.Redis);
        try
        {
            var health = await b.GetAsync("/health");
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            Assert.Equal("Degraded", await health.Content.ReadAsStringAsync());
            Assert.Equal(5, (await fixture.ReplicaB.GetProductAsync(product.Id)).Stock.OnHand);
            Assert.Equal(HttpStatusCode.OK, (await b.GetAsync("/api/inventory/products?pageSize=5")).StatusCode);

            // A write during the outage: its invalidation cannot reach Redis yet.
            (await a.PostAsJsonAsync($"/api/inventory/products/{product.Id}/stock", new { delta = 1 })).EnsureSuccessStatusCode();
            Assert.Equal(6, (await fixture.ReplicaB.GetProductAsync(product.Id)).Stock.OnHand);
        }
        finally
        {
            await fixture.Servers.StartAsync(BackingServer.Redis);
        }

        await Eventually.ValueAsync(() => HealthAsync(b), body => body == "Healthy");
        // Redis kept the old entry across its restart; the deferred invalidation must retire it.
        await Eventually.ValueAsync(() => fixture.ReplicaB.GetProductAsync(product.Id), p => p.Stock.OnHand == 6, timeoutSeconds: 10);
    }

    [Fact]
    public async Task With_mysql_down_cached_reads_answer_writes_are_503_and_both_recover()
    {
        var product = await fixture.ReplicaA.CreateProductAsync(stock: 5);
        using var a = fixture.ReplicaA.Admin();
        using var b = fixture.ReplicaB.Anonymous();
        (await a.GetAsync($"/api/inventory/products/{product.Id}")).EnsureSuccessStatusCode();
        (await a.GetAsync($"/api/inventory/products/by-sku/{product.Sku}")).EnsureSuccessStatusCode();
        (await a.GetAsync($"/api/inventory/products?category={product.Category}")).EnsureSuccessStatusCode();

        await fixture.Servers.StopAsync(BackingServer.MySql);
        try
        {
            var read = await b.GetAsync($"/api/inventory/products/{product.Id}");
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
            Assert.Equal(product.Id, (await read.Content.ReadFromJsonAsync<ProductResponse>(InventoryApp.Json))!.Id);
            Assert.Equal(HttpStatusCode.OK, (await b.GetAsync($"/api/inventory/products/by-sku/{product.Sku}")).StatusCode);
            var list = await b.GetFromJsonAsync<ProductPage>($"/api/inventory/products?category={product.Category}", InventoryApp.Json);
            Assert.Equal(product.Id, Assert.Single(list!.Items).Id);

            var write = await a.PostAsJsonAsync($"/api/inventory/products/{product.Id}/stock", new { delta = 1 });
            Assert.Equal(HttpStatusCode.ServiceUnavailable, write.StatusCode);
            Assert.Equal("application/problem+json", write.Content.Headers.ContentType?.MediaType);
            // Degraded, not unhealthy: the gateway keeps routing cached reads to this replica.
            var health = await b.GetAsync("/health");
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            Assert.Equal("Degraded", await health.Content.ReadAsStringAsync());
        }
        finally
        {
            await fixture.Servers.StartAsync(BackingServer.MySql);
        }

        var recovered = await Eventually.ValueAsync(
            () => a.PostAsJsonAsync($"/api/inventory/products/{product.Id}/stock", new { delta = 1 }),
            response => response.StatusCode == HttpStatusCode.OK);
        Assert.Equal(6, (await fixture.ReplicaB.GetProductAsync(product.Id)).Stock.OnHand);
        await Eventually.ValueAsync(() => HealthAsync(b), body => body == "Healthy");
    }

    [Fact]
    public async Task With_redis_stalled_reads_come_from_mysql_and_writes_commit_without_a_server_error()
    {
        var product = await fixture.ReplicaA.CreateProductAsync(stock: 5);
        await fixture.ReplicaB.GetProductAsync(product.Id); // in Redis before the stall
        using var a = fixture.ReplicaA.Admin();
        using var b = fixture.ReplicaB.Anonymous();
        using var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(fixture.Servers.RedisConnectionString);

        // Redis stays up but answers nothing for 10 s: the services' 1 s timeouts must fire and fall
        // back to MySQL. Waiting the stall out would also end in 200s, but only after it, and the read
        // would then find the stale cached stock of 5, its invalidation still owed.
        var stall = Stopwatch.StartNew();
        await redis.GetDatabase().ExecuteAsync("CLIENT", "PAUSE", "10000", "ALL");
        var write = await a.PostAsJsonAsync($"/api/inventory/products/{product.Id}/stock", new { delta = 1 });
        var read = await b.GetAsync($"/api/inventory/products/{product.Id}");
        var answeredAfter = stall.Elapsed;

        Assert.Equal(HttpStatusCode.OK, write.StatusCode);
        Assert.Equal(6, (await write.Content.ReadFromJsonAsync<ProductResponse>(InventoryApp.Json))!.Stock.OnHand);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(6, (await read.Content.ReadFromJsonAsync<ProductResponse>(InventoryApp.Json))!.Stock.OnHand);
        Assert.True(answeredAfter < TimeSpan.FromSeconds(8), $"Answered after {answeredAfter.TotalSeconds:0.0} s: they waited for Redis.");

        // Once Redis answers again the write's invalidation is delivered: no stale stock is served.
        await Eventually.ValueAsync(() => fixture.ReplicaB.GetProductAsync(product.Id), p => p.Stock.OnHand == 6);
    }

    private static async Task<string> HealthAsync(HttpClient client) =>
        await (await client.GetAsync("/health")).Content.ReadAsStringAsync();
}
