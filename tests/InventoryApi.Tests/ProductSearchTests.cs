using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Reference.InventoryApi.Infrastructure;
using Reference.InventoryApi.Products;
using Reference.InventoryApi.Apis;
using StackExchange.Redis;
using Xunit.Abstractions;
using Reference.InventoryApi.Model;

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

    [Fact]
    public async Task The_search_finds_word_prefixes_of_the_name_and_sku_from_the_fulltext_index()
    {
        var word = "Merlin" + Guid.NewGuid().ToString("N")[..6];
        var product = await fixture.ReplicaA.CreateProductAsync(stock: 1, name: $"Blue {word} lamp");
        using var client = fixture.ReplicaA.Anonymous();

        async Task<List<Guid>> SearchAsync(string q) =>
            (await client.GetFromJsonAsync<ProductPage>($"/api/inventory/products?q={Uri.EscapeDataString(q)}&category={product.Category}", InventoryApp.Json))!
                .Items.Select(p => p.Id).ToList();

        Assert.Equal([product.Id], await SearchAsync(word[..8]));
        Assert.Equal([product.Id], await SearchAsync($"lamp {word}"));
        Assert.Equal([product.Id], await SearchAsync(product.Sku[..6]));
        // Boolean-mode operators in the query are only punctuation, never syntax errors or exclusions.
        Assert.Equal([product.Id], await SearchAsync($"\"{word}\" -lamp"));
        // The price of the index: the middle of a word is not a prefix.
        Assert.Empty(await SearchAsync(word[2..]));
    }

    [Fact]
    public async Task On_50k_products_the_search_reads_the_fulltext_index_instead_of_scanning_measured_before_and_after()
    {
        const int products = 50_000;
        await using var replica = fixture.NewReplica(database: "inventory_search_bench");
        replica.Start();
        await using var scope = replica.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<InventoryDbContext>();
        db.Database.SetCommandTimeout(TimeSpan.FromMinutes(2));
        if (await db.Products.CountAsync() < products)
        {
            var seeding = Stopwatch.StartNew();
            await db.Database.ExecuteSqlRawAsync($"""
                SET STATEMENT max_recursive_iterations = {products} FOR
                INSERT INTO Products (Id, Sku, Name, Description, Category, Price, Currency, OnHand, Reserved, CreatedAt, UpdatedAt, Version)
                WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {products - 1})
                SELECT UUID(), CONCAT('BENCH-', i),
                       CONCAT(ELT(1 + i % 10, 'Red', 'Blue', 'Green', 'Oak', 'Steel', 'Linen', 'Wool', 'Glass', 'Clay', 'Brass'), ' ',
                              ELT(1 + (i DIV 10) % 10, 'Kite', 'Lamp', 'Chair', 'Mug', 'Rug', 'Vase', 'Bowl', 'Shelf', 'Clock', 'Tray'), ' ', i),
                       '', ELT(1 + i % 7, 'Home', 'Garden', 'Kitchen', 'Toys', 'Office', 'Outdoor', 'Bath'), 10, 'EUR', 5, 0, NOW(), NOW(), 1
                FROM n
                """);
            output.WriteLine($"Seeded {products:N0} products in {seeding.Elapsed.TotalSeconds:0.0} s.");
        }

        foreach (var q in new[] { "blue lamp", "clock 428" })
        {
            var scan = db.Products.AsNoTracking().Where(p => p.Name.Contains(q) || p.Sku.Contains(q));
            var indexed = db.Products.AsNoTracking().Matching(q);
            var ((scanMs, scanCount), (indexedMs, indexedCount)) = await MedianAsync(scan, indexed);
            var plan = await ExplainAsync(db, indexed.Select(p => p.Id).ToQueryString());
            output.WriteLine($"q=\"{q}\" on {products:N0} products: LIKE '%q%' {scanMs:0.0} ms ({scanCount} found), " +
                             $"FULLTEXT {indexedMs:0.0} ms ({indexedCount} found); plan: {plan}");

            Assert.StartsWith("fulltext FT_Products_Name_Sku", plan);
            Assert.Equal(scanCount, indexedCount);
        }
    }

    /// <summary>
    /// Medians of 21 runs of the page query the API makes (count, then the first 24 by name), after 3 to warm
    /// up; the two queries take turns, so load from elsewhere on the machine falls on both alike.
    /// </summary>
    private static async Task<((double Milliseconds, int Count) First, (double Milliseconds, int Count) Second)> MedianAsync(
        IQueryable<Product> first, IQueryable<Product> second)
    {
        var times = new[] { new List<double>(), new List<double>() };
        var counts = new int[2];
        for (var run = 0; run < 24; run++)
        {
            foreach (var (query, i) in new[] { (first, 0), (second, 1) })
            {
                var started = Stopwatch.GetTimestamp();
                counts[i] = await query.CountAsync();
                await query.OrderBy(p => p.Name).ThenBy(p => p.Id).Take(24).ToListAsync();
                if (run >= 3)
                {
                    times[i].Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
            }
        }

        double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
        return ((Median(times[0]), counts[0]), (Median(times[1]), counts[1]));
    }

    /// <summary>MySQL's plan for the query: its access type, key and the rows it expects to read.</summary>
    private static async Task<string> ExplainAsync(InventoryDbContext db, string sql)
    {
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync();
        await using var command = connection.CreateCommand();
        // ToQueryString declares its parameters as SET statements before the query.
        var statements = sql.Split(";\n", StringSplitOptions.RemoveEmptyEntries);
        command.CommandText = string.Join(";\n", statements[..^1].Append("EXPLAIN " + statements[^1]));
        await using var reader = await command.ExecuteReaderAsync();
        do
        {
            if (reader.FieldCount > 1 && await reader.ReadAsync())
            {
                return $"{reader["type"]} {reader["key"]} rows={reader["rows"]}";
            }
        }
        while (await reader.NextResultAsync());

        return "no plan";
    }
}
