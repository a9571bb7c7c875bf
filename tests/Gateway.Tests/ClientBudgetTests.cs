using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Reference.Gateway.Limits;
using Reference.Gateway.Tests.Support;
using Xunit.Abstractions;

namespace Reference.Gateway.Tests;

/// <summary>
/// One client cannot spend another's budget or choose its own: forwarded addresses only from
/// trusted proxies, IPv6 by /64, the admin by key, and a cap on requests in flight over all.
/// </summary>
public sealed class ClientBudgetTests(BackendFixture backends, ITestOutputHelper output) : IClassFixture<BackendFixture>
{
    private const string Key = "gateway-tests-admin-key-0123456789abcdef";

    [Fact]
    public async Task A_forged_X_Forwarded_For_lands_in_the_senders_own_bucket_even_with_forwarded_headers_switched_on()
    {
        using var gateway = new GatewayHost([backends.Inventory], [backends.Uploads], new Dictionary<string, string?>
        {
            // What Aspire sets on every project, and what compose used to default to.
            ["FORWARDEDHEADERS_ENABLED"] = "true",
            ["Gateway:ApiRateLimit:PermitLimit"] = "5",
            ["Gateway:ApiRateLimit:Window"] = "00:01:00",
        });
        using var client = gateway.CreateRealClient();

        var statuses = new List<HttpStatusCode>();
        for (var i = 1; i <= 6; i++)
        {
            statuses.Add(await GetAsFromAsync(client, "/api/inventory/products", $"203.0.113.{i}"));
        }

        output.WriteLine($"6 requests, each with another forged X-Forwarded-For: {string.Join(", ", statuses.Select(s => (int)s))}");
        Assert.All(statuses.Take(5), s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[5]);
        using var echo = await client.GetAsync("/api/inventory/products?whoami");
        Assert.Equal(HttpStatusCode.TooManyRequests, echo.StatusCode);
    }

    [Fact]
    public async Task Behind_a_trusted_proxy_each_client_gets_its_own_bucket_and_IPv6_clients_share_one_per_64()
    {
        using var gateway = new GatewayHost([backends.Inventory], [backends.Uploads], new Dictionary<string, string?>
        {
            ["Gateway:TrustedProxies:0"] = "127.0.0.0/8",
            ["Gateway:ApiRateLimit:PermitLimit"] = "2",
            ["Gateway:ApiRateLimit:Window"] = "00:01:00",
        });
        using var client = gateway.CreateRealClient();

        var sameV4 = new[] { "198.51.100.7", "198.51.100.7" };
        var otherV4 = await GetAsFromAsync(client, "/api/inventory/products", "198.51.100.8");
        foreach (var address in sameV4)
        {
            Assert.Equal(HttpStatusCode.OK, await GetAsFromAsync(client, "/api/inventory/products", address));
        }

        var sameSlash64 = new List<HttpStatusCode>();
        foreach (var address in new[] { "2001:db8:1:2::a", "2001:db8:1:2::b", "2001:db8:1:2:ffff::c" })
        {
            sameSlash64.Add(await GetAsFromAsync(client, "/api/inventory/products", address));
        }

        var nextSlash64 = await GetAsFromAsync(client, "/api/inventory/products", "2001:db8:1:3::a");
        using var forwarded = new HttpRequestMessage(HttpMethod.Get, "/api/inventory/products");
        forwarded.Headers.Add("X-Forwarded-For", "198.51.100.9");
        using var echoed = await client.SendAsync(forwarded);
        var echo = await echoed.Content.ReadFromJsonAsync<EchoResponse>();

        output.WriteLine($"three hosts of 2001:db8:1:2::/64: {string.Join(", ", sameSlash64.Select(s => (int)s))}; 2001:db8:1:3::a: {(int)nextSlash64}");
        Assert.Equal(HttpStatusCode.OK, otherV4);
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], sameSlash64);
        Assert.Equal(HttpStatusCode.OK, nextSlash64);
        Assert.Equal("198.51.100.9", echo!.Headers["X-Forwarded-For"]);
    }

    [Fact]
    public async Task Requests_with_the_admin_key_have_their_own_budget_while_anonymous_and_wrong_keys_stay_tight()
    {
        using var gateway = new GatewayHost([backends.Inventory], [backends.Uploads], new Dictionary<string, string?>
        {
            ["Auth:AdminKey"] = Key,
            ["Gateway:UploadRateLimit:PermitLimit"] = "2",
            ["Gateway:UploadRateLimit:Window"] = "00:01:00",
        });
        using var client = gateway.CreateRealClient();

        var admin = new List<HttpStatusCode>();
        for (var i = 0; i < 25; i++)
        {
            admin.Add(await UploadAsync(client, Key));
        }

        var anonymous = new List<HttpStatusCode>();
        for (var i = 0; i < 2; i++)
        {
            anonymous.Add(await UploadAsync(client, null));
        }

        var wrongKey = await UploadAsync(client, Key + "x");
        var anonymousAgain = await UploadAsync(client, null);

        output.WriteLine($"admin: 25 uploads in a minute, {admin.Count(s => s == HttpStatusCode.OK)} passed; " +
                         $"anonymous: {string.Join(", ", anonymous.Select(s => (int)s))}, then wrong key {(int)wrongKey}, anonymous {(int)anonymousAgain}");
        Assert.All(admin, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK], anonymous);
        Assert.Equal(HttpStatusCode.TooManyRequests, wrongKey);
        Assert.Equal(HttpStatusCode.TooManyRequests, anonymousAgain);
    }

    [Fact]
    public void The_default_admin_upload_budget_covers_a_catalogues_photos_and_the_anonymous_one_stays_tight()
    {
        // The numbers ship in appsettings.json, and only there.
        using var gateway = new GatewayHost([backends.Inventory], [backends.Uploads]);
        var defaults = gateway.Services.GetRequiredService<IOptions<RateLimitOptions>>().Value;

        Assert.True(defaults.AdminUploadRateLimit.PermitLimit >= 600 && defaults.AdminUploadRateLimit.Window <= TimeSpan.FromMinutes(1));
        Assert.True(defaults.UploadRateLimit.PermitLimit <= 20);
        Assert.Empty(new GatewayOptions().TrustedProxies);
    }

    [Fact]
    public async Task Past_the_cap_on_requests_in_flight_the_gateway_answers_503_at_once_whatever_the_address()
    {
        using var gateway = new GatewayHost([backends.Inventory], [backends.Uploads], new Dictionary<string, string?>
        {
            ["Gateway:MaxConcurrentRequests"] = "2",
            ["Gateway:ConcurrentRequestQueue"] = "0",
        });
        using var client = gateway.CreateRealClient();

        var slow = Enumerable.Range(0, 2).Select(_ => client.GetAsync("/api/inventory/products?delayMs=3000")).ToList();
        await Task.Delay(500);
        var started = DateTime.UtcNow;
        using var third = await client.GetAsync("/api/inventory/products");
        var waited = DateTime.UtcNow - started;
        using var probe = await client.GetAsync("/alive");

        output.WriteLine($"third request while two are in flight: {(int)third.StatusCode} after {waited.TotalMilliseconds:F0} ms");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, third.StatusCode);
        Assert.Equal("application/problem+json", third.Content.Headers.ContentType!.MediaType);
        Assert.True(third.Headers.RetryAfter is not null);
        Assert.True(waited < TimeSpan.FromSeconds(2), $"waited {waited}");
        Assert.Equal(HttpStatusCode.OK, probe.StatusCode);
        foreach (var response in await Task.WhenAll(slow))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            response.Dispose();
        }
    }

    [Fact]
    public async Task A_client_may_hold_only_a_few_status_streams_open_while_another_client_still_gets_one()
    {
        using var gateway = new GatewayHost([backends.Inventory], [backends.Uploads], new Dictionary<string, string?>
        {
            ["Gateway:TrustedProxies:0"] = "127.0.0.1",
            ["Gateway:EventStreamsPerClient"] = "2",
        });
        using var client = gateway.CreateRealClient();

        var open = new List<HttpResponseMessage>();
        for (var i = 0; i < 2; i++)
        {
            open.Add(await StreamAsFromAsync(client, $"flood-{i}", "198.51.100.20"));
        }

        using var third = await StreamAsFromAsync(client, "flood-2", "198.51.100.20");
        using var otherClient = await StreamAsFromAsync(client, "other", "198.51.100.21");

        output.WriteLine($"streams from one client: {string.Join(", ", open.Select(r => (int)r.StatusCode))}, then {(int)third.StatusCode}; another client: {(int)otherClient.StatusCode}");
        Assert.All(open, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        Assert.Equal("application/problem+json", third.Content.Headers.ContentType!.MediaType);
        Assert.Equal(HttpStatusCode.OK, otherClient.StatusCode);
        open.ForEach(r => r.Dispose());
    }

    private static async Task<HttpResponseMessage> StreamAsFromAsync(HttpClient client, string id, string forwardedFor)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"/api/uploads/{id}/events?pauseMs=10000");
        request.Headers.Add("X-Forwarded-For", forwardedFor);
        return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    [Fact]
    public async Task HSTS_is_sent_only_when_a_trusted_proxy_says_the_request_came_over_TLS()
    {
        using var untrusted = new GatewayHost([backends.Inventory], [backends.Uploads], new Dictionary<string, string?>
        {
            ["FORWARDEDHEADERS_ENABLED"] = "true",
        });
        using var trusted = new GatewayHost([backends.Inventory], [backends.Uploads], new Dictionary<string, string?>
        {
            ["Gateway:TrustedProxies:0"] = "127.0.0.1",
        });

        var claimedByAClient = await HasHstsAsync(untrusted, "https");
        var overTlsFromTheProxy = await HasHstsAsync(trusted, "https");
        var overHttpFromTheProxy = await HasHstsAsync(trusted, "http");

        Assert.False(claimedByAClient);
        Assert.True(overTlsFromTheProxy);
        Assert.False(overHttpFromTheProxy);
    }

    private static async Task<bool> HasHstsAsync(GatewayHost gateway, string proto)
    {
        using var client = gateway.CreateRealClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Add("X-Forwarded-Proto", proto);
        request.Headers.Add("X-Forwarded-For", "198.51.100.1");
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response.Headers.Contains("Strict-Transport-Security");
    }

    private static async Task<HttpStatusCode> GetAsFromAsync(HttpClient client, string path, string forwardedFor)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("X-Forwarded-For", forwardedFor);
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }

    private static async Task<HttpStatusCode> UploadAsync(HttpClient client, string? key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/uploads") { Content = new ByteArrayContent(new byte[10]) };
        if (key is not null)
        {
            request.Headers.Add("X-Api-Key", key);
        }

        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }
}
