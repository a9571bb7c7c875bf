using Reference.Tests.Storefront;
using Aspire.Hosting.Testing;
using System.Net;

namespace Reference.AppHost.Tests;

[Collection(StorefrontCollection.Name)]
public sealed class StorefrontStartsTests(StorefrontFixture storefront)
{
    [Fact]
    public void Every_backing_server_database_and_service_replica_is_in_the_model()
    {
        string[] expected =
        [
            "mysql", "inventorydb", "uploaddb", "cache", "messaging", "gateway",
            "inventoryapi-1", "inventoryapi-2", "uploadapi-1", "uploadapi-2", "imageworker-1", "imageworker-2",
        ];
        Assert.Empty(expected.Except(storefront.ResourceNames));
    }

    [Fact]
    public async Task The_gateway_answers_on_its_port()
    {
        using var client = storefront.CreateGatewayClient();
        using var response = await client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("inventoryapi-1")]
    [InlineData("inventoryapi-2")]
    [InlineData("uploadapi-1")]
    [InlineData("uploadapi-2")]
    [InlineData("imageworker-1")]
    [InlineData("imageworker-2")]
    [InlineData("gateway")]
    public async Task Each_service_reports_itself_healthy(string service)
    {
        using var client = storefront.App.CreateHttpClient(service, "http");
        using var response = await client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_gateway_process_does_not_trust_forwarded_headers_from_clients()
    {
        // Aspire enables forwarded headers on every project; at the edge that would let a client
        // choose its own address, and with it its rate-limit bucket.
        var pid = ServiceProcess.Find(storefront.App, "gateway");
        var environment = (await File.ReadAllTextAsync($"/proc/{pid}/environ")).Split('\0')
            .Select(entry => entry.Split('=', 2)).Where(pair => pair.Length == 2).ToDictionary(pair => pair[0], pair => pair[1]);
        Assert.Equal("false", environment["ASPNETCORE_FORWARDEDHEADERS_ENABLED"]);
    }
}
