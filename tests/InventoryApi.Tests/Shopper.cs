using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Reference.InventoryApi.Apis;

namespace Reference.InventoryApi.Tests;

/// <summary>One browser: a client address (as the gateway forwards it) and a cart token of its own.</summary>
internal sealed class Shopper : IDisposable
{
    private static int _nextAddress = Random.Shared.Next(1 << 20);

    private Shopper(HttpClient http, string address) => (Http, Address) = (http, address);

    public HttpClient Http { get; }
    public string Address { get; }

    /// <summary>A fresh address nobody else in the run uses, so caps counted by address start at zero.</summary>
    public static string NewAddress()
    {
        var n = Interlocked.Increment(ref _nextAddress);
        return $"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}";
    }

    public static async Task<Shopper> StartAsync(WebApplicationFactory<Program> app, string? address = null)
    {
        var http = app.CreateClient();
        address ??= NewAddress();
        http.DefaultRequestHeaders.Add("X-Forwarded-For", address);
        var cart = await http.PostAsync("/api/inventory/carts", null);
        cart.EnsureSuccessStatusCode();
        var token = (await cart.Content.ReadFromJsonAsync<CartTokenResponse>(InventoryApp.Json))!.CartToken;
        http.DefaultRequestHeaders.Add("X-Cart-Token", token);
        return new Shopper(http, address);
    }

    public Task<HttpResponseMessage> HoldAsync(params (Guid ProductId, int Quantity)[] lines) =>
        Http.PutAsJsonAsync("/api/inventory/cart/hold", new { lines = lines.Select(l => new { productId = l.ProductId, quantity = l.Quantity }) });

    public Task<HttpResponseMessage> PlaceOrderAsync(string? idempotencyKey = null, string name = "Ada Lovelace", string email = "ada@example.com")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/inventory/orders") { Content = JsonContent.Create(new { name, email }) };
        request.Headers.Add("Idempotency-Key", idempotencyKey ?? Guid.NewGuid().ToString());
        return Http.SendAsync(request);
    }

    /// <summary>Hold, then order: what "Place order" on the checkout page does.</summary>
    public async Task<HttpResponseMessage> BuyAsync(params (Guid ProductId, int Quantity)[] lines)
    {
        var hold = await HoldAsync(lines);
        return hold.IsSuccessStatusCode ? await PlaceOrderAsync() : hold;
    }

    public void Dispose() => Http.Dispose();
}
