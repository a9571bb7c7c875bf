using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Reference.InventoryApi.Apis;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Reference.InventoryApi.Tests;

/// <summary>Varying a query cannot create unbounded cache keys, and searches have sane lengths.</summary>
[Collection(InventoryCollection.Name)]
public sealed class ProductSearchTests(InventoryFixture fixture, ITestOutputHelper output)
{
    [Theory]
    [InlineData("k")]
    [InlineData("  k  ")]
    [InlineData("kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk")]
    public async Task Searches_shorter_than_2_or_longer_than_100_characters_are_400_problem_details(string q)
    {
        using var client = fixture.ReplicaA.Anonymous();

        using var response = await client.GetAsync($"/api/inventory/products?q={Uri.EscapeDataString(q)}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<ValidationProblemDetails>();
        Assert.Contains("q", problem!.Errors.Keys);
    }

    [Fact]
    public async Task Case_and_spacing_variants_of_one_search_share_one_cache_entry_and_find_the_same_products()
    {
        var word = "Kestrel" + Guid.NewGuid().ToString("N")[..6];
        var product = await fixture.ReplicaA.CreateProductAsync(stock: 1, name: $"Red {word} kite");
        using var client = fixture.ReplicaA.Anonymous();
        await ResetStoredListCountAsync();
        var before = await ListKeyCountAsync();

        var pages = new List<ProductPage>();
        foreach (var (q, category) in new[]
                 {
                     ($"red {word}", product.Category), ($"RED {word.ToUpperInvariant()}", product.Category.ToUpperInvariant()),
                     ($"  Red   {word} ", product.Category.ToLowerInvariant()),
                 })
        {
            pages.Add((await client.GetFromJsonAsync<ProductPage>(
                $"/api/inventory/products?q={Uri.EscapeDataString(q)}&category={Uri.EscapeDataString(category)}&pageSize=24", InventoryApp.Json))!);
        }

        Assert.All(pages, page => Assert.Equal(product.Id, Assert.Single(page.Items).Id));
        Assert.Equal(before + 1, await ListKeyCountAsync());
    }

    [Fact]
    public async Task Ten_thousand_distinct_query_variants_leave_the_cache_key_count_bounded()
    {
        const int bound = 300;
        await using var replica = fixture.NewReplica(settings: new Dictionary<string, string?> { ["Inventory:MaxCachedLists"] = bound.ToString() });
        using var client = replica.Anonymous();
        var before = await ListKeyCountAsync();
        var random = new Random(18);
        var queries = Enumerable.Range(0, 10_000).Select(i => (i % 4) switch
        {
            // Fresh search text, case and spacing variants, odd page sizes, deep pages.
            0 => $"q={RandomWord(random)}",
            1 => $"q={Uri.EscapeDataString(CaseVariant(random, "kite"))}&category={Uri.EscapeDataString(CaseVariant(random, "kites"))}",
            2 => $"pageSize={1 + i % 100}&q={RandomWord(random)}",
            _ => $"page={1 + i % 5000}&category={RandomWord(random)}",
        }).ToList();

        var statuses = new System.Collections.Concurrent.ConcurrentBag<HttpStatusCode>();
        await ResetStoredListCountAsync();
        int added;
        try
        {
            await Parallel.ForEachAsync(queries, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (query, ct) =>
            {
                using var response = await client.GetAsync("/api/inventory/products?" + query, ct);
                statuses.Add(response.StatusCode);
            });
            added = await ListKeyCountAsync() - before;
        }
        finally
        {
            // The bound is shared by every replica: the other tests' lists must be cached again.
            await ResetStoredListCountAsync();
        }

        output.WriteLine($"{queries.Count} distinct query variants ({statuses.Count(s => s == HttpStatusCode.OK)} answered 200): " +
                         $"{added} list keys added to Redis (bound {bound} per cache lifetime)");
        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.InRange(added, 0, bound);
    }

    private Task ResetStoredListCountAsync() =>
        fixture.ReplicaA.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase().KeyDeleteAsync("inventory:v1:lists-stored");

    private async Task<int> ListKeyCountAsync()
    {
        var redis = fixture.ReplicaA.Services.GetRequiredService<IConnectionMultiplexer>();
        var server = redis.GetServer(redis.GetEndPoints()[0]);
        var count = 0;
        await foreach (var _ in server.KeysAsync(pattern: "inventory:v1:list:*", pageSize: 1000))
        {
            count++;
        }

        return count;
    }

    private static string RandomWord(Random random) =>
        new(Enumerable.Range(0, random.Next(2, 12)).Select(_ => (char)('a' + random.Next(26))).ToArray());

    private static string CaseVariant(Random random, string word) =>
        new string(' ', random.Next(3)) + new string(word.Select(c => random.Next(2) == 0 ? char.ToUpperInvariant(c) : c).ToArray());
}
