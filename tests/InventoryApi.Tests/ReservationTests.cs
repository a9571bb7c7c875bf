using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Reference.InventoryApi.Apis;
using Microsoft.Extensions.DependencyInjection;
using Reference.InventoryApi.Model;
using Reference.InventoryApi.Reservations;
using Reference.Tests.Support;

namespace Reference.InventoryApi.Tests;

[Collection(InventoryCollection.Name)]
public sealed class ReservationTests(InventoryFixture fixture)
{
    private static object Lines(params (Guid ProductId, int Quantity)[] lines) =>
        new { lines = lines.Select(l => new { productId = l.ProductId, quantity = l.Quantity }) };

    [Fact]
    public async Task Hundred_concurrent_reservations_of_one_unit_against_ten_in_stock_sell_exactly_ten()
    {
        var product = await fixture.ReplicaA.CreateProductAsync(stock: 10);
        using var a = fixture.ReplicaA.Admin();
        using var b = fixture.ReplicaB.Admin();

        // Spread over both replicas, all released at once.
        var start = new TaskCompletionSource();
        var attempts = Enumerable.Range(0, 100).Select(async i =>
        {
            await start.Task;
            var client = i % 2 == 0 ? a : b;
            return (await client.PostAsJsonAsync("/api/inventory/reservations", Lines((product.Id, 1)))).StatusCode;
        }).ToList();
        start.SetResult();
        var statuses = await Task.WhenAll(attempts);

        Assert.Equal(10, statuses.Count(s => s == HttpStatusCode.Created));
        Assert.Equal(90, statuses.Count(s => s == HttpStatusCode.Conflict));
        Assert.Equal(new StockResponse(10, 10, 0), (await fixture.ReplicaB.GetProductAsync(product.Id)).Stock);
    }

    [Fact]
    public async Task Concurrent_multi_line_reservations_never_oversell_any_line_and_are_all_or_nothing()
    {
        var category = "Multi-" + Guid.NewGuid().ToString("N")[..8];
        var x = await fixture.ReplicaA.CreateProductAsync(stock: 10, category);
        var y = await fixture.ReplicaA.CreateProductAsync(stock: 6, category);
        var z = await fixture.ReplicaA.CreateProductAsync(stock: 15, category);
        (Guid, int)[][] baskets =
        [
            [(x.Id, 1), (y.Id, 1)],
            [(y.Id, 2), (z.Id, 1)],
            [(z.Id, 1), (x.Id, 2)],
            [(x.Id, 1), (y.Id, 1), (z.Id, 1)],
        ];
        using var a = fixture.ReplicaA.Admin();
        using var b = fixture.ReplicaB.Admin();

        var start = new TaskCompletionSource();
        var attempts = Enumerable.Range(0, 80).Select(async i =>
        {
            await start.Task;
            var basket = baskets[i % baskets.Length];
            var response = await (i % 2 == 0 ? a : b).PostAsJsonAsync("/api/inventory/reservations", Lines(basket));
            return (basket, response.StatusCode);
        }).ToList();
        start.SetResult();
        var results = await Task.WhenAll(attempts);

        Assert.All(results, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.Created, HttpStatusCode.Conflict }));
        var won = results.Where(r => r.StatusCode == HttpStatusCode.Created).SelectMany(r => r.basket).ToList();
        foreach (var product in new[] { x, y, z })
        {
            var reserved = won.Where(l => l.Item1 == product.Id).Sum(l => l.Item2);
            var stock = (await fixture.ReplicaA.GetProductAsync(product.Id)).Stock;
            // What the successful baskets asked for is exactly what is held: no partial baskets, no oversell.
            Assert.Equal(reserved, stock.Reserved);
            Assert.True(stock.Available >= 0);
            Assert.Equal(product.Stock.OnHand, stock.OnHand);
        }

        // y (6 units) is in three of four baskets, so demand outran it and it ran out.
        Assert.Equal(0, (await fixture.ReplicaA.GetProductAsync(y.Id)).Stock.Available);
    }

    [Fact]
    public async Task Not_enough_stock_is_409_naming_each_short_line_and_holds_nothing()
    {
        var plenty = await fixture.ReplicaA.CreateProductAsync(stock: 10);
        var scarce = await fixture.ReplicaA.CreateProductAsync(stock: 1);
        var alsoScarce = await fixture.ReplicaA.CreateProductAsync(stock: 2);
        using var client = fixture.ReplicaA.Admin();

        var response = await client.PostAsJsonAsync("/api/inventory/reservations",
            Lines((plenty.Id, 5), (scarce.Id, 2), (alsoScarce.Id, 3)));

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<ProblemDetails>();
        var shortLines = ((JsonElement)problem!.Extensions["shortLines"]!).EnumerateArray()
            .Select(l => (l.GetProperty("productId").GetGuid(), l.GetProperty("requested").GetInt32(), l.GetProperty("available").GetInt32()))
            .ToHashSet();
        Assert.Equal(new HashSet<(Guid, int, int)> { (scarce.Id, 2, 1), (alsoScarce.Id, 3, 2) }, shortLines);
        Assert.Contains(scarce.Id.ToString(), problem.Detail);
        Assert.Equal(0, (await fixture.ReplicaA.GetProductAsync(plenty.Id)).Stock.Reserved);
    }

    [Fact]
    public async Task Invalid_reservations_are_400_with_field_errors()
    {
        using var client = fixture.ReplicaA.Admin();

        var empty = await client.PostAsJsonAsync("/api/inventory/reservations", new { lines = Array.Empty<object>() });
        var badQuantity = await client.PostAsJsonAsync("/api/inventory/reservations", Lines((Guid.NewGuid(), 0)));

        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        Assert.Contains("lines", (await empty.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors.Keys);
        Assert.Equal(HttpStatusCode.BadRequest, badQuantity.StatusCode);
        Assert.Contains("lines[0].quantity", (await badQuantity.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors.Keys);
    }

    [Fact]
    public async Task Commit_takes_the_units_off_on_hand_once_however_often_it_is_called()
    {
        var product = await fixture.ReplicaA.CreateProductAsync(stock: 5);
        await ReserveAsync(product.Id, 2); // another hold, so a double commit would show instead of breaking a check
        var reservation = await ReserveAsync(product.Id, 2);
        using var a = fixture.ReplicaA.Admin();
        using var b = fixture.ReplicaB.Admin();

        var commits = await Task.WhenAll(
            a.PostAsync($"/api/inventory/reservations/{reservation.Id}/commit", null),
            b.PostAsync($"/api/inventory/reservations/{reservation.Id}/commit", null),
            a.PostAsync($"/api/inventory/reservations/{reservation.Id}/commit", null));
        var releaseAfterCommit = await a.PostAsync($"/api/inventory/reservations/{reservation.Id}/release", null);

        Assert.All(commits, c => Assert.Equal(HttpStatusCode.OK, c.StatusCode));
        Assert.Equal(ReservationStatus.Committed, (await commits[0].Content.ReadFromJsonAsync<ReservationResponse>(InventoryApp.Json))!.Status);
        Assert.Equal(HttpStatusCode.Conflict, releaseAfterCommit.StatusCode);
        Assert.Equal(new StockResponse(3, 2, 1), (await fixture.ReplicaB.GetProductAsync(product.Id)).Stock);
    }

    [Fact]
    public async Task Release_returns_the_units_once_however_often_it_is_called()
    {
        var product = await fixture.ReplicaA.CreateProductAsync(stock: 5);
        await ReserveAsync(product.Id, 2); // another hold, so a double release would show instead of breaking a check
        var reservation = await ReserveAsync(product.Id, 2);
        using var a = fixture.ReplicaA.Admin();
        using var b = fixture.ReplicaB.Admin();

        var releases = await Task.WhenAll(
            a.PostAsync($"/api/inventory/reservations/{reservation.Id}/release", null),
            b.PostAsync($"/api/inventory/reservations/{reservation.Id}/release", null),
            b.PostAsync($"/api/inventory/reservations/{reservation.Id}/release", null));
        var commitAfterRelease = await a.PostAsync($"/api/inventory/reservations/{reservation.Id}/commit", null);
        var read = await a.GetFromJsonAsync<ReservationResponse>($"/api/inventory/reservations/{reservation.Id}", InventoryApp.Json);

        Assert.All(releases, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(HttpStatusCode.Conflict, commitAfterRelease.StatusCode);
        Assert.Equal(ReservationStatus.Released, read!.Status);
        Assert.Equal(new StockResponse(5, 2, 3), (await fixture.ReplicaB.GetProductAsync(product.Id)).Stock);
    }

    [Fact]
    public async Task Only_the_admin_key_reserves_commits_or_releases_so_an_anonymous_client_cannot_empty_the_shelves()
    {
        var product = await fixture.ReplicaA.CreateProductAsync(stock: 5);
        var reservation = await ReserveAsync(product.Id, 2);
        using var anonymous = fixture.ReplicaA.Anonymous();

        var reserve = await anonymous.PostAsJsonAsync("/api/inventory/reservations", Lines((product.Id, 3)));
        var commit = await anonymous.PostAsync($"/api/inventory/reservations/{reservation.Id}/commit", null);
        var release = await anonymous.PostAsync($"/api/inventory/reservations/{reservation.Id}/release", null);

        Assert.Equal(HttpStatusCode.Unauthorized, reserve.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, release.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, commit.StatusCode);
        Assert.Equal("application/problem+json", commit.Content.Headers.ContentType?.MediaType);
        Assert.Equal(new StockResponse(5, 2, 3), (await fixture.ReplicaB.GetProductAsync(product.Id)).Stock);
    }

    [Fact]
    public async Task Committing_or_releasing_an_unknown_reservation_is_404()
    {
        using var client = fixture.ReplicaA.Admin();

        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync($"/api/inventory/reservations/{Guid.NewGuid()}/commit", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync($"/api/inventory/reservations/{Guid.NewGuid()}/release", null)).StatusCode);
    }

    [Fact]
    public async Task An_expired_reservation_returns_its_stock_exactly_once_even_with_two_sweeping_replicas()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Inventory:ReservationTtl"] = "00:00:01",
            ["Inventory:ReservationSweepInterval"] = "00:00:00.200",
        };
        await using var sweeperA = fixture.NewReplica(settings: settings);
        await using var sweeperB = fixture.NewReplica(settings: settings);
        sweeperA.Start();
        sweeperB.Start();
        var product = await fixture.ReplicaA.CreateProductAsync(stock: 10);
        // A long-lived hold beside the expiring one, so returning the stock twice would show in
        // Reserved instead of being stopped by the database's Reserved >= 0 check.
        await ReserveAsync(product.Id, 3);
        using var client = sweeperA.Admin();
        var created = await client.PostAsJsonAsync("/api/inventory/reservations", Lines((product.Id, 3)));
        var reservation = (await created.Content.ReadFromJsonAsync<ReservationResponse>(InventoryApp.Json))!;
        Assert.Equal(new StockResponse(10, 6, 4), (await fixture.ReplicaA.GetProductAsync(product.Id)).Stock);

        var expired = await Poll.UntilAsync(
            async () => await client.GetFromJsonAsync<ReservationResponse>($"/api/inventory/reservations/{reservation.Id}", InventoryApp.Json),
            r => r!.Status == ReservationStatus.Expired);
        // A sweeper that listed it just before another one moved it still tries: that must change nothing.
        foreach (var replica in new[] { sweeperA, sweeperB })
        {
            await using var scope = replica.Services.CreateAsyncScope();
            Assert.False(await scope.ServiceProvider.GetRequiredService<StockReservations>().ExpireAsync(reservation.Id, CancellationToken.None));
        }

        Assert.Equal(ReservationStatus.Expired, expired!.Status);
        Assert.Equal(new StockResponse(10, 3, 7), (await fixture.ReplicaB.GetProductAsync(product.Id)).Stock);
        Assert.Equal(HttpStatusCode.Conflict, (await client.PostAsync($"/api/inventory/reservations/{reservation.Id}/commit", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync($"/api/inventory/reservations/{reservation.Id}/release", null)).StatusCode);
        Assert.Equal(new StockResponse(10, 3, 7), (await fixture.ReplicaB.GetProductAsync(product.Id)).Stock);
    }

    private async Task<ReservationResponse> ReserveAsync(Guid productId, int quantity)
    {
        using var client = fixture.ReplicaA.Admin();
        var response = await client.PostAsJsonAsync("/api/inventory/reservations", Lines((productId, quantity)));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<ReservationResponse>(InventoryApp.Json))!;
    }
}
