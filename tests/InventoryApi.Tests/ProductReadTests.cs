using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc;
using Reference.InventoryApi.Apis;
using Reference.InventoryApi.Infrastructure;

namespace Reference.InventoryApi.Tests;

[Collection(InventoryCollection.Name)]
public sealed class ProductReadTests(InventoryFixture fixture)
{
    private readonly HttpClient _client = fixture.ReplicaA.Anonymous();

    [Fact]
    public async Task Demo_catalogue_is_seeded_once_with_two_dozen_products_in_four_categories()
    {
        var categories = await _client.GetFromJsonAsync<string[]>("/api/inventory/categories");
        Assert.Superset(new HashSet<string> { "Books", "Camping", "Kitchen", "Kites" }, categories!.ToHashSet());

        var kites = await _client.GetFromJsonAsync<ProductPage>("/api/inventory/products?category=Kites&pageSize=100", InventoryApp.Json);
        Assert.Equal(6, kites!.Total);

        // Both replicas started at once on the empty database; still one copy of each demo SKU.
        var delta = await _client.GetFromJsonAsync<ProductResponse>("/api/inventory/products/by-sku/KITE-DELTA-150", InventoryApp.Json);
        Assert.Equal(DemoCatalog.IdOf("KITE-DELTA-150"), delta!.Id);
        var search = await _client.GetFromJsonAsync<ProductPage>("/api/inventory/products?q=KITE-DELTA-150", InventoryApp.Json);
        Assert.Equal(1, search!.Total);
    }

    [Fact]
    public async Task Products_are_paged_filtered_by_category_and_searched_by_name_or_sku()
    {
        var category = "Paging-" + Guid.NewGuid().ToString("N")[..8];
        var created = new List<ProductResponse>();
        for (var i = 0; i < 5; i++)
        {
            created.Add(await fixture.ReplicaA.CreateProductAsync(stock: 1, category: category, name: $"Lantern {category} {i}"));
        }

        var page1 = await _client.GetFromJsonAsync<ProductPage>($"/api/inventory/products?category={category}&page=1&pageSize=2", InventoryApp.Json);
        var page3 = await _client.GetFromJsonAsync<ProductPage>($"/api/inventory/products?category={category}&page=3&pageSize=2", InventoryApp.Json);
        Assert.Equal(5, page1!.Total);
        Assert.Equal(2, page1.Items.Count);
        Assert.Single(page3!.Items);
        Assert.All(page1.Items, p => Assert.Equal(category, p.Category));

        var byName = await _client.GetFromJsonAsync<ProductPage>($"/api/inventory/products?q=Lantern {category} 3", InventoryApp.Json);
        Assert.Equal(created[3].Id, Assert.Single(byName!.Items).Id);

        var bySku = await _client.GetFromJsonAsync<ProductPage>($"/api/inventory/products?q={created[1].Sku}", InventoryApp.Json);
        Assert.Equal(created[1].Id, Assert.Single(bySku!.Items).Id);
    }

    [Theory]
    [InlineData("pageSize=101", "pageSize")]
    [InlineData("pageSize=0", "pageSize")]
    [InlineData("page=0", "page")]
    public async Task Out_of_range_paging_is_a_validation_problem(string query, string field)
    {
        var response = await _client.GetAsync($"/api/inventory/products?{query}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<ValidationProblemDetails>();
        Assert.Contains(field, problem!.Errors.Keys);
    }

    [Fact]
    public async Task A_product_is_found_by_id_and_by_sku_with_an_etag()
    {
        var product = await fixture.ReplicaA.CreateProductAsync(stock: 3);

        var byId = await _client.GetAsync($"/api/inventory/products/{product.Id}");
        var bySku = await _client.GetAsync($"/api/inventory/products/by-sku/{product.Sku}");

        Assert.Equal(HttpStatusCode.OK, byId.StatusCode);
        Assert.Equal(HttpStatusCode.OK, bySku.StatusCode);
        // Version, on-hand, reserved: the tag follows the stock too, which shoppers change without a new version.
        Assert.Equal($"\"{product.Version}.3.0\"", byId.Headers.ETag!.ToString());
        var body = await bySku.Content.ReadFromJsonAsync<ProductResponse>(InventoryApp.Json);
        Assert.Equal(product.Id, body!.Id);
        Assert.Equal(new StockResponse(3, 0, 3), body.Stock);
        Assert.Equal("EUR", body.Currency);
        Assert.Equal(12.50m, body.Price);
    }

    [Fact]
    public async Task If_none_match_with_the_current_etag_gives_304_and_a_changed_product_gives_200()
    {
        var product = await fixture.ReplicaA.CreateProductAsync(stock: 3);
        var first = await _client.GetAsync($"/api/inventory/products/{product.Id}");
        var etag = first.Headers.ETag!;

        var again = new HttpRequestMessage(HttpMethod.Get, $"/api/inventory/products/{product.Id}");
        again.Headers.IfNoneMatch.Add(etag);
        Assert.Equal(HttpStatusCode.NotModified, (await _client.SendAsync(again)).StatusCode);

        using var admin = fixture.ReplicaA.Admin();
        (await admin.PostAsJsonAsync($"/api/inventory/products/{product.Id}/stock", new { delta = 1 })).EnsureSuccessStatusCode();
        var afterChange = new HttpRequestMessage(HttpMethod.Get, $"/api/inventory/products/{product.Id}");
        afterChange.Headers.IfNoneMatch.Add(etag);
        Assert.Equal(HttpStatusCode.OK, (await _client.SendAsync(afterChange)).StatusCode);
    }

    [Fact]
    public async Task A_list_page_gives_304_for_its_etag_on_either_replica()
    {
        var category = "ETag-" + Guid.NewGuid().ToString("N")[..8];
        await fixture.ReplicaA.CreateProductAsync(stock: 1, category: category);
        var first = await _client.GetAsync($"/api/inventory/products?category={category}");

        using var other = fixture.ReplicaB.Anonymous();
        var again = new HttpRequestMessage(HttpMethod.Get, $"/api/inventory/products?category={category}");
        again.Headers.IfNoneMatch.Add(first.Headers.ETag!);

        Assert.Equal(HttpStatusCode.NotModified, (await other.SendAsync(again)).StatusCode);
    }

    [Theory]
    [InlineData("/api/inventory/products/8c1b8d2e-0000-4000-8000-000000000000")]
    [InlineData("/api/inventory/products/by-sku/NO-SUCH-SKU")]
    [InlineData("/api/inventory/reservations/8c1b8d2e-0000-4000-8000-000000000000")]
    [InlineData("/api/inventory/no-such-route")]
    public async Task Unknown_things_are_404_problem_details(string path)
    {
        var response = await _client.GetAsync(path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task The_openapi_document_describes_the_api_in_development()
    {
        var document = await _client.GetStringAsync("/openapi/v1.json");

        Assert.Contains("/api/inventory/products/{id}", document);
        Assert.Contains("/api/inventory/reservations", document);
        Assert.Contains("/api/inventory/cart/hold", document);
        Assert.Contains("/api/inventory/orders/{id}/cancel", document);
        Assert.Contains("Idempotency-Key", document);
        Assert.Contains("X-Cart-Token", document);
    }
}
