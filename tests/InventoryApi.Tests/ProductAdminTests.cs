using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Microsoft.AspNetCore.Mvc;
using Reference.InventoryApi.Apis;

namespace Reference.InventoryApi.Tests;

[Collection(InventoryCollection.Name)]
public sealed class ProductAdminTests(InventoryFixture fixture)
{
    private readonly HttpClient _admin = fixture.ReplicaA.Admin();

    private static object NewProduct(string? sku = null) => new
    {
        sku = sku ?? "A-" + Guid.NewGuid().ToString("N")[..10],
        name = "Admin test product",
        description = "",
        category = "Admin-tests",
        price = 9.99m,
        currency = "EUR",
        stock = 4,
    };

    [Fact]
    public async Task Writes_without_the_admin_key_are_401_and_with_a_wrong_key_403()
    {
        using var anonymous = fixture.ReplicaA.Anonymous();
        var missing = await anonymous.PostAsJsonAsync("/api/inventory/products", NewProduct());

        using var wrong = fixture.ReplicaA.Anonymous();
        wrong.DefaultRequestHeaders.Add("X-Api-Key", InventoryApp.AdminKey + "x");
        var forbidden = await wrong.PostAsJsonAsync("/api/inventory/products", NewProduct());
        var forbiddenDelete = await wrong.DeleteAsync($"/api/inventory/products/{Guid.NewGuid()}");

        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, forbiddenDelete.StatusCode);
    }

    [Fact]
    public async Task Create_gives_201_with_location_and_the_product_is_readable()
    {
        var response = await _admin.PostAsJsonAsync("/api/inventory/products", NewProduct());

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.Content.ReadFromJsonAsync<ProductResponse>(InventoryApp.Json);
        Assert.Equal($"/api/inventory/products/{created!.Id}", response.Headers.Location!.ToString());
        Assert.Equal(new StockResponse(4, 0, 4), created.Stock);
        Assert.Equal(created.Sku, (await fixture.ReplicaB.GetProductAsync(created.Id)).Sku);
    }

    [Fact]
    public async Task Invalid_products_are_400_with_the_field_errors()
    {
        var response = await _admin.PostAsJsonAsync("/api/inventory/products", new
        {
            sku = "has spaces",
            name = "",
            category = "x",
            price = -1,
            currency = "euro",
            stock = -5,
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<ValidationProblemDetails>();
        Assert.Equal(["currency", "name", "price", "sku", "stock"], problem!.Errors.Keys.Order());
    }

    [Fact]
    public async Task A_duplicate_sku_is_409()
    {
        var sku = "DUP-" + Guid.NewGuid().ToString("N")[..10];
        (await _admin.PostAsJsonAsync("/api/inventory/products", NewProduct(sku))).EnsureSuccessStatusCode();

        var again = await _admin.PostAsJsonAsync("/api/inventory/products", NewProduct(sku));

        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }

    [Fact]
    public async Task Malformed_json_is_400_problem_details()
    {
        var response = await _admin.PostAsync("/api/inventory/products",
            new StringContent("{\"sku\": \"X\", \"price\": ", Encoding.UTF8, "application/json"));
        var wrongType = await _admin.PostAsync("/api/inventory/reservations",
            new StringContent("{\"lines\": [{\"productId\": \"not-a-guid\", \"quantity\": 1}]}", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.BadRequest, wrongType.StatusCode);
        Assert.Equal("application/problem+json", wrongType.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_body_over_one_megabyte_is_413_problem_details()
    {
        var huge = "{\"sku\": \"BIG\", \"description\": \"" + new string('x', 1024 * 1024 + 10) + "\"}";

        var response = await _admin.PostAsync("/api/inventory/products", new StringContent(huge, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Update_with_the_current_etag_succeeds_and_with_a_stale_one_is_412()
    {
        var product = await fixture.ReplicaA.CreateProductAsync(stock: 2);
        var read = await _admin.GetAsync($"/api/inventory/products/{product.Id}");
        var etag = read.Headers.ETag!;

        var update = Put(product.Id, etag, "Renamed once");
        var first = await _admin.SendAsync(update);
        var stale = await _admin.SendAsync(Put(product.Id, etag, "Renamed from a stale copy"));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.NotEqual(etag, first.Headers.ETag);
        Assert.Equal(HttpStatusCode.PreconditionFailed, stale.StatusCode);
        Assert.Equal("application/problem+json", stale.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Renamed once", (await fixture.ReplicaB.GetProductAsync(product.Id)).Name);
    }

    [Fact]
    public async Task Update_without_if_match_is_428()
    {
        var product = await fixture.ReplicaA.CreateProductAsync(stock: 2);

        var response = await _admin.SendAsync(Put(product.Id, null, "No precondition"));

        Assert.Equal(HttpStatusCode.PreconditionRequired, response.StatusCode);
    }

    [Fact]
    public async Task Updating_or_deleting_a_missing_product_is_404()
    {
        var id = Guid.NewGuid();

        var update = await _admin.SendAsync(Put(id, new EntityTagHeaderValue("\"1\""), "Nothing"));
        var delete = await _admin.DeleteAsync($"/api/inventory/products/{id}");
        var stock = await _admin.PostAsJsonAsync($"/api/inventory/products/{id}/stock", new { delta = 1 });

        Assert.Equal(HttpStatusCode.NotFound, update.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, delete.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, stock.StatusCode);
    }

    [Fact]
    public async Task Delete_removes_the_product_from_every_replica()
    {
        var product = await fixture.ReplicaA.CreateProductAsync(stock: 2);
        await fixture.ReplicaB.GetProductAsync(product.Id); // cached on the other replica

        var delete = await _admin.DeleteAsync($"/api/inventory/products/{product.Id}");

        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        using var other = fixture.ReplicaB.Anonymous();
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/api/inventory/products/{product.Id}")).StatusCode);
    }

    [Fact]
    public async Task Stock_adjustments_change_on_hand_but_never_below_what_is_reserved()
    {
        var product = await fixture.ReplicaA.CreateProductAsync(stock: 5);
        (await _admin.PostAsJsonAsync("/api/inventory/reservations", new { lines = new[] { new { productId = product.Id, quantity = 3 } } }))
            .EnsureSuccessStatusCode();

        var added = await _admin.PostAsJsonAsync($"/api/inventory/products/{product.Id}/stock", new { delta = 2 });
        var tooMuch = await _admin.PostAsJsonAsync($"/api/inventory/products/{product.Id}/stock", new { delta = -5 });
        var zero = await _admin.PostAsJsonAsync($"/api/inventory/products/{product.Id}/stock", new { delta = 0 });
        var lowest = await _admin.PostAsJsonAsync($"/api/inventory/products/{product.Id}/stock", new { delta = int.MinValue });

        Assert.Equal(new StockResponse(7, 3, 4), (await added.Content.ReadFromJsonAsync<ProductResponse>(InventoryApp.Json))!.Stock);
        Assert.Equal(HttpStatusCode.Conflict, tooMuch.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, zero.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, lowest.StatusCode);
        Assert.Equal(new StockResponse(7, 3, 4), (await fixture.ReplicaB.GetProductAsync(product.Id)).Stock);
    }

    private static HttpRequestMessage Put(Guid id, EntityTagHeaderValue? ifMatch, string name)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, $"/api/inventory/products/{id}")
        {
            Content = JsonContent.Create(new
            {
                sku = "U-" + id.ToString("N")[..12],
                name,
                description = "Updated by a test.",
                category = "Admin-tests",
                price = 15m,
                currency = "USD",
            }),
        };
        if (ifMatch is not null)
        {
            request.Headers.IfMatch.Add(ifMatch);
        }

        return request;
    }
}
