using System.Net.Http.Json;
using Reference.Gateway.Tests.Support;

namespace Reference.Gateway.Tests;

public sealed class ProxyRoutingTests(BackendFixture backends) : IClassFixture<BackendFixture>, IDisposable
{
    private readonly GatewayHost _gateway = new([backends.Inventory], [backends.Uploads]);

    public void Dispose() => _gateway.Dispose();

    [Fact]
    public async Task Inventory_and_upload_paths_reach_their_own_backend_unchanged()
    {
        using var client = _gateway.CreateRealClient();

        var inventory = await client.GetFromJsonAsync<EchoResponse>("/api/inventory/products?page=2&q=kite");
        var uploads = await client.GetFromJsonAsync<EchoResponse>("/api/uploads/0b7c/status");

        Assert.Equal(("inventory-1", "/api/inventory/products?page=2&q=kite"), (inventory!.Backend, inventory.Path));
        Assert.Equal(("uploads-1", "/api/uploads/0b7c/status"), (uploads!.Backend, uploads.Path));
    }

    [Theory]
    [InlineData("/health")]
    [InlineData("/alive")]
    [InlineData("/api/inventory/%2e%2e/%2e%2e/health")]
    [InlineData("/api/uploads/../../alive")]
    public async Task Backend_health_endpoints_are_not_reachable_through_the_gateway(string rawPath)
    {
        var (status, response) = await RawHttp.GetAsync(_gateway.BaseAddress, rawPath);

        // The gateway's own check answers; a forwarded call would return the backend's text.
        Assert.Equal(200, status);
        Assert.Contains("Healthy", response);
        Assert.DoesNotContain("backend", response);
        Assert.Equal(0, backends.Inventory.Hits.GetValueOrDefault("/alive") + backends.Uploads.Hits.GetValueOrDefault("/alive"));
    }
}
