using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Reference.InventoryApi.Apis;
using Reference.InventoryApi.Infrastructure;
using Reference.InventoryApi.Model;

namespace Reference.InventoryApi.Tests;

/// <summary>Shoppers' holds and orders: never oversold, capped per cart and address, idempotent, exactly once.</summary>
[Collection(InventoryCollection.Name)]
public sealed partial class CheckoutTests(InventoryFixture fixture)
{
    [Fact]
    public async Task Fifty_concurrent_checkouts_for_five_in_stock_make_exactly_five_orders_and_leave_no_hold()
    {
        var product = await fixture.ReplicaA.CreateProductAsync(stock: 5);
        var shoppers = await Task.WhenAll(Enumerable.Range(0, 50)
            .Select(i => Shopper.StartAsync(i % 2 == 0 ? fixture.ReplicaA : fixture.ReplicaB)));

        var start = new TaskCompletionSource();
        var checkouts = shoppers.Select(async shopper =>
        {
            await start.Task;
            return await shopper.BuyAsync((product.Id, 1));
        }).ToList();
        start.SetResult();
        var responses = await Task.WhenAll(checkouts);

        Assert.Equal(5, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        var refusals = responses.Where(r => r.StatusCode != HttpStatusCode.Created).ToList();
        Assert.Equal(45, refusals.Count);
        foreach (var refusal in refusals)
        {
            Assert.Equal(HttpStatusCode.Conflict, refusal.StatusCode);
            var problem = await refusal.Content.ReadFromJsonAsync<ProblemDetails>();
            Assert.Equal("Not enough stock", problem!.Title);
            Assert.Contains("available 0", problem.Detail);
        }

        Assert.Equal(new StockResponse(0, 0, 0), (await fixture.ReplicaB.GetProductAsync(product.Id)).Stock);
        Assert.Equal(0, await PendingHoldsAsync(product.Id));
        Assert.Equal(5, await OrderedUnitsAsync(product.Id));
        foreach (var shopper in shoppers)
        {
            shopper.Dispose();
        }
    }

    [Fact]
    public async Task One_address_cannot_hold_a_products_whole_stock_and_other_shoppers_can_still_buy()
    {
        var product = await fixture.ReplicaA.CreateProductAsync(stock: 30);
        var other = await fixture.ReplicaA.CreateProductAsync(stock: 30);
        var address = Shopper.NewAddress();

        using var greedy = await Shopper.StartAsync(fixture.ReplicaA, address);
        var all = await greedy.HoldAsync((product.Id, 30));
        Assert.Equal(HttpStatusCode.Conflict, all.StatusCode);
        Assert.Equal("units-per-product", await ReasonAsync(all));

        // Twenty carts from the one address at once, each for one unit: the caps count them together.
        var carts = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Shopper.StartAsync(i % 2 == 0 ? fixture.ReplicaA : fixture.ReplicaB, address)));
        var holds = await Task.WhenAll(carts.Select(c => c.HoldAsync((product.Id, 1))));
        Assert.Equal(3, holds.Count(h => h.StatusCode == HttpStatusCode.OK));
        Assert.All(holds.Where(h => h.StatusCode != HttpStatusCode.OK), h => Assert.Equal(HttpStatusCode.TooManyRequests, h.StatusCode));
        Assert.Equal("active-holds", await ReasonAsync(holds.First(h => h.StatusCode == HttpStatusCode.TooManyRequests)));
        Assert.NotNull(holds.First(h => h.StatusCode == HttpStatusCode.TooManyRequests).Headers.RetryAfter);

        // A held cart changing its hold replaces it (no new hold), up to ten units in all for the address.
        var holder = carts[Array.FindIndex(holds, h => h.StatusCode == HttpStatusCode.OK)];
        Assert.Equal(HttpStatusCode.OK, (await holder.HoldAsync((product.Id, 8))).StatusCode);
        var overCap = await holder.HoldAsync((product.Id, 9));
        Assert.Equal(HttpStatusCode.Conflict, overCap.StatusCode);
        Assert.Equal("units-per-product", await ReasonAsync(overCap));
        Assert.Equal(HttpStatusCode.Created, (await holder.PlaceOrderAsync()).StatusCode);
        // The unpaid order still counts: ordering does not make room to hold more.
        Assert.Equal(HttpStatusCode.Conflict, (await holder.HoldAsync((product.Id, 1))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await holder.HoldAsync((other.Id, 1))).StatusCode);
        Assert.Equal(20, (await fixture.ReplicaA.GetProductAsync(product.Id)).Stock.Available);

        using var someoneElse = await Shopper.StartAsync(fixture.ReplicaB);
        Assert.Equal(HttpStatusCode.Created, (await someoneElse.BuyAsync((product.Id, 10))).StatusCode);
        Assert.Equal(10, (await fixture.ReplicaA.GetProductAsync(product.Id)).Stock.Available);
        foreach (var cart in carts)
        {
            cart.Dispose();
        }
    }

    [Fact]
    public async Task Placing_an_order_twice_with_one_idempotency_key_makes_one_order_even_at_once()
    {
        var product = await fixture.ReplicaA.CreateProductAsync(stock: 10);
        using var shopper = await Shopper.StartAsync(fixture.ReplicaA);
        Assert.Equal(HttpStatusCode.OK, (await shopper.HoldAsync((product.Id, 2))).StatusCode);
        var key = Guid.NewGuid().ToString();

        var clicks = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => shopper.PlaceOrderAsync(key)));
        var later = await shopper.PlaceOrderAsync(key);
        var otherKey = await shopper.PlaceOrderAsync();

        Assert.Equal(1, clicks.Count(c => c.StatusCode == HttpStatusCode.Created));
        Assert.All(clicks.Where(c => c.StatusCode != HttpStatusCode.Created), c => Assert.Equal(HttpStatusCode.OK, c.StatusCode));
        var ids = await Task.WhenAll(clicks.Append(later).Select(async c => (await c.Content.ReadFromJsonAsync<OrderResponse>(InventoryApp.Json))!.Id));
        Assert.Single(ids.Distinct());
        Assert.Equal(HttpStatusCode.OK, later.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, otherKey.StatusCode);
        Assert.Equal("no-hold", await ReasonAsync(otherKey));
        Assert.Equal(new StockResponse(8, 0, 8), (await fixture.ReplicaB.GetProductAsync(product.Id)).Stock);
        var mine = await shopper.Http.GetFromJsonAsync<List<OrderResponse>>("/api/inventory/orders/mine", InventoryApp.Json);
        var order = Assert.Single(mine!);
        Assert.Equal(ids[0], order.Id);
        Assert.Equal(OrderStatus.AwaitingPayment, order.Status);
        Assert.Equal(25.00m, order.Total);
        Assert.Equal(2, Assert.Single(order.Lines).Quantity);
    }

    [Fact]
    public async Task Every_bad_input_is_refused_clearly_changes_nothing_and_a_good_order_follows()
    {
        var product = await fixture.ReplicaA.CreateProductAsync(stock: 5);
        var doomed = await fixture.ReplicaA.CreateProductAsync(stock: 5);
        using var shopper = await Shopper.StartAsync(fixture.ReplicaA);
        using var noToken = fixture.ReplicaA.Anonymous();
        noToken.DefaultRequestHeaders.Add("X-Forwarded-For", shopper.Address);
        using var forged = fixture.ReplicaA.Anonymous();
        forged.DefaultRequestHeaders.Add("X-Cart-Token", "made-up.token");

        async Task ExpectAsync(HttpResponseMessage response, HttpStatusCode status, string? field = null)
        {
            Assert.Equal(status, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            if (field is not null)
            {
                Assert.Contains(field, (await response.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors.Keys);
            }

            Assert.Equal(new StockResponse(5, 0, 5), (await fixture.ReplicaA.GetProductAsync(product.Id)).Stock);
        }

        await ExpectAsync(await shopper.HoldAsync((product.Id, 0)), HttpStatusCode.BadRequest, "lines[0].quantity");
        await ExpectAsync(await shopper.HoldAsync((product.Id, -1)), HttpStatusCode.BadRequest, "lines[0].quantity");
        await ExpectAsync(await shopper.HoldAsync(), HttpStatusCode.BadRequest, "lines");
        var tooMany = await shopper.HoldAsync((product.Id, 6));
        await ExpectAsync(tooMany, HttpStatusCode.Conflict);
        Assert.Contains("available 5", (await tooMany.Content.ReadFromJsonAsync<ProblemDetails>())!.Detail);

        // A product deleted while it sat in the cart: the line is named as gone.
        using (var admin = fixture.ReplicaA.Admin())
        {
            Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/inventory/products/{doomed.Id}")).StatusCode);
        }

        var gone = await shopper.HoldAsync((product.Id, 1), (doomed.Id, 1));
        await ExpectAsync(gone, HttpStatusCode.Conflict);
        var shortLine = ((JsonElement)(await gone.Content.ReadFromJsonAsync<ProblemDetails>())!.Extensions["shortLines"]!).EnumerateArray().Single();
        Assert.Equal(doomed.Id, shortLine.GetProperty("productId").GetGuid());
        Assert.False(shortLine.GetProperty("exists").GetBoolean());

        await ExpectAsync(await noToken.PutAsJsonAsync("/api/inventory/cart/hold", new { lines = new[] { new { productId = product.Id, quantity = 1 } } }),
            HttpStatusCode.Unauthorized);
        await ExpectAsync(await forged.PutAsJsonAsync("/api/inventory/cart/hold", new { lines = new[] { new { productId = product.Id, quantity = 1 } } }),
            HttpStatusCode.Unauthorized);
        await ExpectAsync(await shopper.PlaceOrderAsync(), HttpStatusCode.Conflict);

        Assert.Equal(HttpStatusCode.OK, (await shopper.HoldAsync((product.Id, 2))).StatusCode);
        var held = new StockResponse(5, 2, 3);
        await ExpectHeldAsync(await shopper.PlaceOrderAsync(email: "not-an-email"), "email");
        await ExpectHeldAsync(await shopper.PlaceOrderAsync(name: "  "), "name");
        await ExpectHeldAsync(await shopper.PlaceOrderAsync(name: new string('x', 101)), "name");
        var noKey = await shopper.Http.PostAsJsonAsync("/api/inventory/orders", new { name = "Ada", email = "ada@example.com" });
        await ExpectHeldAsync(noKey, "Idempotency-Key");

        var good = await shopper.PlaceOrderAsync();
        Assert.Equal(HttpStatusCode.Created, good.StatusCode);
        Assert.Equal(new StockResponse(3, 0, 3), (await fixture.ReplicaA.GetProductAsync(product.Id)).Stock);
        var order = (await good.Content.ReadFromJsonAsync<OrderResponse>(InventoryApp.Json))!;
        Assert.Matches("^R-[0-9A-F]{10}$", order.Number);
        Assert.Equal(HttpStatusCode.OK, (await shopper.Http.GetAsync($"/api/inventory/orders/{order.Id}")).StatusCode);
        using var stranger = await Shopper.StartAsync(fixture.ReplicaA);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.Http.GetAsync($"/api/inventory/orders/{order.Id}")).StatusCode);

        async Task ExpectHeldAsync(HttpResponseMessage response, string field)
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains(field, (await response.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors.Keys);
            Assert.Equal(held, (await fixture.ReplicaA.GetProductAsync(product.Id)).Stock);
        }
    }

    private async Task<int> PendingHoldsAsync(Guid productId)
    {
        await using var scope = fixture.ReplicaA.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<InventoryDbContext>();
        return await db.Reservations.CountAsync(r => r.Status == ReservationStatus.Pending && r.Lines.Any(l => l.ProductId == productId));
    }

    private async Task<int> OrderedUnitsAsync(Guid productId)
    {
        await using var scope = fixture.ReplicaA.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<InventoryDbContext>();
        return await db.OrderLines.Where(l => l.ProductId == productId).SumAsync(l => l.Quantity);
    }

    private static async Task<string?> ReasonAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<ProblemDetails>())!.Extensions.TryGetValue("reason", out var reason)
            ? ((JsonElement)reason!).GetString()
            : null;
}
