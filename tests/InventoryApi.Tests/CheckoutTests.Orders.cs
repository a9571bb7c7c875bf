using Reference.Tests.Support;
using System.Net;
using System.Net.Http.Json;
using Reference.InventoryApi.Apis;
using Reference.InventoryApi.Model;

namespace Reference.InventoryApi.Tests;

public sealed partial class CheckoutTests
{
    [Fact]
    public async Task A_hold_changes_the_stock_but_not_the_version_so_an_admins_edit_still_applies()
    {
        var product = await fixture.ReplicaA.CreateProductAsync(stock: 5);
        using var admin = fixture.ReplicaA.Admin();
        var read = await admin.GetAsync($"/api/inventory/products/{product.Id}");
        using var shopper = await Shopper.StartAsync(fixture.ReplicaB);

        Assert.Equal(HttpStatusCode.OK, (await shopper.HoldAsync((product.Id, 2))).StatusCode);
        var afterHold = await fixture.ReplicaA.GetProductAsync(product.Id);
        var rename = new HttpRequestMessage(HttpMethod.Put, $"/api/inventory/products/{product.Id}")
        {
            Content = JsonContent.Create(new { sku = product.Sku, name = "Renamed while held", category = product.Category, price = 12.50m, currency = "EUR" }),
        };
        rename.Headers.IfMatch.Add(read.Headers.ETag!);
        var edit = await admin.SendAsync(rename);
        var revalidate = new HttpRequestMessage(HttpMethod.Get, $"/api/inventory/products/{product.Id}");
        revalidate.Headers.IfNoneMatch.Add(read.Headers.ETag!);

        Assert.Equal(product.Version, afterHold.Version);
        Assert.Equal(new StockResponse(5, 2, 3), afterHold.Stock);
        Assert.Equal(HttpStatusCode.OK, edit.StatusCode);
        // The stock changed, so a browser's copy from before the hold is not current.
        Assert.Equal(HttpStatusCode.OK, (await admin.SendAsync(revalidate)).StatusCode);
    }

    [Fact]
    public async Task Cancelling_returns_the_units_once_however_often_and_a_paid_order_stays_paid()
    {
        var product = await fixture.ReplicaA.CreateProductAsync(stock: 10);
        using var first = await Shopper.StartAsync(fixture.ReplicaA);
        using var second = await Shopper.StartAsync(fixture.ReplicaB);
        var toCancel = (await (await first.BuyAsync((product.Id, 3))).Content.ReadFromJsonAsync<OrderResponse>(InventoryApp.Json))!;
        var toPay = (await (await second.BuyAsync((product.Id, 2))).Content.ReadFromJsonAsync<OrderResponse>(InventoryApp.Json))!;
        using var a = fixture.ReplicaA.Admin();
        using var b = fixture.ReplicaB.Admin();

        var cancels = await Task.WhenAll(
            a.PostAsync($"/api/inventory/orders/{toCancel.Id}/cancel", null),
            b.PostAsync($"/api/inventory/orders/{toCancel.Id}/cancel", null),
            a.PostAsync($"/api/inventory/orders/{toCancel.Id}/cancel", null));
        var paid = await b.PostAsync($"/api/inventory/orders/{toPay.Id}/paid", null);
        var payCancelled = await a.PostAsync($"/api/inventory/orders/{toCancel.Id}/paid", null);
        var anonymousCancel = await first.Http.PostAsync($"/api/inventory/orders/{toPay.Id}/cancel", null);
        var list = await a.GetFromJsonAsync<OrderPage>("/api/inventory/orders?status=Paid&pageSize=100", InventoryApp.Json);

        Assert.All(cancels, c => Assert.Equal(HttpStatusCode.OK, c.StatusCode));
        Assert.Equal(OrderStatus.Paid, (await paid.Content.ReadFromJsonAsync<OrderResponse>(InventoryApp.Json))!.Status);
        Assert.Equal(HttpStatusCode.Conflict, payCancelled.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymousCancel.StatusCode);
        Assert.Contains(list!.Items, o => o.Id == toPay.Id);
        Assert.Equal(new StockResponse(8, 0, 8), (await fixture.ReplicaB.GetProductAsync(product.Id)).Stock);
    }

    [Fact]
    public async Task A_hold_that_expires_returns_its_stock_once_also_when_the_expiry_races_a_checkout()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Inventory:ReservationTtl"] = "00:00:01",
            ["Inventory:ReservationSweepInterval"] = "00:00:00.050",
        };
        await using var racer = fixture.NewReplica(settings: settings);
        racer.Start();
        var product = await fixture.ReplicaA.CreateProductAsync(stock: 40);
        // A long hold beside the racing ones: returning a unit twice would show in Reserved, not be stopped at zero.
        using (var staff = fixture.ReplicaA.Admin())
        {
            (await staff.PostAsJsonAsync("/api/inventory/reservations", new { lines = new[] { new { productId = product.Id, quantity = 3 } } }))
                .EnsureSuccessStatusCode();
        }

        var shoppers = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Shopper.StartAsync(racer)));
        var outcomes = await Task.WhenAll(shoppers.Select(async (shopper, i) =>
        {
            Assert.Equal(HttpStatusCode.OK, (await shopper.HoldAsync((product.Id, 1))).StatusCode);
            // Spread around the expiry (1 s) and the sweeps (every 50 ms): some orders win, some expiries do.
            await Task.Delay(850 + i * 15);
            return (await shopper.PlaceOrderAsync()).StatusCode;
        }));

        Assert.All(outcomes, o => Assert.Contains(o, new[] { HttpStatusCode.Created, HttpStatusCode.Conflict }));
        var ordered = outcomes.Count(o => o == HttpStatusCode.Created);
        await Poll.UntilAsync(() => PendingHoldsAsync(product.Id), pending => pending == 1);
        Assert.Equal(new StockResponse(40 - ordered, 3, 37 - ordered), (await fixture.ReplicaB.GetProductAsync(product.Id)).Stock);
        Assert.Equal(ordered, await OrderedUnitsAsync(product.Id));
        foreach (var shopper in shoppers)
        {
            shopper.Dispose();
        }
    }
}
